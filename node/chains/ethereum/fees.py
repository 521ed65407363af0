"""EIP-1559 fees from the chain (``eth_feeHistory``) and the signer's ability to pay them.

:class:`FeeOracle` asks ``eth_feeHistory`` for the last ``history_blocks`` blocks and the ``tip_percentile``-th
priority fee paid in each: the tip offered is the median of those, clamped to ``[min_tip_wei, max_tip_wei]``; the
max fee is ``base_fee_headroom`` x the next block's base fee (the last entry of ``baseFeePerGas``) plus the tip, capped
at the fee policy's ``max_fee_wei``. A headroom of 2 survives six full blocks of +12.5 % base fee. A chain without
``eth_feeHistory`` (the in-process eth-tester chain) falls back to the latest block's base fee.

:func:`check_funds` raises :class:`SignerCannotPay` before signing when the account's balance does not cover
``gas x maxFeePerGas`` (what the pool demands); :func:`is_insufficient_funds` recognises the pool's own refusal.
"""

from __future__ import annotations

import logging
import statistics
import time
from dataclasses import dataclass

from web3 import AsyncWeb3
from web3.exceptions import Web3Exception

from node.chains.ethereum.errors import ChainError

log = logging.getLogger("zkxai.chain.fees")

GWEI = 10**9


class SignerCannotPay(ChainError):
    """The signing account's balance does not cover a transaction's maximum cost: fund it (nothing was sent)."""

    status = 503
    code = "signer_unfunded"

    def __init__(self, message: str, *, address: str = "", balance: int = 0, needed: int = 0) -> None:
        super().__init__(message)
        self.address = address
        self.balance = balance
        self.needed = needed


@dataclass(frozen=True)
class FeeConfig:
    """How tips and max fees are chosen (config ``chain.tip_percentile``, ``chain.base_fee_headroom``,
    ``chain.min_tip_gwei``, ``chain.max_tip_gwei``; the cap is ``chain.max_fee_gwei``)."""

    tip_percentile: float = 50.0
    history_blocks: int = 10
    base_fee_headroom: float = 2.0
    min_tip_wei: int = GWEI // 10
    max_tip_wei: int = 5 * GWEI
    #: Seconds a suggestion is reused (about one block).
    cache_s: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.tip_percentile <= 100 or not 1 <= self.history_blocks <= 1024:
            raise ValueError("tip_percentile must be in 0..100 and history_blocks in 1..1024")
        if self.base_fee_headroom < 1 or not 0 <= self.min_tip_wei <= self.max_tip_wei:
            raise ValueError("base_fee_headroom must be >= 1 and 0 <= min_tip <= max_tip")


@dataclass(frozen=True)
class Fees:
    """One suggestion: ``priority`` (maxPriorityFeePerGas), ``max_fee`` (maxFeePerGas), the next ``base_fee``."""

    priority: int
    max_fee: int
    base_fee: int

    @property
    def includable(self) -> bool:
        """Whether ``max_fee`` covers the next block's base fee (else the cap keeps the transaction waiting)."""
        return self.max_fee >= self.base_fee


class FeeOracle:
    """Fee suggestions for one chain (see the module docstring); ``cap_wei``: the max fee never exceeded."""

    def __init__(self, config: FeeConfig, cap_wei: int) -> None:
        self.config = config
        self.cap_wei = cap_wei
        self._last: tuple[float, Fees] | None = None

    async def suggest(self, w3: AsyncWeb3) -> Fees:
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < self.config.cache_s:
            return self._last[1]
        cfg = self.config
        try:
            history = await w3.eth.fee_history(cfg.history_blocks, "latest", [cfg.tip_percentile])
            base_fee = int(history["baseFeePerGas"][-1])
            tips = [int(r[0]) for r in history.get("reward") or [] if r]
            tip = int(statistics.median(tips)) if tips else cfg.min_tip_wei
        except (Web3Exception, NotImplementedError, KeyError, IndexError, TypeError, ValueError):
            latest = await w3.eth.get_block("latest")
            base_fee, tip = int(latest.get("baseFeePerGas", 0) or 0), cfg.min_tip_wei
        tip = min(max(tip, cfg.min_tip_wei), cfg.max_tip_wei)
        max_fee = min(int(base_fee * cfg.base_fee_headroom) + tip, self.cap_wei)
        fees = Fees(min(tip, max_fee), max_fee, base_fee)
        if not fees.includable:
            log.warning("the fee cap %.3f gwei is below the next base fee %.3f gwei: transactions wait until the base "
                        "fee falls (raise chain.max_fee_gwei to pay more)", self.cap_wei / GWEI, base_fee / GWEI)
        self._last = (now, fees)
        return fees


async def check_funds(w3: AsyncWeb3, address: str, gas: int, max_fee: int) -> int:
    """The balance of ``address`` (pending state); :class:`SignerCannotPay` when it is below ``gas x max_fee``."""
    balance = int(await w3.eth.get_balance(address, "pending"))
    needed = gas * max_fee
    if balance < needed:
        raise SignerCannotPay(
            f"the signer {address} holds {balance / 1e18:.6f} ETH; a transaction may cost up to "
            f"{needed / 1e18:.6f} ETH ({gas} gas x {max_fee / GWEI:.3f} gwei): fund the signer", address=address,
            balance=balance, needed=needed)
    return balance


def is_insufficient_funds(exc: BaseException) -> bool:
    """Whether a pool refused a transaction for lack of funds (geth, reth, anvil, Erigon wordings)."""
    text = str(exc).lower()
    return "insufficient funds" in text or "insufficient balance" in text or "lack of funds" in text


__all__ = ["FeeConfig", "FeeOracle", "Fees", "SignerCannotPay", "check_funds", "is_insufficient_funds"]
