"""``zkxai verify``: fetch an attestation from chain and check it end to end (light install: no torch)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .batch_verify import is_batch_request, run_batch, run_batch_offline
from .disclosure import Disclosure
from .errors import DisclosureError
from .verifier import (
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
    p.add_argument("--rpc-url", help="Ethereum JSON-RPC URL (the embedded node serves one at /rpc); "
                   "without it, verify a disclosure bundle offline against --vkey")
    p.add_argument("--registry", help="AttestationRegistry address (default: taken from --disclosure)")
    p.add_argument("--id", dest="attestation_id", help="attestation id 0x... (default: taken from --disclosure)")
    p.add_argument("--tx", dest="tx_hash", help="find the attestation by the hash of the transaction that made it")
    p.add_argument("--confirmations", type=int, default=1, help="blocks required on top of the record (default 1)")
    p.add_argument("--model-card", type=Path, help="published model card JSON with a model_hash: must equal the attested one")
    p.add_argument("--disclosure", type=Path, help="disclosure bundle JSON: recompute the digests from the disclosed data")
    p.add_argument("--model", type=Path, help="local model file: its SHA-256 must equal the attested model hash")
    p.add_argument("--vkey", type=Path, help="published snarkjs verification_key.json: must equal the on-chain key")
    p.add_argument("--json", action="store_true", help="print a machine-readable JSON report")
    b = p.add_argument_group("batched predictions (default: the bundle's batch section)")
    b.add_argument("--batch-registry", help="BatchAttestationRegistry address")
    b.add_argument("--root", type=int, help="batch Merkle root (decimal)")
    b.add_argument("--leaf", type=int, help="the prediction's leaf (decimal)")
    b.add_argument("--index", type=int, help="the prediction's slot in the batch")
    b.add_argument("--path", help="Merkle path: comma-separated decimal siblings, leaf level first")


def run(args: argparse.Namespace) -> int:
    try:
        disclosure = Disclosure.load(args.disclosure) if args.disclosure else None
    except DisclosureError as exc:
        return _fail(args, EXIT_USAGE, str(exc))
    if is_batch_request(args, disclosure):
        if args.rpc_url is not None:
            return run_batch(args, disclosure, _fail, _emit)
        if disclosure is None or disclosure.batch is None or args.vkey is None:
            return _fail(args, EXIT_USAGE, "offline verification (no --rpc-url) needs --disclosure and --vkey")
        return run_batch_offline(args, disclosure, _fail, _emit)
    if args.rpc_url is None:
        return _offline(args, disclosure)
    registry = args.registry or (disclosure.chain.registry if disclosure and disclosure.chain else None)
    attestation_id = args.attestation_id or (disclosure.attestation_id if disclosure else None)
    if args.tx_hash:
        try:
            registry, attestation_id = _from_transaction(args.rpc_url, args.tx_hash, registry)
        except LookupError as exc:
            return _fail(args, EXIT_NOT_FOUND, str(exc))
        except (OSError, ValueError) as exc:
            return _fail(args, EXIT_CHAIN_ERROR, f"cannot read transaction {args.tx_hash}: {exc}")
    if not registry or not attestation_id:
        return _fail(args, EXIT_USAGE, "give --registry and --id, --tx, or a --disclosure bundle that names them")
    try:
        _id_bytes(attestation_id)
    except ValueError:
        return _fail(args, EXIT_USAGE, f"attestation id must be 0x followed by 64 hex digits, got {attestation_id!r}")
    if args.model is not None and not args.model.is_file():
        return _fail(args, EXIT_USAGE, f"model file not found: {args.model}")

    from prover.serialize import vk_from_snarkjs

    from .chain.errors import AttestationNotFound, ChainError
    from .chain.light_reader import LightReader

    report = Report(attestation_id=attestation_id)
    try:
        chain = LightReader(args.rpc_url, timeout=30)  # stdlib JSON-RPC, batched: no web3 import, 3 round trips
        try:
            record = chain.read_attestation(registry, _id_bytes(attestation_id))
        except AttestationNotFound as exc:
            report.add("record", False, str(exc))
            return _emit(args, report)
        report.record = _record_json(record)
        report.add("record", True, f"on chain: block {record.block_number}, tx {record.tx_hash}, "
                                   f"attester {record.attester}")
        if record.revoked:
            what = "its whole model was revoked" if record.model_revoked else "the attestation was revoked"
            report.add("revocation", False, f"{what} at {record.revoked_at} (reason code {record.revocation_reason})")
        else:
            report.add("revocation", True, "not revoked")
        report.add("finality", record.confirmations >= args.confirmations,
                   f"{record.confirmations} confirmation(s), {args.confirmations} required")
        vk = vk_from_calldata(chain.read_verifying_key(chain.registry_verifier(registry)))
    except (ChainError, OSError, ValueError) as exc:
        return _fail(args, EXIT_CHAIN_ERROR, f"cannot read the chain at {args.rpc_url}: {type(exc).__name__}: {exc}")

    if args.vkey is not None:
        published = vk_from_snarkjs(json.loads(args.vkey.read_text()))
        if not report.add("vk", published == vk, "on-chain verifying key equals " + str(args.vkey)
                          if published == vk else f"on-chain verifying key differs from {args.vkey}"):
            return _emit(args, report)
    else:
        report.add("vk", True, f"verifying key read from the registry's verifier contract ({len(vk.ic) - 1} public inputs)")

    public = list(record.public_inputs)
    _progress(args, "checking the Groth16 proof off-chain (pairing)...")
    check_proof(report, vk, public, proof_from_calldata(record.proof))
    if args.model is not None:
        check_model(report, record.model_hash, args.model)
    if args.model_card is not None:
        check_model_card(report, record.model_hash, args.model_card)
    if disclosure is not None:
        try:
            check_disclosure(report, disclosure, attestation_id, public)
        except DisclosureError as exc:
            report.add("disclosure", False, str(exc))
    return _emit(args, report)


def _offline(args: argparse.Namespace, disclosure: Disclosure | None) -> int:
    """Bundle-only verification: the bundle's proof against its public inputs and a published key."""
    if disclosure is None or args.vkey is None:
        return _fail(args, EXIT_USAGE, "offline verification (no --rpc-url) needs --disclosure and --vkey")
    from prover.errors import ProverError
    from prover.serialize import proof_from_snarkjs, vk_from_snarkjs

    report = Report(attestation_id=disclosure.attestation_id)
    try:
        vk = vk_from_snarkjs(json.loads(args.vkey.read_text()))
    except (OSError, ValueError, ProverError) as exc:
        return _fail(args, EXIT_USAGE, f"cannot load verifying key {args.vkey}: {exc}")
    report.add("vk", True, f"published key {args.vkey} ({len(vk.ic) - 1} public inputs); no chain consulted")
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
    return _emit(args, report)


