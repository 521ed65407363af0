"""``zkxai verify --chain aleo|icp``: one record read back from a chain without an EVM, checked end to end.

Neither Aleo nor the IC can pair on BN254, so their registries record the statement, the attester and the proof
(ICP: its words; Aleo: its keccak, the words being in the ``attest`` transaction) and never check the proof. This
module reads the record through the chain's :class:`~node.chains.adapter.RecordReader` and checks here what a
registry on Ethereum checks on chain, against what the user pinned:

``chain``       ICP: the answer's certificate verifies down to the pinned root key (``--root-key``, default the
                IC mainnet key); trust entries naming a ``network``: one of them is this network (exit 13);
``record``      the record is in a pinned registry (program id / canister id: ``--registry``, ``--trust``) (3);
``attester``    its attester (Aleo: the Ethereum address whose signature ``finalize`` checked; ICP: the caller
                principal) is pinned (12);
``revocation``  not revoked by its attester (8);  ``finality``: Aleo ``--confirmations`` blocks; ICP: certified (9);
``vk``          there is no key on these chains: the proof is checked only against ``--vkey`` (a trust entry's
                ``vk_sha256`` must name it), else UNPINNED (7);
``proof``       Aleo: keccak of the transaction's proof words equals the stored ``proof_keccak``; then Groth16 with
                public inputs = the record's six statement values + ``chain_context(kind, network, registry,
                attester)`` recomputed from the record (1);
``model``, ``disclosure``: as on Ethereum (5, 4): the bundle's data and chain section must give the record's values.

The Aleo REST endpoint is trusted for what it serves, as an Ethereum RPC is (no light client); ICP answers are
certified. Light: stdlib HTTP, eth-account, pycryptodome, blst / py_ecc; no torch, aiohttp or web3.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from node.chains.adapter import ChainAdapterError, ChainUnavailable, OnchainRecord, RegistryRef, StatementRejected
from node.chains.binding import chain_context
from node.errors import DisclosureError, NodeError
from node.verify.anchors import (
    NOTHING_PINNED,
    Anchors,
    candidate_registries,
    check_attester,
    check_registry,
    nodes_for,
    pinned_attesters,
    pinned_digests,
    pinned_registries,
)
from node.verify.disclosure import Disclosure
from node.verify.report import (
    EXIT_CHAIN_ERROR,
    EXIT_USAGE,
    Report,
    check_disclosure,
    check_model,
    check_model_card,
    check_proof,
    proof_from_calldata,
)
from node.verify.trust import TrustError, network_name, vk_sha256_of

Fail = Callable[[argparse.Namespace, int, str], int]
Emit = Callable[[argparse.Namespace, Report], int]

#: The largest root key argument read from a file (a DER key is 133 bytes; its hex 266 characters).
MAX_ROOT_KEY_FILE = 4096


class _Usage(ValueError):
    """A command line that cannot be run (exit 2)."""


def load_root_key(value: str | None) -> tuple[bytes, str]:
    """(DER bytes, who pinned it) from ``--root-key`` (hex, or a file holding hex or raw DER); default mainnet."""
    from node.chains.icp.der import extract_bls_key
    from node.chains.icp.errors import IcpError
    from node.chains.icp.root_key import MAINNET_ROOT_KEY_DER

    if value is None:
        return MAINNET_ROOT_KEY_DER, "the IC mainnet root key (built in; pin a local replica's with --root-key)"
    text = value.strip().removeprefix("0x")
    try:
        der = bytes.fromhex(text)
        who = "--root-key"
    except ValueError:
        path = Path(value)
        try:
            raw = path.open("rb").read(MAX_ROOT_KEY_FILE + 1)
        except OSError as exc:
            raise _Usage(f"--root-key is neither hex nor a readable file: {exc}") from None
        if len(raw) > MAX_ROOT_KEY_FILE:
            raise _Usage(f"--root-key file {path} is larger than {MAX_ROOT_KEY_FILE} bytes")
        try:
            der = bytes.fromhex(raw.decode("ascii").strip().removeprefix("0x"))
        except (UnicodeDecodeError, ValueError):
            der = raw
        who = f"--root-key {path}"
    try:
        extract_bls_key(der)  # the DER envelope and a point on the curve, in the subgroup: checked before any use
    except IcpError as exc:
        raise _Usage(f"--root-key is not an IC root key (DER of a BLS12-381 G2 key): {exc}") from None
    return der, who


def proof_from_words(words: Sequence[int]) -> Any:
    """A :class:`prover.keys.Proof` from the eight words a/b/c in EIP-197 order (a0, a1, b00, b01, b10, b11, c0, c1)."""
    if len(words) != 8:
        raise ValueError(f"a proof is 8 words, the record holds {len(words)}")
    w = [int(x) for x in words]
    return proof_from_calldata(((w[0], w[1]), ((w[2], w[3]), (w[4], w[5])), (w[6], w[7])))


def run_chain(args: argparse.Namespace, disclosure: Disclosure | None, anchors: Anchors, fail: Fail,
              emit: Emit) -> int:
    """Verify one record on ``anchors.kind`` (aleo / icp) read from ``args.rpc_url``."""
    try:
        return _run(args, disclosure, anchors, fail, emit)
    except _Usage as exc:
        return fail(args, EXIT_USAGE, str(exc))


def _run(args: argparse.Namespace, disclosure: Disclosure | None, anchors: Anchors, fail: Fail, emit: Emit) -> int:
    kind = anchors.kind
    section = disclosure.chain if disclosure is not None and disclosure.chain is not None else None
    if section is not None and section.kind != kind:
        section = None  # a bundle for another chain names nothing here (its disclosure check fails on the context)
    attestation_id = args.attestation_id or (disclosure.attestation_id if disclosure else None)
    if not attestation_id:
        raise _Usage("give --id or a --disclosure bundle that names the attestation")
    attestation_id = _hex_id(attestation_id)
    if getattr(args, "chain_id", None) is not None:
        raise _Usage(f"--chain-id is for EVM chains; on {kind} pin the network (--network, --root-key)")
    if args.model is not None and not args.model.is_file():
        raise _Usage(f"model file not found: {args.model}")

    report = Report(attestation_id=attestation_id)
    if anchors.empty:
        report.notes.append(NOTHING_PINNED)
    if kind == "icp":
        if args.tx_hash:
            raise _Usage("--tx is for Ethereum and Aleo; an ICP record is found by --id (or the bundle)")
        root_key, root_pin = load_root_key(args.root_key)
        from node.chains.icp.adapter import network_of

        network = network_of(root_key)
        if args.network is not None and args.network.lower() != network:
            raise _Usage("on ICP the network is the SHA-256 of the root key: pin the key with --root-key")
        tx_id = ""
    else:
        if args.root_key is not None:
            raise _Usage("--root-key is for ICP")
        network = anchors.network or (section.network if section else None)
        if network is None:
            raise _Usage("give --network (Aleo: mainnet, testnet or canary) or a bundle that names it")
        try:
            network = network_name("aleo", network, "the bundle's chain.network")
        except TrustError as exc:
            raise _Usage(str(exc)) from None
        tx_id = args.tx_hash or (section.tx_hash if section else "")
        if not tx_id:
            raise _Usage("give --tx (the attest transaction id: it carries the proof words) or a bundle that names it")
        root_pin = ""
    scope = (kind, network)
    if not _check_network(report, anchors, scope):
        return emit(args, report)

    pinned = pinned_registries(anchors, scope)
    candidates = candidate_registries(pinned, section.registry if section else None)
    if not candidates:
        raise _Usage("give --registry (program id / canister id), --trust, or a --disclosure bundle that names one")
    found_by = "the disclosure bundle"
    reader = _reader(kind, args, network, root_key if kind == "icp" else b"")
    record: OnchainRecord | None = None
    misses: list[str] = []
    try:
        for registry in candidates:
            try:
                ref = RegistryRef(kind, network, _registry_text(kind, registry))
                record = reader.read(ref, attestation_id)
                break
            except StatementRejected as exc:
                misses.append(str(exc))
    except ChainUnavailable as exc:
        return fail(args, EXIT_CHAIN_ERROR, f"cannot read {kind} at {args.rpc_url}: {exc}")
    except NodeError as exc:
        from node.chains.icp.errors import CertificateError, ReplicaError

        if isinstance(exc, CertificateError):
            report.add("chain", False, f"the answer's certificate does not verify down to {root_pin} "
                       f"(sha256 {network}): {type(exc).__name__}: {exc}")
            return emit(args, report)
        if isinstance(exc, ReplicaError) and exc.http_status is not None and exc.http_status < 500:
            report.add("record", False, f"the replica refused the query: {exc}")
            return emit(args, report)
        return fail(args, EXIT_CHAIN_ERROR, f"cannot read {kind} at {args.rpc_url}: {type(exc).__name__}: {exc}")
    except (OSError, ValueError) as exc:
        return fail(args, EXIT_CHAIN_ERROR, f"cannot read {kind} at {args.rpc_url}: {type(exc).__name__}: {exc}")
    if record is None:
        report.add("record", False, "; ".join(misses))
        return emit(args, report)

    if kind == "icp":
        report.add("chain", True, f"the record's certificate verifies down to {root_pin} (sha256 {network})")
    registry = record.ref.registry
    report.record = _record_json(record)
    check_registry(report, registry, pinned, found_by, f"on {kind} {network}: height {record.height}"
                   + (f", tx {record.tx_id}" if record.tx_id else ""))
    check_attester(report, record.attester, pinned_attesters(anchors, scope, registry))
    if record.revoked:
        report.add("revocation", False, f"the attestation was revoked (reason code {record.revocation_reason})")
    else:
        report.add("revocation", True, "not revoked")
    if kind == "icp":
        report.add("finality", True, "certified by the subnet: final")
    else:
        report.add("finality", record.confirmations >= args.confirmations,
                   f"{record.confirmations} block(s) deep, {args.confirmations} required")

    digests = pinned_digests(anchors, nodes_for(anchors, scope, registry))
    if not _check_vk(report, anchors, digests, kind):
        words = None
    else:
        words = _proof_words(report, reader, record, tx_id, kind)
    context = chain_context(kind, network, registry, record.attester)
    public = [*_statement_values(record), context]
    if words is not None:
        try:
            proof = proof_from_words(words)
        except (ValueError, TypeError) as exc:
            report.add("proof", False, f"malformed proof words: {exc}")
        else:
            check_proof(report, anchors.vkey, public, proof)
    if args.model is not None:
        check_model(report, record.statement.model_hash, args.model)
    if args.model_card is not None:
        check_model_card(report, record.statement.model_hash, args.model_card)
    if disclosure is not None:
        try:
            check_disclosure(report, disclosure, attestation_id, public)
        except DisclosureError as exc:
            report.add("disclosure", False, str(exc))
    return emit(args, report)


def _check_network(report: Report, anchors: Anchors, scope: tuple[str, str]) -> bool:
    """``chain``: trust entries for this chain kind that name networks must include this one (exit 13)."""
    kind, network = scope
    named = {n.network for n in anchors.nodes if n.kind == kind and n.network is not None}
    if not named:
        return True
    if not anchors.applicable(scope):
        report.add("chain", False, f"{kind} network {network}; the trust file pins only {', '.join(sorted(named))}")
        return False
    if network in named:
        report.add("chain", True, f"{kind} network {network}, as the trust file pins")
    return True


def _check_vk(report: Report, anchors: Anchors, digests: dict[str, str], kind: str) -> bool:
    """``vk``: no key lives on Aleo / ICP; the proof is checked against --vkey only. True when there is one."""
    if anchors.vkey is None:
        named = f" (the trust file pins vk_sha256 {', '.join(digests)}: give that key file)" if digests else ""
        report.add_unpinned("vk", f"{kind} holds no verifying key: pin the published key with --vkey{named}")
        report.add_unpinned("proof", "not checked: no verifying key pinned (--vkey)")
        return False
    digest = vk_sha256_of(anchors.vkey)
    inputs = f"{len(anchors.vkey.ic) - 1} public inputs"
    if digests and digest not in digests:
        report.add("vk", False, f"--vkey {anchors.vkey_path} has vk_sha256 {digest}, not the pinned "
                   + ", ".join(f"{d} ({w})" for d, w in digests.items()))
        return False
    report.add("vk", True, f"pinned key {anchors.vkey_path} ({inputs}"
               + (f", named by {digests[digest]}" if digests else "") + f"); {kind} holds no key")
    return True


def _proof_words(report: Report, reader: Any, record: OnchainRecord, tx_id: str, kind: str) -> Sequence[int] | None:
    """The record's proof words (Aleo: from the attest transaction, their keccak equal to the stored one)."""
    if kind == "icp":
        return record.proof
    from node.chains.aleo.statement import proof_keccak

    stored = getattr(record, "proof_keccak", b"")
    try:
        words = reader.proof(record.ref, tx_id, stored)
    except ChainAdapterError as exc:
        report.add("proof", False, f"the recorded proof (keccak 0x{stored.hex()}) is not in transaction {tx_id}: {exc}")
        return None
    if proof_keccak(words) != stored:  # the reader selects by it; checked here again, it is the binding
        report.add("proof", False, f"keccak of the proof words of {tx_id} is not the stored 0x{stored.hex()}")
        return None
    report.notes.append(f"proof words from transaction {tx_id}: their keccak is the stored proof_keccak 0x{stored.hex()}")
    return words


