"""``zkxai verify``: fetch an attestation from chain and check it end to end (light install: no torch)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from node.verify.anchors import (
    NOT_CHECKED_OFFLINE,
    NOTHING_PINNED,
    PIN_HINT,
    Anchors,
    anchors_from_args,
    candidate_registries,
    check_attester,
    check_chain,
    check_registry,
    check_level,
    check_vk,
    nodes_for,
    pinned_levels,
    offline_vk_check,
    pinned_attesters,
    pinned_digests,
    pinned_registries,
)
from node.verify.batch import (
    is_batch_request,
    run_batch,
    run_batch_offline,
)
from node.chains.adapter import CHAIN_KINDS
from node.verify.chain_record import run_chain
from node.verify.disclosure import Disclosure
from node.errors import DisclosureError
from node.verify.levels import what_is_proven
from node.verify.trust import TrustError, vk_sha256_of
from node.verify.report import (
    EXIT_CHAIN_ERROR,
    EXIT_NOT_FOUND,
    check_model_card,
    EXIT_USAGE,
    Report,
    check_disclosure,
    check_model,
    check_proof,
    proof_from_calldata,
    vk_from_calldata,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--chain", choices=CHAIN_KINDS, help="the chain the record is on (default: the bundle's "
                   "chain.kind, else ethereum)")
    p.add_argument("--rpc-url", help="Ethereum JSON-RPC URL (the embedded node serves one at /rpc); Aleo: the "
                   "snarkOS REST base URL; ICP: the replica / boundary node URL; without it, verify a disclosure "
                   "bundle offline against --vkey")
    p.add_argument("--network", help="Aleo network (mainnet, testnet, canary; default: the bundle's)")
    t = p.add_argument_group("trust anchors (what you pin; nothing read from the transaction or the bundle counts)")
    t.add_argument("--registry", help="pin this registry: the record must be in it (the bundle's or the "
                   "transaction's registry is read but never trusted): an AttestationRegistry address, an Aleo "
                   "program id, an ICP canister id")
    t.add_argument("--attester", action="append", default=[], metavar="ID",
                   help="pin an attester: the record must be made by one of them (repeatable): an address "
                   "(Ethereum; Aleo: the Ethereum key that signs the statements), a principal (ICP)")
    t.add_argument("--root-key", help="ICP: the root key the certificates must verify down to (DER hex, or a file "
                   "holding it; default: the IC mainnet key; a local replica's key is pinned here)")
    t.add_argument("--trust", action="append", default=[], type=Path, metavar="FILE",
                   help="trust file (TOML [[node]] entries: chain_id, registry, attesters, vk_sha256): pins every "
                   "entry (repeatable)")
    t.add_argument("--chain-id", type=int, help="pin the chain id the RPC must serve")
    p.add_argument("--id", dest="attestation_id", help="attestation id 0x... (default: taken from --disclosure)")
    p.add_argument("--tx", dest="tx_hash", help="find the attestation by the hash of the transaction that made it")
    p.add_argument("--confirmations", type=int, default=1, help="blocks required on top of the record (default 1)")
    p.add_argument("--model-card", type=Path, help="published model card JSON with a model_hash: must equal the attested one")
    p.add_argument("--disclosure", type=Path, help="disclosure bundle JSON: recompute the digests from the disclosed data")
    p.add_argument("--model", type=Path, help="local model file: its SHA-256 must equal the attested model hash")
    t.add_argument("--vkey", type=Path, help="pin a published snarkjs verification_key.json: the on-chain key must "
                   "equal it (offline: the only anchor; Aleo / ICP hold no key: the proof is checked only against it)")
    t.add_argument("--level", help="pin what the --registry / --vkey you pinned proves: commitment, inference or "
                   "explanation[:METHOD] (the level is a property of the registry's verifier key; a bundle's claim alone "
                   "is never believed)")
    p.add_argument("--json", action="store_true", help="print a machine-readable JSON report")
    b = p.add_argument_group("batched predictions (default: the bundle's batch section)")
    b.add_argument("--batch-registry", help="pin this BatchAttestationRegistry (else read from the bundle, unpinned)")
    b.add_argument("--root", type=int, help="batch Merkle root (decimal)")
    b.add_argument("--leaf", type=int, help="the prediction's leaf (decimal)")
    b.add_argument("--index", type=int, help="the prediction's slot in the batch")
    b.add_argument("--path", help="Merkle path: comma-separated decimal siblings, leaf level first")


def run(args: argparse.Namespace) -> int:
    try:
        disclosure = Disclosure.load(args.disclosure) if args.disclosure else None
    except DisclosureError as exc:
        return _fail(args, EXIT_USAGE, str(exc))
    kind = args.chain or (disclosure.chain.kind if disclosure is not None and disclosure.chain is not None
                          else "ethereum")
    try:
        anchors = anchors_from_args(args, kind)
    except TrustError as exc:
        return _fail(args, EXIT_USAGE, str(exc))
    if kind != "ethereum":
        if is_batch_request(args, disclosure):
            return _fail(args, EXIT_USAGE, f"batched predictions are attested on Ethereum only, not {kind}")
        if args.rpc_url is not None:
            return run_chain(args, disclosure, anchors, _fail, _emit)
        return _offline(args, disclosure, anchors)
    for flag in ("network", "root_key"):
        if getattr(args, flag) is not None:
            return _fail(args, EXIT_USAGE, f"--{flag.replace('_', '-')} is for --chain aleo / icp")
    if is_batch_request(args, disclosure):
        if args.rpc_url is not None:
            return run_batch(args, disclosure, anchors, _fail, _emit)
        if disclosure is None or disclosure.batch is None or args.vkey is None:
            return _fail(args, EXIT_USAGE, "offline verification (no --rpc-url) needs --disclosure and --vkey")
        return run_batch_offline(args, disclosure, anchors, _fail, _emit)
    if args.rpc_url is None:
        return _offline(args, disclosure, anchors)
    attestation_id = args.attestation_id or (disclosure.attestation_id if disclosure else None)
    if not args.tx_hash and not attestation_id:
        return _fail(args, EXIT_USAGE, "give --id, --tx, or a --disclosure bundle that names the attestation")
    if attestation_id is not None and not args.tx_hash:
        try:
            _id_bytes(attestation_id)
        except ValueError:
            return _fail(args, EXIT_USAGE, f"attestation id must be 0x followed by 64 hex digits, got {attestation_id!r}")
    if args.model is not None and not args.model.is_file():
        return _fail(args, EXIT_USAGE, f"model file not found: {args.model}")

    from node.chains.ethereum.errors import AttestationNotFound, ChainError
    from node.chains.ethereum.light_reader import LightReader

    chain = LightReader(args.rpc_url, timeout=30)  # stdlib JSON-RPC, batched: no web3 import
    report = Report(attestation_id=attestation_id or "?")
    if anchors.empty:
        report.notes.append(NOTHING_PINNED)
    try:
        chain_id = chain.chain_id()
    except (ChainError, OSError, ValueError) as exc:
        chain.close()
        return _fail(args, EXIT_CHAIN_ERROR, f"cannot read the chain at {args.rpc_url}: {type(exc).__name__}: {exc}")
    check_chain(report, anchors, chain_id)
    pinned = pinned_registries(anchors, chain_id)
    try:
        if args.tx_hash:
            located = _from_transaction(chain, args.tx_hash, pinned)
            if isinstance(located, str):  # the transaction made no attestation in a pinned registry
                report.add("record", False, located)
                return _emit(args, report)
            registry, attestation_id = located
            report.attestation_id = attestation_id
            found_by, candidates = f"transaction {args.tx_hash}", [registry]
        else:
            named = disclosure.chain.registry if disclosure and disclosure.chain else None
            candidates = candidate_registries(pinned, named)
            if not candidates:
                return _fail(args, EXIT_USAGE, "give --registry (or --trust), or a --disclosure bundle that names one")
            found_by = "the disclosure bundle"
        record, misses = None, []
        for registry in candidates:
            try:
                record = chain.read_attestation(registry, _id_bytes(attestation_id))
                break
            except AttestationNotFound as exc:
                misses.append(str(exc))
        if record is None:
            where = "; ".join(misses) if len(candidates) == 1 else (
                f"no pinned registry ({', '.join(candidates)}) holds {attestation_id}: " + "; ".join(misses))
            report.add("record", False, where)
            return _emit(args, report)
        report.record = _record_json(record)
        registry_is_pinned = any(record.registry.lower() == a.lower() for a in pinned)
        check_registry(report, record.registry, pinned, found_by,
                       f"on chain {chain_id}: block {record.block_number}, tx {record.tx_hash}")
        check_attester(report, record.attester, pinned_attesters(anchors, chain_id, record.registry))
        if record.revoked:
            what = "its whole model was revoked" if record.model_revoked else "the attestation was revoked"
            report.add("revocation", False, f"{what} at {record.revoked_at} (reason code {record.revocation_reason})")
        else:
            report.add("revocation", True, "not revoked")
        report.add("finality", record.confirmations >= args.confirmations,
                   f"{record.confirmations} confirmation(s), {args.confirmations} required")
        verifier = chain.registry_verifier(record.registry)
        vk = vk_from_calldata(chain.read_verifying_key(verifier))
    except _NoAttestation as exc:
        return _fail(args, EXIT_NOT_FOUND, str(exc))
    except (ChainError, OSError, ValueError) as exc:
        return _fail(args, EXIT_CHAIN_ERROR, f"cannot read the chain at {args.rpc_url}: {type(exc).__name__}: {exc}")
    finally:
        chain.close()

    digests = pinned_digests(anchors, nodes_for(anchors, chain_id, record.registry))
    check_vk(report, vk, anchors, digests, registry_is_pinned, f"the registry's verifier {verifier}")
    public = list(record.public_inputs)
    _progress(args, "checking the Groth16 proof off-chain (pairing)...")
    # Against the pinned key when there is one: a proof is worth what the key it verifies under is worth.
    check_proof(report, anchors.vkey if anchors.vkey is not None else vk, public, proof_from_calldata(record.proof))
    if args.model is not None:
        check_model(report, record.model_hash, args.model)
    if args.model_card is not None:
        check_model_card(report, record.model_hash, args.model_card)
    if disclosure is not None:
        try:
            check_disclosure(report, disclosure, attestation_id, public)
        except DisclosureError as exc:
            report.add("disclosure", False, str(exc))
    _check_level(report, anchors, disclosure, pinned_levels(
        anchors, nodes_for(anchors, chain_id, record.registry),
        registry_pinned_by_flag=any(record.registry.lower() == a.lower() for a in anchors.registries), vk_digest=None))
    return _emit(args, report)


def _check_level(report: Report, anchors: Anchors, disclosure: Disclosure | None, pinned: dict[Any, str]) -> None:
    """``level``: the bundle's claimed level against the pinned one; without a bundle, the pinned level is reported."""
    if disclosure is not None:
        check_level(report, disclosure.level, disclosure.method, pinned)
    elif pinned:
        level, who = next(iter(pinned.items()))
        report.add("level", True, f"{what_is_proven(level.name, level.method or 'pinned')}; pinned by {who} (no "
                   "bundle: the record's digests are not opened)")


