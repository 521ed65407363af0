"""Getting a signed transaction mined and kept: fee bumping of stuck transactions and reorg detection.

Fee bumping: a type-2 transaction that has no receipt ``bump_after_s`` after it was sent is re-signed with the
SAME nonce and both ``maxPriorityFeePerGas`` and ``maxFeePerGas`` raised by at least 12.5 % (the replacement
rule of geth's pool, which anvil and reth accept too), capped at ``max_fee_wei``. Every hash sent for the nonce
is kept: whichever of them is mined (the original may still win) is the receipt returned.

Reorg detection: :func:`wait_confirmed` waits until a mined transaction is ``confirmations`` blocks deep and
checks that it is still in the canonical chain (receipt present, same block hash at its height); when it is not,
it raises :class:`TransactionDropped` and the caller re-submits (idempotently: the attestation id is fixed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import AsyncWeb3
from web3.exceptions import TransactionNotFound, Web3Exception

from node.chains.ethereum.errors import (
    ChainConnectionError,
    ChainError,
)

log = logging.getLogger("zkxai.chain.tx")

#: geth's default price bump for a replacement is 10 %; 12.5 % (the EIP-1559 base-fee step) clears every pool.
MIN_BUMP_NUMERATOR, MIN_BUMP_DENOMINATOR = 1125, 1000


class TransactionDropped(ChainError):
    """A transaction that had been mined is no longer in the canonical chain (reorg): re-submit it."""

    code = "transaction_dropped"


class _Refused(Exception):
    """The pool refused a replacement (not an error of the transaction: the hashes already sent still count)."""


@dataclass(frozen=True)
class FeePolicy:
    """When and how far a stuck transaction's fees are raised, and how long its receipt is awaited."""

    #: Seconds without a receipt before the transaction is re-signed with higher fees (again after each bump).
    bump_after_s: float = 15.0
    #: Fee multiplier per bump as a fraction; at least 1.125 (checked), so every replacement is accepted.
    bump_numerator: int = MIN_BUMP_NUMERATOR
    bump_denominator: int = MIN_BUMP_DENOMINATOR
    #: Upper bound of ``maxFeePerGas`` in wei (100 gwei); once reached the transaction waits without bumping.
    max_fee_wei: int = 100_000_000_000
    #: Seconds to wait for a receipt of any of the transaction's hashes before giving up.
    receipt_timeout_s: float = 120.0
    #: Seconds between receipt / head polls.
    poll_s: float = 0.1

    def __post_init__(self) -> None:
        if self.bump_numerator * MIN_BUMP_DENOMINATOR < MIN_BUMP_NUMERATOR * self.bump_denominator:
            raise ValueError("a fee bump must raise fees by at least 12.5 %")
        if self.bump_after_s <= 0 or self.receipt_timeout_s <= 0 or self.poll_s <= 0 or self.max_fee_wei <= 0:
            raise ValueError("fee policy durations and the fee cap must be positive")