def _statement_values(record: OnchainRecord) -> list[int]:
    from node.chains.ethereum.calldata import public_inputs

    s = record.statement
    return list(public_inputs(s.model_hash, s.input_digest, s.prediction_digest, s.predicted_class,
                              s.explanation_digest))


def _reader(kind: str, args: argparse.Namespace, network: str, root_key: bytes) -> Any:
    if kind == "icp":
        from node.chains.icp.adapter import IcpReader
        from node.chains.icp.agent import IcAgent

        return IcpReader(IcAgent(args.rpc_url, root_key, None, timeout_s=30))
    from node.chains.aleo.adapter import AleoReader

    return AleoReader(args.rpc_url, network, timeout=30)


def _registry_text(kind: str, registry: str) -> str:
    from node.verify.trust import registry_id

    try:
        return registry_id(kind, registry, "the registry")
    except TrustError as exc:
        raise _Usage(str(exc)) from None


def _hex_id(value: str) -> str:
    text = value.lower().removeprefix("0x")
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise _Usage(f"attestation id must be 0x followed by 64 hex digits, got {value!r}")
    return "0x" + text


def _record_json(record: OnchainRecord) -> dict[str, Any]:
    s = record.statement
    out: dict[str, Any] = {
        "chain": record.ref.chain, "network": record.ref.network, "registry": record.ref.registry,
        "model_hash": "0x" + bytes(s.model_hash).hex(), "predicted_class": s.predicted_class,
        "input_digest": str(s.input_digest), "prediction_digest": str(s.prediction_digest),
        "explanation_digest": str(s.explanation_digest), "attester": record.attester, "height": record.height,
        "tx_id": record.tx_id, "confirmations": record.confirmations, "revoked": record.revoked,
        "revocation_reason": record.revocation_reason,
    }
    if record.ref.chain == "aleo":
        out["proof_keccak"] = "0x" + bytes(getattr(record, "proof_keccak", b"")).hex()
        out["caller"] = getattr(record, "caller", "")
    return out


__all__ = ["load_root_key", "proof_from_words", "run_chain"]