def _offline(args: argparse.Namespace, disclosure: Disclosure | None, anchors: Anchors) -> int:
    """Bundle-only verification: the bundle's proof against its public inputs and a published key (the anchor)."""
    if disclosure is None or anchors.vkey is None:
        return _fail(args, EXIT_USAGE, "offline verification (no --rpc-url) needs --disclosure and --vkey")
    from prover.errors import ProverError
    from prover.serialize import proof_from_snarkjs

    report = Report(attestation_id=disclosure.attestation_id)
    vk = anchors.vkey
    offline_vk_check(report, anchors, vk, batch=False)
    report.notes.append(NOT_CHECKED_OFFLINE)
    public = list(disclosure.public_inputs)
    try:
        proof = proof_from_snarkjs(disclosure.proof)
    except ProverError as exc:
        report.add("proof", False, f"malformed proof in the bundle: {exc}")
    else:
        check_proof(report, vk, public, proof)
    if args.model is not None:
        check_model(report, disclosure.model_hash, args.model)
    try:
        check_disclosure(report, disclosure, disclosure.attestation_id, public)
    except DisclosureError as exc:
        report.add("disclosure", False, str(exc))
    _check_level(report, anchors, disclosure, pinned_levels(anchors, anchors.nodes, registry_pinned_by_flag=False,
                                                            vk_digest=vk_sha256_of(vk)))
    return _emit(args, report)