def _progress(args: argparse.Namespace, message: str) -> None:
    if not args.json and sys.stderr.isatty():
        print(message, file=sys.stderr, flush=True)


def _from_transaction(rpc_url: str, tx_hash: str, registry: str | None) -> tuple[str, str]:
    """(registry, attestation id) from the Attested event of a transaction."""
    from .chain.errors import ChainError
    from .chain.light_reader import LightReader

    try:
        with LightReader(rpc_url, timeout=30) as chain:
            return chain.attestation_from_transaction(tx_hash, registry)
    except ChainError as exc:
        raise OSError(str(exc)) from exc


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
        print(json.dumps(report.to_json(), indent=1))
    else:
        print(f"attestation {report.attestation_id}")
        for c in report.checks:
            print(f"  [{'PASS' if c.ok else 'FAIL'}] {c.name:<11} {c.detail}")
        if report.record and "root" in report.record:
            print(f"  batch of {report.record['count']}, slot {report.record['index']}")
        if report.record and "predicted_class" in report.record:
            print(f"  predicted class {report.record['predicted_class']}, model {report.record['model_hash']}")
        print(f"verdict: {'VALID' if report.ok else 'INVALID'}")
    return report.exit_code


def _fail(args: argparse.Namespace, code: int, message: str) -> int:
    if args.json:
        print(json.dumps({"verdict": "ERROR", "exit_code": code, "error": message}))
    else:
        print(f"error: {message}", file=sys.stderr)
    return code


__all__ = ["add_arguments", "run", "EXIT_NOT_FOUND"]