def bumped_fees(priority_fee: int, max_fee: int, base_fee: int, policy: FeePolicy) -> tuple[int, int] | None:
    """The (maxPriorityFeePerGas, maxFeePerGas) of a replacement, or None when the cap forbids a valid one.

    Both fees rise by the policy's factor (rounded up); the max fee also covers twice the current base fee so the
    replacement is includable. A replacement whose fees would not both rise by >= 12.5 % under the cap is refused
    by the pool, so None is returned instead of a transaction that cannot replace the original."""
    num, den = policy.bump_numerator, policy.bump_denominator
    priority = -(-priority_fee * num // den)
    fee = max(-(-max_fee * num // den), 2 * base_fee + priority)
    fee = min(fee, policy.max_fee_wei)
    floor_priority = -(-priority_fee * MIN_BUMP_NUMERATOR // MIN_BUMP_DENOMINATOR)
    floor_fee = -(-max_fee * MIN_BUMP_NUMERATOR // MIN_BUMP_DENOMINATOR)
    priority = min(priority, fee)
    if fee < floor_fee or priority < floor_priority:
        return None
    return priority, fee


async def wait_mined(
    w3: AsyncWeb3, account: LocalAccount, tx: dict[str, Any], first_hash: bytes, policy: FeePolicy, what: str
) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """Wait for a receipt of ``tx`` (sent as ``first_hash``) or of any fee-bumped replacement sent here.

    Returns the receipt and the transaction that was actually mined. Raises ChainError when no receipt comes
    within ``policy.receipt_timeout_s`` or when the nonce was consumed by a transaction that is not ours."""
    sent: dict[bytes, dict[str, Any]] = {bytes(first_hash): tx}
    current = tx
    start = last_send = time.monotonic()
    capped = False
    while True:
        for tx_hash, signed_tx in list(sent.items()):
            receipt = await _receipt(w3, tx_hash, what)
            if receipt is not None:
                if len(sent) > 1:
                    log.info("%s: nonce %d mined as %s after %d fee bump(s)", what, tx["nonce"],
                             HexBytes(tx_hash).to_0x_hex(), len(sent) - 1)
                return receipt, signed_tx
        now = time.monotonic()
        if now - start > policy.receipt_timeout_s:
            hashes = ", ".join(HexBytes(h).to_0x_hex() for h in sent)
            raise ChainError(f"{what}: no receipt for nonce {tx['nonce']} ({hashes}) within "
                             f"{policy.receipt_timeout_s:.0f} s")
        if now - last_send >= policy.bump_after_s:
            last_send = now
            if await _nonce_consumed(w3, account, int(tx["nonce"]), what):
                if any([await _receipt(w3, h, what) is not None for h in sent]):
                    continue  # mined between the two reads: the next round returns it
                raise ChainError(f"{what}: nonce {tx['nonce']} was used by a transaction this node did not send")
            if not capped:
                try:
                    replacement = await _replacement(w3, account, current, policy, what)
                except _Refused:
                    pass  # keep waiting on the hashes sent; the next bump retries from the same fees
                else:
                    if replacement is None:
                        capped = True
                        log.warning("%s: nonce %d stuck, fee cap %d wei reached; waiting without bumping", what,
                                    tx["nonce"], policy.max_fee_wei)
                    else:
                        new_hash, current = replacement
                        sent[new_hash] = current
        await asyncio.sleep(policy.poll_s)


async def _replacement(
    w3: AsyncWeb3, account: LocalAccount, tx: dict[str, Any], policy: FeePolicy, what: str
) -> tuple[bytes, dict[str, Any]] | None:
    """Sign and send ``tx`` again with bumped fees; None when the fee cap forbids it."""
    try:
        latest = await w3.eth.get_block("latest")
    except (OSError, asyncio.TimeoutError) as exc:
        raise ChainConnectionError(f"{what}: {exc}") from exc
    base_fee = int(latest.get("baseFeePerGas", 0) or 0)
    fees = bumped_fees(int(tx["maxPriorityFeePerGas"]), int(tx["maxFeePerGas"]), base_fee, policy)
    if fees is None:
        return None
    bumped = {**tx, "maxPriorityFeePerGas": fees[0], "maxFeePerGas": fees[1]}
    signed = account.sign_transaction(bumped)
    try:
        new_hash = bytes(await w3.eth.send_raw_transaction(signed.raw_transaction))
    except (OSError, asyncio.TimeoutError) as exc:
        raise ChainConnectionError(f"{what}: {exc}") from exc
    except Web3Exception as exc:
        # "nonce too low": one of ours was mined meanwhile; "underpriced": a pool with a stricter rule. Either way
        # keep waiting on the hashes already sent.
        log.warning("%s: fee bump for nonce %d refused (%s)", what, tx["nonce"], exc)
        raise _Refused from exc
    log.warning("%s: nonce %d had no receipt; resent as %s with priority fee %d -> %d wei, max fee %d -> %d wei",
                what, tx["nonce"], HexBytes(new_hash).to_0x_hex(), tx["maxPriorityFeePerGas"], fees[0],
                tx["maxFeePerGas"], fees[1])
    return new_hash, bumped


async def _receipt(w3: AsyncWeb3, tx_hash: bytes, what: str) -> Mapping[str, Any] | None:
    try:
        receipt = await w3.eth.get_transaction_receipt(HexBytes(tx_hash))
    except TransactionNotFound:
        return None
    except (OSError, asyncio.TimeoutError) as exc:
        raise ChainConnectionError(f"{what}: {exc}") from exc
    if receipt is None or receipt.get("blockNumber") is None:
        return None
    return receipt


async def _nonce_consumed(w3: AsyncWeb3, account: LocalAccount, nonce: int, what: str) -> bool:
    try:
        return int(await w3.eth.get_transaction_count(account.address, "latest")) > nonce
    except (OSError, asyncio.TimeoutError) as exc:
        raise ChainConnectionError(f"{what}: {exc}") from exc


async def wait_confirmed(
    w3: AsyncWeb3, tx_hash: str, block_number: int, confirmations: int, *, poll_s: float = 0.5,
    timeout_s: float | None = None,
) -> Mapping[str, Any]:
    """Wait until ``tx_hash`` is ``confirmations`` blocks deep (1 = its including block) in the canonical chain.

    ``block_number`` is the height the caller saw it mined at. Returns the receipt at the confirmed depth. Raises
    :class:`TransactionDropped` when the transaction left the canonical chain (receipt gone, failed after being
    re-included, or the block at its height replaced), ChainError when the depth is not reached in
    ``timeout_s`` (default 60 s + 30 s per confirmation)."""
    if confirmations < 1:
        raise ValueError("confirmations must be >= 1")
    what = f"confirming {tx_hash}"
    receipt = await _receipt(w3, HexBytes(tx_hash), what)
    if receipt is None or int(receipt["status"]) != 1:
        raise TransactionDropped(f"{tx_hash} is no longer in the chain (mined at block {block_number})")
    if confirmations == 1:
        return receipt
    deadline = time.monotonic() + (timeout_s if timeout_s is not None else 60.0 + 30.0 * confirmations)
    height, block_hash = int(receipt["blockNumber"]), bytes(receipt["blockHash"])
    while True:
        try:
            head = int(await w3.eth.block_number)
            canonical = await w3.eth.get_block(height) if head >= height else None
        except (OSError, asyncio.TimeoutError) as exc:
            raise ChainConnectionError(f"{what}: {exc}") from exc
        except Web3Exception:  # the block at that height is gone (the chain got shorter)
            canonical = None
        if canonical is None or bytes(canonical["hash"]) != block_hash:
            again = await _receipt(w3, HexBytes(tx_hash), what)
            if again is None or int(again["status"]) != 1:
                raise TransactionDropped(f"{tx_hash} was reorged out of block {height}")
            log.info("%s: re-included at block %d after a reorg (was %d)", tx_hash, int(again["blockNumber"]),
                     height)
            receipt, height, block_hash = again, int(again["blockNumber"]), bytes(again["blockHash"])
            continue
        if head - height + 1 >= confirmations:
            return receipt
        if time.monotonic() > deadline:
            raise ChainError(f"{tx_hash}: only {head - height + 1} of {confirmations} confirmations in time")
        await asyncio.sleep(poll_s)
