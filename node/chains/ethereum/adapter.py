"""The node's Ethereum adapter: deploy the verifier + registry, submit attestations.

Transactions are built here, signed locally with the account key (eth-account) and sent raw, identically on the
in-process chain and on a real one. Gas limits are explicit: estimating would make the node run the proof's
pairing twice (py-evm computes pairings in Python, ~2 s each on a small machine). When a transaction reverts, it
is replayed once with ``eth_call`` at its block to recover the revert data, which is decoded into a typed error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import AsyncHTTPProvider, AsyncWeb3
from web3.exceptions import ContractCustomError, ContractLogicError, Web3Exception

import contracts

from node.chains.ethereum import calldata
from node.chains.ethereum.errors import (
    CalldataError,
    ChainConnectionError,
    ChainError,
    ContractMismatch,
    DuplicateAttestation,
    ForeignAttestation,
    NoRegistry,
    TransactionReverted,
)
from node.chains.ethereum.deployblock import find_deployment_block
from node.chains.ethereum.fees import FeeConfig, FeeOracle, SignerCannotPay, check_funds, is_insufficient_funds
from node.chains.ethereum.logscan import LogScanner, WindowPolicy
from node.chains.ethereum.provider import FailoverProvider, ProviderPolicy
from node.chains.ethereum.revert import decode_revert
from node.chains.ethereum.txmanager import (
    FeePolicy,
    TransactionDropped,
    wait_confirmed,
    wait_mined,
)

log = logging.getLogger("zkxai.chain")

#: Gas for deploying the registry (measured ~1.0 M).
REGISTRY_DEPLOY_GAS = 1_500_000
#: Gas for one ``attest`` (measured 0.363 M for the first attestation, 0.346 M after; scripts/gas_report.py).
ATTEST_GAS = 600_000
#: Gas for one ``revoke`` / ``revokeModel`` (measured 0.034 M / 0.049 M).
REVOKE_GAS = 100_000
#: Priority fee offered per gas when the chain gives no fee history (1 gwei); see ``fees.FeeConfig``.
PRIORITY_FEE_WEI = 1_000_000_000
#: Times a deployment reorged out before its confirmations is redone before giving up.
MAX_REDEPLOYS = 3


def verifier_deploy_gas(ic_count: int) -> int:
    """Gas for deploying a verifier with ``ic_count`` IC points (measured 1.16 M for 7 points)."""
    return 1_200_000 + 60_000 * ic_count


class RevocationReason(IntEnum):
    """Reason codes zkxai uses with the registry's ``revoke`` / ``revokeModel`` (any uint16 is accepted on chain)."""

    UNSPECIFIED = 0
    MODEL_FAULTY = 1
    INPUT_INVALID = 2
    KEY_COMPROMISED = 3
    SUPERSEDED = 4


@dataclass(frozen=True)
class Deployment:
    """Addresses of a deployed verifier + registry pair and the block of the registry's deployment
    (when the registry was attached with :meth:`EthereumAdapter.attach_registry`: the block given there, default 0;
    it is where event queries start)."""

    verifier: str
    registry: str
    block: int
    #: Gas used by the two deployment transactions (0 when attached).
    verifier_gas: int = 0
    registry_gas: int = 0
    #: The registry's deployment transaction ("" when attached).
    registry_tx: str = ""


@dataclass(frozen=True)
class SubmittedAttestation:
    """A mined, successful ``attest`` transaction, sent by ``attester``."""

    id: bytes
    tx_hash: str
    block_number: int
    gas_used: int
    attester: str


@dataclass(frozen=True)
class SubmittedRevocation:
    """A mined, successful ``revoke`` (``target`` = attestation id) or ``revokeModel`` (``target`` = model hash)."""

    target: bytes
    reason: int
    tx_hash: str
    block_number: int
    gas_used: int


@dataclass(frozen=True)
class MinedTransaction:
    """A mined, successful transaction sent with :meth:`EthereumAdapter.send` (receipt kept for its logs)."""

    tx_hash: str
    block_number: int
    gas_used: int
    contract_address: str | None
    receipt: Mapping[str, Any]


