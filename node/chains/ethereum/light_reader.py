"""The verifier CLI's chain reads without web3: the same checks as :mod:`node.chains.ethereum.reader`, in three round trips.

``zkxai verify --rpc-url`` is a short process; with web3 most of its time went into importing web3 and
eth-account, and then into nine sequential calls. Here the calls go through
:class:`~node.chains.ethereum.jsonrpc.JsonRpc` (standard library) in batches:

1. ``eth_getCode(registry)``, ``getAttestation(id)``, ``verifier()``, ``eth_blockNumber``;
2. ``modelRevocation(modelHash)``, ``eth_getLogs`` (the ``Attested`` event of the id in the record's block);
3. ``eth_getCode(verifier)``, ``verifyingKey()``.

The ABI words are decoded by hand for exactly these calls; selectors and the event topic are computed from the
committed ABIs (``contracts``), and each call's output types are compared with the ABI, so a contract change
fails loudly (:class:`~node.chains.ethereum.errors.ContractMismatch`) instead of being misread. Every word is checked
(padding of addresses and small integers, lengths, offsets), the id is recomputed from the record and its event,
and reverts are decoded into the typed errors of :mod:`node.chains.ethereum.revert`. ``tests/test_chain_light_reader.py``
compares the results with the web3 reader's.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import contracts

from . import calldata
from .errors import AttestationNotFound, ChainConnectionError, ChainError, ContractMismatch
from .jsonrpc import JsonRpc, RpcCallError
from .records import OnchainAttestation

WORD = 32


def keccak256(data: bytes) -> bytes:
    """Keccak-256 (Ethereum's, not SHA3-256): pycryptodome's when present (a fast import), else eth-utils'."""
    try:
        from Crypto.Hash import keccak
    except ImportError:  # pragma: no cover - pycryptodome comes with web3's dependencies
        from eth_utils import keccak as eth_keccak

        return bytes(eth_keccak(data))
    return keccak.new(digest_bits=256, data=data).digest()


def checksum_address(raw: bytes) -> str:
    """EIP-55 mixed-case form of a 20-byte address."""
    hex_addr = raw.hex()
    digest = keccak256(hex_addr.encode()).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hex_addr))


def parse_address(address: object) -> str:
    """``0x`` + 40 hex digits (any case) -> checksummed; :class:`CalldataError` otherwise."""
    if isinstance(address, str) and address.startswith(("0x", "0X")) and len(address) == 42:
        try:
            return checksum_address(bytes.fromhex(address[2:]))
        except ValueError:
            pass
    raise calldata.CalldataError(f"not an Ethereum address: {address!r}")


# ----------------------------------------------------------------------------- ABI (from the committed artifacts)
def _canonical_type(item: dict[str, Any]) -> str:
    t = str(item["type"])
    if t.startswith("tuple"):
        return "(" + ",".join(_canonical_type(c) for c in item["components"]) + ")" + t[len("tuple") :]
    return t


def _entry(contract: str, kind: str, name: str) -> dict[str, Any]:
    for item in contracts.abi(contract):
        if item.get("type") == kind and item.get("name") == name:
            return item
    raise ContractMismatch(f"the {contract} ABI has no {kind} {name}")


@lru_cache(maxsize=None)
def _selector(contract: str, name: str, outputs: tuple[str, ...]) -> bytes:
    """4-byte selector of ``contract.name``, after checking its outputs are ``outputs`` (what we decode)."""
    item = _entry(contract, "function", name)
    got = tuple(_canonical_type(o) for o in item.get("outputs", []))
    if got != outputs:
        raise ContractMismatch(f"{contract}.{name} returns {got}, this reader decodes {outputs}")
    signature = f"{name}({','.join(_canonical_type(i) for i in item['inputs'])})"
    return keccak256(signature.encode())[:4]


@lru_cache(maxsize=None)
def _topic(contract: str, name: str, types: str) -> bytes:
    """topic[0] of event ``contract.name``, after checking its parameter types are ``types`` (what we decode)."""
    item = _entry(contract, "event", name)
    got = "(" + ",".join(_canonical_type(i) for i in item["inputs"]) + ")"
    if got != types:
        raise ContractMismatch(f"{contract}.{name} has parameters {got}, this reader decodes {types}")
    return keccak256(f"{name}{got}".encode())