def _progress(args: argparse.Namespace, message: str) -> None:
    if not args.json and sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


def _from_transaction(chain: Any, tx_hash: str, pinned: dict[str, str]) -> tuple[str, str] | str:
    """(registry, attestation id) from the transaction's ``Attested`` log; with pinned registries only a log
    emitted by one of them is taken (else the reason, as a string, for a FAIL). No log at all: _NoAttestation."""
    try:
        found = chain.attestations_in_transaction(tx_hash)
    except LookupError as exc:
        raise _NoAttestation(str(exc)) from None
    for address, ident in found:
        if not pinned or any(address.lower() == p.lower() for p in pinned):
            return address, ident
    if not found:
        raise _NoAttestation(f"transaction {tx_hash} made no attestation")
    return (f"transaction {tx_hash} made no attestation in the pinned registr{'y' if len(pinned) == 1 else 'ies'} "
            f"{', '.join(pinned)} (it has an Attested log from {', '.join(a for a, _ in found)}, not pinned)")


class _NoAttestation(LookupError):
    """The transaction is not mined or made no attestation at all."""


def _id_bytes(attestation_id: str) -> bytes:
    raw = bytes.fromhex(attestation_id.removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("an attestation id is 32 bytes")
    return raw


def _record_json(record: Any) -> dict[str, Any]:
    return {
        "model_hash": "0x" + record.model_hash.hex(),
        "predicted_class": record.predicted_class,
        "input_digest": str(record.input_digest),
        "prediction_digest": str(record.prediction_digest),
        "explanation_digest": str(record.explanation_digest),
        "attester": record.attester,
        "timestamp": record.timestamp,
        "block_number": record.block_number,
        "tx_hash": record.tx_hash,
        "confirmations": record.confirmations,
        "revoked": record.revoked,
        "revoked_at": record.revoked_at,
        "revocation_reason": record.revocation_reason,
        "model_revoked": record.model_revoked,
    }


def _emit(args: argparse.Namespace, report: Report) -> int:
    if args.json:
        out = report.to_json()
        if report.unpinned:
            out["pin"] = PIN_HINT
        _print_json(args, out)
    else:
        print(f"attestation {report.attestation_id}")
        for c in report.checks:
            print(f"  [{c.status.value.upper()}] {c.name:<11} {c.detail}")
        if report.record and "root" in report.record:
            print(f"  batch of {report.record['count']}, slot {report.record['index']}")
        if report.record and "predicted_class" in report.record:
            print(f"  predicted class {report.record['predicted_class']}, model {report.record['model_hash']}")
        for note in report.notes:
            print(f"  note: {note}")
        if report.unpinned:
            print(f"  UNPINNED: {', '.join(report.unpinned)} rest on nothing you pinned; {PIN_HINT}")
        print(f"verdict: {report.verdict}")
    return report.exit_code


def _fail(args: argparse.Namespace, code: int, message: str) -> int:
    if args.json:
        _print_json(args, {"verdict": "ERROR", "exit_code": code, "error": message})
    else:
        print(f"error: {message}", file=sys.stderr)
    return code


def _print_json(args: argparse.Namespace, out: dict[str, Any]) -> None:
    sink = getattr(args, "sink", None)
    if sink is not None:  # verify_json(): the report goes to the caller, not to stdout
        sink(out)
    else:
        print(json.dumps(out, indent=1))


def verify_json(argv: list[str]) -> tuple[int, dict[str, Any]]:
    """Run ``zkxai verify <argv>`` in this process and return (exit code, the JSON report) instead of printing.

    The same checks and verdicts as the command (the SDK's ``Prediction.verify()`` uses it).
    """
    parser = argparse.ArgumentParser(prog="zkxai verify", add_help=False)
    add_arguments(parser)
    args = parser.parse_args([*argv, "--json"])
    reports: list[dict[str, Any]] = []
    args.sink = reports.append
    code = run(args)
    return code, reports[-1] if reports else {"verdict": "ERROR", "exit_code": code, "error": "no report"}


__all__ = ["add_arguments", "run", "verify_json", "EXIT_NOT_FOUND"]