class EthereumAdapter:
    """Async writer for the attestation registry; one signing account, transactions serialised by a lock."""

    def __init__(self, w3: AsyncWeb3, account: LocalAccount, chain_id: int, *, attest_gas: int = ATTEST_GAS,
                 fees: FeePolicy | None = None, fee_config: FeeConfig | None = None,
                 logs: WindowPolicy | None = None, deploy_confirmations: int = 1) -> None:
        self.w3 = w3
        self.account = account
        self.chain_id = chain_id
        self.attest_gas = attest_gas
        #: Fee bumping of stuck transactions and the receipt timeout (see ``txmanager``).
        self.fees = fees if fees is not None else FeePolicy()
        #: EIP-1559 fees from eth_feeHistory, capped at ``fees.max_fee_wei`` (see ``fees``).
        self.oracle = FeeOracle(fee_config or FeeConfig(min_tip_wei=PRIORITY_FEE_WEI), self.fees.max_fee_wei)
        #: Windowed, cached eth_getLogs (see ``logscan``); shared with siblings and the batch submitter.
        self.logs = LogScanner(self._get_logs, logs)
        #: Blocks a deployment must be deep, its block still canonical, before it is returned (and recorded).
        self.deploy_confirmations = max(1, deploy_confirmations)
        #: Deployments redone because a reorg dropped them before their confirmations (for logs and tests).
        self.redeploys = 0
        self._lock = asyncio.Lock()
        self._nonce: int | None = None
        self._deployment: Deployment | None = None
        self._registry_abi = contracts.abi("AttestationRegistry")
        self.in_process = False
        #: The adapter whose nonce counter and send lock this one's transactions go through (itself, or the adapter
        #: it was made a sibling of: another registry, the same account).
        self._owner: EthereumAdapter = self
        #: Cluster mode: checked before every transaction (node.chains.adapter.SendGuard); the last token it gave.
        self.guard: Callable[[], Awaitable[int]] | None = None
        self._fence_token: int | None = None

    # ------------------------------------------------------------------ construction

    @classmethod
    async def in_process(cls, *, attest_gas: int = ATTEST_GAS, fees: FeePolicy | None = None) -> EthereumAdapter:
        """A fresh in-process chain (eth-tester, py-evm). Uses a pre-funded test account's private key, so the
        signing path is the same as on a real chain."""
        from node.chains.ethereum.tester_provider import InProcessChainProvider

        provider = InProcessChainProvider()
        key = provider.ethereum_tester.backend.account_keys[0]
        w3 = AsyncWeb3(provider)
        adapter = cls(w3, Account.from_key(key.to_bytes()), await w3.eth.chain_id, attest_gas=attest_gas, fees=fees)
        adapter.in_process = True
        return adapter

    @classmethod
    async def connect(
        cls, rpc_url: str | Sequence[str], private_key: str, *, registry: str | None = None,
        attest_gas: int = ATTEST_GAS, fees: FeePolicy | None = None, fee_config: FeeConfig | None = None,
        provider: ProviderPolicy | None = None, logs: WindowPolicy | None = None, deploy_confirmations: int = 1,
        chain_id: int | None = None,
    ) -> EthereumAdapter:
        """Connect to JSON-RPC endpoints over HTTP (one URL, or several: failover in order, see ``provider``);
        ``registry`` attaches an already deployed registry; ``chain_id``: the chain every endpoint must be on
        (default: the first endpoint's)."""
        try:
            account = Account.from_key(private_key)
        except (ValueError, TypeError) as exc:
            raise CalldataError("private key is not a valid secp256k1 key") from exc
        urls = [rpc_url] if isinstance(rpc_url, str) else list(rpc_url)
        w3 = AsyncWeb3(FailoverProvider(urls, policy=provider, chain_id=chain_id))
        try:
            chain_id = await w3.eth.chain_id
        except (OSError, asyncio.TimeoutError, Web3Exception) as exc:
            raise ChainConnectionError(f"cannot reach an Ethereum node at {urls[0]}: {exc}") from exc
        adapter = cls(w3, account, chain_id, attest_gas=attest_gas, fees=fees, fee_config=fee_config, logs=logs,
                      deploy_confirmations=deploy_confirmations)
        if registry is not None:
            await adapter.attach_registry(registry)
        return adapter

    def sibling(self) -> EthereumAdapter:
        """An adapter for another registry with this account: its transactions go through this adapter's nonce
        counter and send lock (closing it leaves the shared provider open)."""
        other = EthereumAdapter(self.w3, self.account, self.chain_id, attest_gas=self.attest_gas, fees=self.fees,
                                deploy_confirmations=self.deploy_confirmations)
        other.in_process = self.in_process
        other._owner = self._owner
        other.oracle, other.logs = self.oracle, self.logs
        return other

    async def close(self) -> None:
        """Release the provider's HTTP session, if any (a sibling's is its owner's)."""
        if self._owner is not self:
            return
        provider = self.w3.provider
        if isinstance(provider, (AsyncHTTPProvider, FailoverProvider)):
            await provider.disconnect()

    # ------------------------------------------------------------------ registry

    @property
    def address(self) -> str:
        """The signing account's address."""
        return str(self.account.address)

    @property
    def deployment(self) -> Deployment:
        if self._deployment is None:
            raise NoRegistry("no registry deployed or attached")
        return self._deployment

    async def attach_registry(self, registry: str, *, block: int | None = None) -> Deployment:
        """Use an already deployed registry (checks that it is one and reads its verifier); ``block``: where it was
        deployed, if known (event queries start there); None: found from the chain (:meth:`deployment_block`)."""
        address = AsyncWeb3.to_checksum_address(registry)
        if len(await self.w3.eth.get_code(address)) == 0:
            raise ContractMismatch(f"no contract at registry address {address}")
        contract = self.w3.eth.contract(address=address, abi=self._registry_abi)
        try:
            verifier = await contract.functions.verifier().call()
        except (ContractLogicError, Web3Exception) as exc:
            raise ContractMismatch(f"{address} does not answer like an AttestationRegistry") from exc
        start = block if block is not None else await self.deployment_block(address)
        self._deployment = Deployment(verifier=str(verifier), registry=address, block=start)
        return self._deployment

    async def deployment_block(self, address: str) -> int:
        """Where event queries of a contract attached without a recorded block start: its deployment block, found
        once by a binary search over ``eth_getCode`` (``deployblock``); 0 on the in-process chain (nothing to save)."""
        if self.in_process:
            return 0
        return (await find_deployment_block(self.w3, address)).block

    async def deploy_registry(self, vk_calldata: Sequence[object]) -> Deployment:
        """Deploy a Groth16Verifier holding ``vk_calldata`` (alpha, beta, gamma, delta, ic; EIP-197 G2 order)
        and an AttestationRegistry bound to it. The adapter then attests to this registry.

        Returns once the registry is ``deploy_confirmations`` blocks deep with its block still canonical and the
        verifier's code present; a deployment a reorg dropped meanwhile is redone (at most MAX_REDEPLOYS times)."""
        return await self.deploy_confirmed(lambda: self._deploy_pair(vk_calldata), lambda d: (
            d.registry_tx, d.block, (d.verifier, d.registry)), "registry")

    async def deploy_confirmed(self, deploy: Any, where: Any, what: str) -> Any:
        """Run ``deploy()`` (an async deployment returning its record), then wait for its confirmations; redo it when
        a reorg dropped it. ``where(record)`` gives (deploying tx, its block, addresses that must hold code)."""
        for attempt in range(MAX_REDEPLOYS + 1):
            record = await deploy()
            tx_hash, block, addresses = where(record)
            try:
                await self.confirm(tx_hash, block, self.deploy_confirmations)
                for address in addresses:
                    if len(await self.w3.eth.get_code(address)) == 0:
                        raise TransactionDropped(f"no code at {address} after the {what} deployment's confirmations")
            except TransactionDropped as exc:
                self.redeploys += 1
                log.warning("%s deployment (tx %s, block %d) was reorged out before %d confirmation(s): %s; deploying "
                            "again (attempt %d)", what, tx_hash, block, self.deploy_confirmations, exc, attempt + 2)
                continue
            log.info("%s deployment %s confirmed at depth %d (block %d)", what, tx_hash, self.deploy_confirmations,
                     block)
            return record
        raise TransactionDropped(f"the {what} deployment was reorged out {MAX_REDEPLOYS + 1} times; giving up")

    async def _deploy_pair(self, vk_calldata: Sequence[object]) -> Deployment:
        vk = calldata.verifying_key_words(vk_calldata)
        if len(vk[4]) != calldata.PUBLIC_INPUT_COUNT + 1:
            raise CalldataError(
                f"the registry needs a key for {calldata.PUBLIC_INPUT_COUNT} public inputs, got {len(vk[4]) - 1}"
            )
        verifier_art = contracts.artifact("Groth16Verifier")
        factory = self.w3.eth.contract(abi=verifier_art["abi"], bytecode=verifier_art["bytecode"])
        data = factory.constructor(*_as_lists(vk)).data_in_transaction
        receipt = await self._transact(None, data, verifier_deploy_gas(len(vk[4])), "verifier deployment")
        verifier = str(receipt["contractAddress"])
        verifier_gas = int(receipt["gasUsed"])

        registry_art = contracts.artifact("AttestationRegistry")
        factory = self.w3.eth.contract(abi=registry_art["abi"], bytecode=registry_art["bytecode"])
        data = factory.constructor(verifier).data_in_transaction
        receipt = await self._transact(None, data, REGISTRY_DEPLOY_GAS, "registry deployment")
        self._deployment = Deployment(
            verifier=verifier,
            registry=str(receipt["contractAddress"]),
            block=int(receipt["blockNumber"]),
            verifier_gas=verifier_gas,
            registry_gas=int(receipt["gasUsed"]),
            registry_tx=HexBytes(receipt["transactionHash"]).to_0x_hex(),
        )
        return self._deployment

    async def attest(
        self,
        model_hash: bytes,
        input_digest: int,
        prediction_digest: int,
        predicted_class: int,
        explanation_digest: int,
        a: Sequence[int],
        b: Sequence[Sequence[int]],
        c: Sequence[int],
    ) -> SubmittedAttestation:
        """Submit one attestation; returns once mined. Raises ProofRejected / DuplicateAttestation /
        FieldOverflow (decoded from the registry) or CalldataError (caught here before sending)."""
        deployment = self.deployment
        calldata.public_inputs(model_hash, input_digest, prediction_digest, predicted_class, explanation_digest)
        proof = calldata.proof_words(a, b, c)
        expected_id = calldata.attestation_id(
            model_hash, input_digest, prediction_digest, predicted_class, explanation_digest
        )
        registry = self.w3.eth.contract(address=deployment.registry, abi=self._registry_abi)
        data = registry.encode_abi(
            "attest",
            args=[
                bytes(model_hash),
                input_digest,
                prediction_digest,
                predicted_class,
                explanation_digest,
                *_as_lists(proof),
            ],
        )
        receipt = await self._transact(deployment.registry, data, self.attest_gas, "attest")
        events = registry.events.Attested().process_receipt(receipt)
        if len(events) != 1 or bytes(events[0]["args"]["id"]) != expected_id:
            raise ContractMismatch("the registry did not emit the expected Attested event")
        return SubmittedAttestation(
            id=expected_id,
            tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            attester=self.address,
        )

    async def attest_confirmed(
        self,
        model_hash: bytes,
        input_digest: int,
        prediction_digest: int,
        predicted_class: int,
        explanation_digest: int,
        a: Sequence[int],
        b: Sequence[Sequence[int]],
        c: Sequence[int],
        *,
        confirmations: int = 1,
        max_resubmits: int = 5,
    ) -> SubmittedAttestation:
        """:meth:`attest`, then wait for ``confirmations`` blocks (1 = the including block); when a reorg drops
        the transaction, submit again. Idempotent: the attestation id is fixed by the statement, so each round
        first adopts an attestation already in the registry (a re-included or earlier send) instead of sending."""
        ident = calldata.attestation_id(model_hash, input_digest, prediction_digest, predicted_class,
                                        explanation_digest)
        for _ in range(max_resubmits + 1):
            sent = await self.find_own_attestation(ident)
            if sent is None:
                try:
                    sent = await self.attest(model_hash, input_digest, prediction_digest, predicted_class,
                                             explanation_digest, a, b, c)
                except DuplicateAttestation:
                    continue  # mined meanwhile (an earlier send of ours): the next round adopts it
            try:
                receipt = await self.confirm(sent.tx_hash, sent.block_number, confirmations)
            except TransactionDropped as exc:
                log.warning("attestation 0x%s dropped by a reorg (%s); submitting again", ident.hex(), exc)
                continue
            return SubmittedAttestation(id=ident, tx_hash=sent.tx_hash, block_number=int(receipt["blockNumber"]),
                                        gas_used=int(receipt["gasUsed"]), attester=sent.attester)
        raise TransactionDropped(f"attestation 0x{ident.hex()} dropped {max_resubmits + 1} times; giving up")

    async def confirm(self, tx_hash: str, block_number: int, confirmations: int) -> Mapping[str, Any]:
        """Wait until ``tx_hash`` (seen mined at ``block_number``) is ``confirmations`` deep in the canonical chain;
        returns its receipt. Raises TransactionDropped after a reorg removed it; the adapter's nonce is then
        re-read from the chain (the dropped transaction's nonce is free again)."""
        try:
            return await wait_confirmed(self.w3, tx_hash, block_number, confirmations,
                                        poll_s=max(self.fees.poll_s, 0.1))
        except TransactionDropped:
            async with self._owner._lock:
                self._owner._nonce = None
            raise

    async def find_own_attestation(self, ident: bytes) -> SubmittedAttestation | None:
        """:meth:`find_attestation`, only when this adapter's account attested it: another account's record of the
        same statement raises :class:`ForeignAttestation` (reported, never adopted)."""
        found = await self.find_attestation(ident)
        if found is not None and found.attester.lower() != self.address.lower():
            raise ForeignAttestation(ident, found.attester, found.tx_hash)
        return found

    async def find_attestation(self, ident: bytes) -> SubmittedAttestation | None:
        """The registry's record of ``ident`` as a SubmittedAttestation (its Attested event's transaction), or None.

        The record may be another account's: the caller compares ``attester`` before treating it as its own."""
        registry = self.w3.eth.contract(address=self.deployment.registry, abi=self._registry_abi)
        event = registry.events.Attested()
        try:
            if not await registry.functions.isAttested(_bytes32(ident, "attestation id")).call():
                return None
            record = await registry.functions.getAttestation(ident).call()
            head = int(await self.w3.eth.block_number)
            entry = await self.logs.find_first(self.deployment.registry, [_topic(event), "0x" + ident.hex()],
                                               self.deployment.block, head, hint_block=int(record[3]))
            if entry is None:
                return None
            found = event.process_log(entry)
            receipt = await self.w3.eth.get_transaction_receipt(found["transactionHash"])
        except (OSError, asyncio.TimeoutError) as exc:
            raise ChainConnectionError(f"looking up attestation 0x{ident.hex()}: {exc}") from exc
        except Exception as exc:  # providers and aiohttp wrap a lost connection in errors that are not OSError
            if "connect" in str(exc).lower():
                raise ChainConnectionError(f"looking up attestation 0x{ident.hex()}: {exc}") from exc
            raise
        return SubmittedAttestation(id=ident, tx_hash=HexBytes(found["transactionHash"]).to_0x_hex(),
                                    block_number=int(found["blockNumber"]), gas_used=int(receipt["gasUsed"]),
                                    attester=str(found["args"]["attester"]))

    async def own_attestations(self, from_block: int | None = None) -> list[SubmittedAttestation]:
        """Every attestation this account made in the registry (its Attested events, by the indexed attester topic),
        from the registry's deployment block (or ``from_block``) to the head, in windowed, cached queries."""
        registry = self.w3.eth.contract(address=self.deployment.registry, abi=self._registry_abi)
        event = registry.events.Attested()
        head = int(await self.w3.eth.block_number)
        attester = "0x" + bytes(12).hex() + self.address[2:].lower()
        start = self.deployment.block if from_block is None else from_block
        entries = await self.logs.scan(self.deployment.registry, [_topic(event), None, None, attester], start, head)
        out = []
        for entry in entries:
            found = event.process_log(entry)
            out.append(SubmittedAttestation(id=bytes(found["args"]["id"]),
                                            tx_hash=HexBytes(found["transactionHash"]).to_0x_hex(),
                                            block_number=int(found["blockNumber"]), gas_used=0,
                                            attester=str(found["args"]["attester"])))
        return out

    async def _get_logs(self, params: dict[str, Any]) -> list[Any]:
        return list(await self.w3.eth.get_logs(params))  # type: ignore[arg-type]

    async def revoke(self, attestation_id: bytes, reason: int = RevocationReason.UNSPECIFIED) -> SubmittedRevocation:
        """Revoke one attestation with a reason code (the signer must be its attester).
        Raises NotAuthorized / AlreadyRevoked / AttestationNotFound (decoded from the registry)."""
        ident = _bytes32(attestation_id, "attestation id")
        code = revocation_reason(reason)
        registry = self.w3.eth.contract(address=self.deployment.registry, abi=self._registry_abi)
        data = registry.encode_abi("revoke", args=[ident, code])
        receipt = await self._transact(self.deployment.registry, data, REVOKE_GAS, "revoke")
        events = registry.events.Revoked().process_receipt(receipt)
        if len(events) != 1 or bytes(events[0]["args"]["id"]) != ident:
            raise ContractMismatch("the registry did not emit the expected Revoked event")
        return submitted_revocation(ident, code, receipt)

    async def revoke_model(self, model_hash: bytes, reason: int = RevocationReason.MODEL_FAULTY) -> SubmittedRevocation:
        """Revoke every attestation of ``model_hash``, past and future (the signer must be the registry owner)."""
        model = calldata.model_hash_bytes(model_hash)
        code = revocation_reason(reason)
        registry = self.w3.eth.contract(address=self.deployment.registry, abi=self._registry_abi)
        data = registry.encode_abi("revokeModel", args=[model, code])
        receipt = await self._transact(self.deployment.registry, data, REVOKE_GAS, "revokeModel")
        events = registry.events.ModelRevoked().process_receipt(receipt)
        if len(events) != 1 or bytes(events[0]["args"]["modelHash"]) != model:
            raise ContractMismatch("the registry did not emit the expected ModelRevoked event")
        return submitted_revocation(model, code, receipt)

    async def send(self, to: str | None, data: str, gas: int, what: str) -> MinedTransaction:
        """Send any transaction (``to=None`` deploys) from the adapter's account with an explicit gas limit; used for
        the EAS contracts (``node.chains.ethereum.eas``) and examples. Reverts are decoded into typed errors."""
        receipt = await self._transact(to, data, gas, what)
        address = receipt.get("contractAddress")
        return MinedTransaction(
            tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            contract_address=str(address) if address else None,
            receipt=receipt,
        )

    # ------------------------------------------------------------------ transactions

    async def _transact(self, to: str | None, data: str, gas: int, what: str) -> Mapping[str, Any]:
        """Sign and send one transaction, wait for its receipt, decode a revert into a typed error."""
        if self._owner is not self:
            return await self._owner._transact(to, data, gas, what)
        async with self._lock:  # nonce allocation and sending are serialised; waiting is not
            if self.guard is not None:  # raises (nothing signed) when this replica is no longer the submitter
                token = await self.guard()
                if token != self._fence_token:  # a new holder: the nonce is whatever the chain's pool says now
                    self._fence_token, self._nonce = token, None
            try:
                fees = await self.oracle.suggest(self.w3)
                await check_funds(self.w3, self.account.address, gas, fees.max_fee)
                if self._nonce is None:
                    self._nonce = await self.w3.eth.get_transaction_count(self.account.address, "pending")
                tx: dict[str, Any] = {
                    "type": 2,
                    "chainId": self.chain_id,
                    "nonce": self._nonce,
                    "gas": gas,
                    "maxPriorityFeePerGas": fees.priority,
                    "maxFeePerGas": fees.max_fee,
                    "value": 0,
                    "data": data,
                }
                if to is not None:
                    tx["to"] = to
                signed = self.account.sign_transaction(tx)
                tx_hash = await self.w3.eth.send_raw_transaction(signed.raw_transaction)
                self._nonce += 1
            except (OSError, asyncio.TimeoutError) as exc:
                self._nonce = None
                raise ChainConnectionError(f"{what}: {exc}") from exc
            except Web3Exception as exc:
                self._nonce = None
                if is_insufficient_funds(exc):
                    raise SignerCannotPay(f"{what}: the signer {self.address} cannot pay: {exc}",
                                          address=self.address) from exc
                raise ChainError(f"{what} was not accepted: {exc}") from exc
        try:  # fee-bumps the nonce while it has no receipt; the receipt is of whichever version was mined
            receipt, tx = await wait_mined(self.w3, self.account, tx, bytes(tx_hash), self.fees, what)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ChainConnectionError(f"{what}: {exc}") from exc
        except ChainError:
            async with self._lock:  # stuck or taken nonce: the next transaction re-reads it from the pool
                self._nonce = None
            raise
        if int(receipt["status"]) != 1:
            raise await self._revert_reason(tx, int(receipt["blockNumber"]), int(receipt["gasUsed"]), what)
        return receipt

    async def _revert_reason(self, tx: Mapping[str, Any], block: int, gas_used: int, what: str) -> ChainError:
        """Replay a reverted transaction as an ``eth_call`` on the state after its block to recover the revert
        data (post-state, so a duplicate attested earlier in the same block still reads as AlreadyAttested)."""
        call = {"from": self.account.address, "data": tx["data"], "gas": tx["gas"]}
        if "to" in tx:
            call["to"] = tx["to"]
        try:
            await self.w3.eth.call(call, block)  # type: ignore[arg-type]
        except ContractCustomError as exc:
            return decode_revert(exc.data, what)
        except ContractLogicError as exc:
            return decode_revert(exc.data, what) if isinstance(exc.data, str) else TransactionReverted(
                f"{what} reverted: {exc}"
            )
        except Web3Exception as exc:
            return TransactionReverted(f"{what} reverted (replay failed: {exc})")
        if gas_used >= int(tx["gas"]):
            return TransactionReverted(f"{what} ran out of gas (limit {tx['gas']})", error_name="OutOfGas")
        return TransactionReverted(f"{what} reverted, but succeeds when replayed after its block")


def _topic(event: Any) -> str:
    """0x-hex topic 0 of a web3 contract event."""
    topic = event.topic
    return topic if isinstance(topic, str) else HexBytes(topic).to_0x_hex()


def _bytes32(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise CalldataError(f"{what} must be exactly 32 bytes")
    return bytes(value)


def revocation_reason(value: object) -> int:
    """A registry revocation reason code (uint16), checked before sending."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**16:
        raise CalldataError("a revocation reason is an int in [0, 65536)")
    return int(value)


def submitted_revocation(target: bytes, reason: int, receipt: Mapping[str, Any]) -> SubmittedRevocation:
    """The mined revocation of ``target`` read from its receipt."""
    return SubmittedRevocation(
        target=target,
        reason=reason,
        tx_hash=HexBytes(receipt["transactionHash"]).to_0x_hex(),
        block_number=int(receipt["blockNumber"]),
        gas_used=int(receipt["gasUsed"]),
    )


def _as_lists(value: object) -> Any:
    """Nested tuples -> nested lists (what web3's ABI encoder expects for fixed arrays)."""
    if isinstance(value, (tuple, list)):
        return [_as_lists(v) for v in value]
    return value