@lru_cache(maxsize=None)
def _error_selector(contract: str, name: str) -> bytes:
    item = _entry(contract, "error", name)
    return keccak256(f"{name}({','.join(_canonical_type(i) for i in item['inputs'])})".encode())[:4]


GET_ATTESTATION = ("AttestationRegistry", "getAttestation",
                   ("(bytes32,address,uint48,uint48,uint64,bool,uint48,uint16)",))
MODEL_REVOCATION = ("AttestationRegistry", "modelRevocation", ("bool", "uint48", "uint16"))
VERIFIER = ("AttestationRegistry", "verifier", ("address",))
VERIFYING_KEY = ("Groth16Verifier", "verifyingKey",
                 ("uint256[2]", "uint256[2][2]", "uint256[2][2]", "uint256[2][2]", "uint256[2][]"))
ATTESTED_TYPES = "(bytes32,bytes32,address,uint256,uint256,uint256,uint256,uint256[8])"


# ----------------------------------------------------------------------------- words
def _hex_bytes(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise ChainConnectionError(f"{what}: expected 0x-prefixed hex data, got {str(value)[:80]!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError as exc:
        raise ChainConnectionError(f"{what}: malformed hex data") from exc


def _quantity(value: object, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x") or len(value) < 3:
        raise ChainConnectionError(f"{what}: expected a 0x quantity, got {str(value)[:80]!r}")
    try:
        return int(value, 16)
    except ValueError as exc:
        raise ChainConnectionError(f"{what}: malformed quantity") from exc


def _words(data: bytes, count: int, what: str) -> list[int]:
    if len(data) < count * WORD or len(data) % WORD:
        raise ContractMismatch(f"{what}: {len(data)} bytes of return data, expected {count} words")
    return [int.from_bytes(data[i : i + WORD], "big") for i in range(0, len(data), WORD)]


def _uint(word: int, bits: int, what: str) -> int:
    if word >> bits:
        raise ContractMismatch(f"{what} does not fit uint{bits}")
    return word


def _address(word: int, what: str) -> str:
    return checksum_address(_uint(word, 160, what).to_bytes(20, "big"))


def _bool(word: int, what: str) -> bool:
    if word not in (0, 1):
        raise ContractMismatch(f"{what} is not a bool")
    return word == 1


def _call_params(to: str, selector: bytes, args: bytes = b"") -> list[Any]:
    return [{"to": to, "data": "0x" + (selector + args).hex()}, "latest"]


def _returned(out: Any, what: str) -> bytes:
    """Return data of an ``eth_call``; a revert becomes its typed error."""
    if isinstance(out, RpcCallError):
        data = out.revert_data
        if data is not None and len(data) >= 10:
            raw = bytes.fromhex(data[2:])
            if raw[:4] == _error_selector("AttestationRegistry", "UnknownAttestation"):
                ident = raw[4:36].hex() if len(raw) >= 36 else "?"
                raise AttestationNotFound(f"no attestation 0x{ident} on the registry")
            if raw[:4] not in (keccak256(b"Error(string)")[:4], keccak256(b"Panic(uint256)")[:4]):
                from .revert import decode_revert  # eth-abi: only on this (rare) path

                raise decode_revert(raw, what) from out
        if "revert" in out.rpc_message.lower():
            raise ContractMismatch(f"{what} reverted: {out.rpc_message}") from out
        raise ChainConnectionError(f"{what}: {out}") from out
    return _hex_bytes(out, what)


def _code(out: Any, address: str, name: str) -> None:
    if isinstance(out, RpcCallError):
        raise ChainConnectionError(f"cannot read from the chain: {out}") from out
    if len(_hex_bytes(out, "eth_getCode")) == 0:
        raise ContractMismatch(f"no contract at {address} (expected {name})")


# ----------------------------------------------------------------------------- the reader
class LightReader:
    """Reads one registry's records and its verifier's key over :class:`JsonRpc` (``url`` or a client).

    Results of ``eth_getCode`` and ``verifier()`` are remembered for the reader's life (one CLI run), so the
    key read after the record costs one round trip."""

    def __init__(self, rpc: JsonRpc | str, *, timeout: float = 30.0) -> None:
        self.rpc = rpc if isinstance(rpc, JsonRpc) else JsonRpc(rpc, timeout=timeout)
        self._has_code: set[str] = set()
        self._verifier: dict[str, str] = {}

    def close(self) -> None:
        self.rpc.close()

    def __enter__(self) -> LightReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def registry_verifier(self, registry: str) -> str:
        """Address of the verifier the registry checks proofs with."""
        registry = parse_address(registry)
        if registry not in self._verifier:
            calls: list[tuple[str, Sequence[Any]]] = [("eth_call", _call_params(registry, _selector(*VERIFIER)))]
            if registry not in self._has_code:
                calls.insert(0, ("eth_getCode", [registry, "latest"]))
            out = self.rpc.batch(calls)
            if registry not in self._has_code:
                _code(out.pop(0), registry, "AttestationRegistry")
                self._has_code.add(registry)
            self._remember_verifier(registry, out[0])
        return self._verifier[registry]

    def _remember_verifier(self, registry: str, out: Any) -> None:
        (word,) = _words(_returned(out, "verifier()"), 1, "verifier()")[:1]
        self._verifier[registry] = _address(word, "verifier()")

    def read_verifying_key(self, verifier: str) -> calldata.VerifyingKeyWords:
        """The verifying key stored in a Groth16Verifier, as (alpha, beta, gamma, delta, ic) words (EIP-197 order)."""
        verifier = parse_address(verifier)
        calls: list[tuple[str, Sequence[Any]]] = [("eth_call", _call_params(verifier, _selector(*VERIFYING_KEY)))]
        if verifier not in self._has_code:
            calls.insert(0, ("eth_getCode", [verifier, "latest"]))
        out = self.rpc.batch(calls)
        if verifier not in self._has_code:
            _code(out.pop(0), verifier, "Groth16Verifier")
            self._has_code.add(verifier)
        return decode_verifying_key(_returned(out[0], "verifyingKey()"))

    def read_attestation(self, registry: str, attestation_id: bytes) -> OnchainAttestation:
        """Read attestation ``attestation_id`` from ``registry``; :class:`AttestationNotFound` if absent.

        As :func:`node.chains.ethereum.reader.read_attestation`: the record gives model, class, attester, times and
        revocation; the digests and the proof come from the ``Attested`` event in the record's block, and the id
        recomputed from both must equal ``attestation_id``."""
        if not isinstance(attestation_id, (bytes, bytearray)) or len(attestation_id) != 32:
            raise calldata.CalldataError("an attestation id is 32 bytes")
        ident = bytes(attestation_id)
        registry = parse_address(registry)
        code, record_out, verifier_out, head_out, chain_out = self.rpc.batch(
            [
                ("eth_getCode", [registry, "latest"]),
                ("eth_call", _call_params(registry, _selector(*GET_ATTESTATION), ident)),
                ("eth_call", _call_params(registry, _selector(*VERIFIER))),
                ("eth_blockNumber", []),
                ("eth_chainId", []),
            ]
        )
        _code(code, registry, "AttestationRegistry")
        self._has_code.add(registry)
        w = _words(_returned(record_out, "getAttestation()"), 8, "getAttestation()")
        model_hash = w[0].to_bytes(32, "big")
        attester = _address(w[1], "record.attester")
        timestamp = _uint(w[2], 48, "record.timestamp")
        block_number = _uint(w[3], 48, "record.blockNumber")
        predicted_class = _uint(w[4], 64, "record.predictedClass")
        record_revoked = _bool(w[5], "record.revoked")
        revoked_at = _uint(w[6], 48, "record.revokedAt")
        reason = _uint(w[7], 16, "record.revocationReason")
        try:  # prefetched for registry_verifier(); a registry without it fails there, not here
            self._remember_verifier(registry, verifier_out)
        except ChainError:
            pass
        if isinstance(head_out, RpcCallError):
            raise ChainConnectionError(f"cannot read the block number: {head_out}") from head_out
        head = _quantity(head_out, "eth_blockNumber")
        if isinstance(chain_out, RpcCallError):
            raise ChainConnectionError(f"cannot read the chain id: {chain_out}") from chain_out
        chain_id = _quantity(chain_out, "eth_chainId")

        topic = _topic("AttestationRegistry", "Attested", ATTESTED_TYPES)
        revocation_out, logs_out = self.rpc.batch(
            [
                ("eth_call", _call_params(registry, _selector(*MODEL_REVOCATION), model_hash)),
                (
                    "eth_getLogs",
                    [{"address": registry, "fromBlock": hex(block_number), "toBlock": hex(block_number),
                      "topics": ["0x" + topic.hex(), "0x" + ident.hex()]}],
                ),
            ]
        )
        m = _words(_returned(revocation_out, "modelRevocation()"), 3, "modelRevocation()")
        model_revoked = _bool(m[0], "modelRevocation.revoked")
        model_revoked_at = _uint(m[1], 48, "modelRevocation.revokedAt")
        model_reason = _uint(m[2], 16, "modelRevocation.reason")
        if isinstance(logs_out, RpcCallError):
            raise ChainConnectionError(f"cannot read Attested logs: {logs_out}") from logs_out
        if not isinstance(logs_out, list) or len(logs_out) != 1:
            found = len(logs_out) if isinstance(logs_out, list) else "no list of"
            raise ContractMismatch(f"expected one Attested event for the id in block {block_number}, found {found}")
        event = decode_attested(logs_out[0], registry, topic)
        if event["id"] != ident:
            raise ContractMismatch("the Attested event is for another id")
        if event["model_hash"] != model_hash or event["predicted_class"] != predicted_class:
            raise ContractMismatch("the Attested event disagrees with the stored record")
        if event["attester"] != attester:
            raise ContractMismatch("the Attested event names another attester than the stored record")
        input_digest, prediction_digest, explanation_digest = (
            event["input_digest"], event["prediction_digest"], event["explanation_digest"])
        if attestation_id_of(model_hash, input_digest, prediction_digest, predicted_class, explanation_digest) != ident:
            raise ContractMismatch("the registry's record and event do not hash to the requested id")
        if record_revoked:
            revocation = (True, revoked_at, reason)
        elif model_revoked:
            revocation = (True, model_revoked_at, model_reason)
        else:
            revocation = (False, 0, 0)
        return OnchainAttestation(
            id=ident,
            registry=registry,
            chain_id=chain_id,
            model_hash=model_hash,
            input_digest=input_digest,
            prediction_digest=prediction_digest,
            predicted_class=predicted_class,
            explanation_digest=explanation_digest,
            attester=attester,
            timestamp=timestamp,
            block_number=block_number,
            tx_hash=event["tx_hash"],
            confirmations=max(0, head - block_number + 1),
            proof=calldata.unflatten_proof(event["proof"]),
            revoked=revocation[0],
            revoked_at=revocation[1],
            revocation_reason=revocation[2],
            model_revoked=model_revoked,
        )


    def chain_id(self) -> int:
        """The endpoint's ``eth_chainId``."""
        return _quantity(self.rpc.call("eth_chainId", []), "eth_chainId")

    def attestations_in_transaction(self, tx_hash: str) -> list[tuple[str, str]]:
        """(registry, attestation id) of every ``Attested`` event of a mined transaction, in log order (whichever
        contract emitted it: the caller decides which registries it trusts); :class:`LookupError` when the
        transaction is unknown."""
        try:
            receipt = self.rpc.call("eth_getTransactionReceipt", [tx_hash])
        except RpcCallError as exc:
            if "not found" in exc.rpc_message.lower():  # eth-tester (the /rpc bridge) raises instead of null
                raise LookupError(f"no mined transaction {tx_hash}") from None
            raise
        if receipt is None:
            raise LookupError(f"no mined transaction {tx_hash}")
        logs = receipt.get("logs") if isinstance(receipt, dict) else None
        if not isinstance(logs, list):
            raise ChainConnectionError("eth_getTransactionReceipt: the answer has no logs")
        topic = _topic("AttestationRegistry", "Attested", ATTESTED_TYPES)
        found = []
        for log in logs:
            address = log.get("address") if isinstance(log, dict) else None
            if not isinstance(address, str):
                continue
            try:
                event = decode_attested(log, address, topic)
            except ChainError:  # another event, or not one of ours
                continue
            found.append((parse_address(address), "0x" + event["id"].hex()))
        return found

    def attestation_from_transaction(self, tx_hash: str, registry: str | None = None) -> tuple[str, str]:
        """(registry, attestation id) from the first ``Attested`` event of a mined transaction (of ``registry`` when
        given); :class:`LookupError` when the transaction is unknown or made no attestation."""
        for address, ident in self.attestations_in_transaction(tx_hash):
            if not registry or address.lower() == registry.lower():
                return address, ident
        raise LookupError(f"transaction {tx_hash} made no attestation")


# ----------------------------------------------------------------------------- decoders
def attestation_id_of(
    model_hash: bytes, input_digest: int, prediction_digest: int, predicted_class: int, explanation_digest: int
) -> bytes:
    """keccak256(abi.encode(bytes32, uint256 x 4)) -- static types, so the encoding is the five words in a row;
    equal to :func:`node.chains.ethereum.calldata.attestation_id` (tested), without importing eth-abi."""
    fields = calldata.statement_words(model_hash, input_digest, prediction_digest, predicted_class, explanation_digest)
    return keccak256(fields[0] + b"".join(v.to_bytes(WORD, "big") for v in fields[1:]))


def decode_verifying_key(data: bytes) -> calldata.VerifyingKeyWords:
    """``verifyingKey()`` return data: 14 static words, the offset of ``ic``, then its length and points."""
    w = _words(data, 16, "verifyingKey()")
    offset = w[14]
    if offset % WORD or offset // WORD >= len(w):
        raise ContractMismatch("verifyingKey(): bad offset of ic")
    start = offset // WORD
    n = w[start]
    if n == 0 or start + 1 + 2 * n > len(w):
        raise ContractMismatch(f"verifyingKey(): ic of {n} points does not fit the return data")
    ic = [[w[start + 1 + 2 * i], w[start + 2 + 2 * i]] for i in range(n)]

    def g2(k: int) -> list[list[int]]:
        return [[w[k], w[k + 1]], [w[k + 2], w[k + 3]]]

    return calldata.verifying_key_words(([w[0], w[1]], g2(2), g2(6), g2(10), ic))


def decode_attested(log: object, registry: str, topic: bytes) -> dict[str, Any]:
    """One ``Attested`` log (JSON-RPC form) of ``registry`` -> its fields, each checked."""
    if not isinstance(log, dict):
        raise ContractMismatch("an Attested log is not an object")
    address = log.get("address")
    if not isinstance(address, str) or address.lower() != registry.lower():
        raise ContractMismatch("the Attested log comes from another contract")
    topics = log.get("topics")
    if not isinstance(topics, list) or len(topics) != 4:
        raise ContractMismatch("an Attested log has four topics")
    t = [_hex_bytes(x, "log topic") for x in topics]
    if t[0] != topic or any(len(x) != WORD for x in t):
        raise ContractMismatch("the log is not an Attested event")
    data = _hex_bytes(log.get("data"), "log data")
    if len(data) != 12 * WORD:
        raise ContractMismatch(f"Attested data has {len(data)} bytes, expected {12 * WORD}")
    words = [int.from_bytes(data[i : i + WORD], "big") for i in range(0, len(data), WORD)]
    tx_hash = _hex_bytes(log.get("transactionHash"), "log transactionHash")
    if len(tx_hash) != WORD:
        raise ContractMismatch("the Attested log has no transaction hash")
    return {
        "id": t[1],
        "model_hash": t[2],
        "attester": _address(int.from_bytes(t[3], "big"), "event.attester"),
        "input_digest": words[0],
        "prediction_digest": words[1],
        "predicted_class": words[2],
        "explanation_digest": words[3],
        "proof": words[4:12],
        "tx_hash": "0x" + tx_hash.hex(),
    }


__all__ = ["LightReader", "attestation_id_of", "checksum_address", "decode_attested", "decode_verifying_key"]
