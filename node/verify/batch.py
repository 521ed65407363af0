"""``zkxai verify`` for a batched prediction (light install: no torch).

Selected when the disclosure bundle has a ``batch`` section, or with ``--batch-registry ADDR --root R --leaf L
--index I --path P1,P2,..``. Checks, each reported:

``chain``       (when a chain id is pinned) the RPC serves it;
``record``      the BatchAttestationRegistry, pinned (--batch-registry, --trust; else UNPINNED), records the root (``isBatchRoot``) and ``getBatch(batch_id)`` returns
                it, with the batch id = keccak256(abi.encode(root, count)) the bundle names;
``attester``    the batch's attester is a pinned one (--attester, --trust; else UNPINNED);
``revocation``  neither the prediction (its slot, ``leafRevocation``) nor its batch (``batchRevocation``) is revoked,
                nor, with a bundle (which opens the leaf and so names its model), its model (``modelRevocation``);
                without a bundle the leaf's model is unknown and model-wide revocation is not checked (said so);
``finality``    the batch has at least the required number of confirmations;
``vk``          the batch verifier's key read from chain equals the pinned one (--vkey, a trust entry's
                batch_vk_sha256); with none pinned, PASS only from a pinned batch registry, else UNPINNED;
``proof``       the batch proof from the ``BatchAttested`` event verifies off-chain against ``[root, count]``;
``inclusion``   the leaf's Merkle path leads to the root off-chain (``index < count``, leaf not padding) and the
                registry's ``verifyInclusion`` view agrees;
``model``       (with --model / --model-card and a bundle) the local model is the one the leaf commits to;
``disclosure``  (with a bundle) the disclosed data recompute the six statement values whose Poseidon hash is
                the leaf, and the attestation id is that leaf.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from node.verify.anchors import (
    NOT_CHECKED_OFFLINE,
    NOTHING_PINNED,
    Anchors,
    check_attester,
    check_chain,
    check_registry,
    check_vk,
    nodes_for,
    offline_vk_check,
    pinned_attesters,
    pinned_digests,
    pinned_registries,
)
from node.verify.disclosure import (
    Disclosure,
    leaf_id,
)
from node.errors import DisclosureError
from node.verify.report import (
    EXIT_CHAIN_ERROR,
    EXIT_USAGE,
    Report,
    check_model,
    check_model_card,
    check_proof,
    proof_from_calldata,
    vk_from_calldata,
)


@dataclass(frozen=True)
class BatchClaim:
    """What is being verified: a leaf at ``index`` under ``root`` in ``registry``, with its path."""

    registry: str | None
    root: int
    leaf: int
    index: int
    path: tuple[int, ...]
    batch_id: str | None


def is_batch_request(args: argparse.Namespace, disclosure: Disclosure | None) -> bool:
    return bool(getattr(args, "batch_registry", None) or getattr(args, "root", None)
                or (disclosure is not None and disclosure.batch is not None))


def claim_from(args: argparse.Namespace, disclosure: Disclosure | None) -> BatchClaim:
    """The claim from the flags, falling back on the bundle's batch section (raises ValueError if incomplete)."""
    ref = disclosure.batch if disclosure is not None else None

    def pick(flag: Any, fallback: Any, what: str) -> Any:
        if flag is not None:
            return flag
        if fallback is None:
            raise ValueError(f"batch verification needs {what} (flag or a bundle with a batch section)")
        return fallback

    path_flag = None if args.path is None else tuple(int(p) for p in args.path.split(",") if p.strip())
    return BatchClaim(
        registry=args.batch_registry or (ref.registry if ref else None),
        root=int(pick(args.root, ref.root if ref else None, "--root")),
        leaf=int(pick(args.leaf, ref.leaf if ref else None, "--leaf")),
        index=int(pick(args.index, ref.index if ref else None, "--index")),
        path=pick(path_flag, ref.path if ref else None, "--path"),
        batch_id=ref.batch_id if ref else None,
    )


def check_inclusion_offchain(claim: BatchClaim, count: int) -> tuple[bool, str]:
    from circuits.errors import CircuitError
    from circuits.merkle import verify_path

    if claim.leaf == 0:
        return False, "the leaf is 0 (padding), not a prediction"
    if not 0 <= claim.index < count:
        return False, f"index {claim.index} is outside the batch's {count} prediction(s)"
    try:
        ok = verify_path(claim.leaf, claim.index, claim.path, claim.root)
    except CircuitError as exc:
        return False, f"malformed path: {exc}"
    return ok, "Merkle path leads to the root (off-chain)" if ok else "Merkle path does NOT lead to the root"


def check_batch_disclosure(report: Report, disclosure: Disclosure, claim: BatchClaim) -> bool:
    from circuits.batch import statement_leaf

    if disclosure.attestation_id.lower() != leaf_id(claim.leaf):
        return report.add("disclosure", False, f"bundle is for {disclosure.attestation_id}, not leaf {leaf_id(claim.leaf)}")
    recomputed = disclosure.recomputed_public_inputs()
    if list(disclosure.public_inputs) != recomputed:
        return report.add("disclosure", False, "the bundle's public_inputs differ from those recomputed from its data")
    leaf = statement_leaf(recomputed)
    if leaf != claim.leaf:
        return report.add("disclosure", False, "recomputed from the disclosed data, the statement hashes to another "
                          "leaf than the one in the batch")
    return report.add("disclosure", True, f"input, prediction (class {disclosure.predicted_class}) and explanation "
                      f"({disclosure.method}) reproduce the leaf")


def run_batch(args: argparse.Namespace, disclosure: Disclosure | None, anchors: Anchors, fail: Any, emit: Any) -> int:
    """Online batch verification; ``fail(args, code, message)`` / ``emit(args, report)`` print and return the code."""
    try:
        claim = claim_from(args, disclosure)
    except ValueError as exc:
        return int(fail(args, EXIT_USAGE, str(exc)))
    if (args.model is not None or args.model_card is not None) and disclosure is None:
        return int(fail(args, EXIT_USAGE, "--model / --model-card of a batched prediction need its --disclosure bundle"))
    if args.model is not None and not args.model.is_file():
        return int(fail(args, EXIT_USAGE, f"model file not found: {args.model}"))
    report = Report(attestation_id=leaf_id(claim.leaf))
    if anchors.empty:
        report.notes.append(NOTHING_PINNED)
    model_hash = disclosure.model_hash if disclosure is not None else None
    try:
        chain_id = _chain_id(args.rpc_url)
        pinned = pinned_registries(anchors, chain_id, batch=True)
        candidates = [a for a in pinned if claim.registry and a.lower() == claim.registry.lower()]
        candidates += [a for a in pinned if a not in candidates] if pinned else [claim.registry] * bool(claim.registry)
        if not candidates:
            return int(fail(args, EXIT_USAGE, "give --batch-registry (or --trust), or a bundle whose batch section "
                            "names it"))
        check_chain(report, anchors, chain_id)
        chain = None
        for registry in candidates:
            chain = _read_batch(args.rpc_url, replace(claim, registry=registry), model_hash)
            if chain is not None:
                claim = replace(claim, registry=registry)
                break
    except (OSError, ValueError) as exc:
        return int(fail(args, EXIT_CHAIN_ERROR, f"cannot read the chain at {args.rpc_url}: {type(exc).__name__}: {exc}"))
    if chain is None:
        report.add("record", False, f"root {claim.root} is not a batch root on {', '.join(candidates)}"
                   + (" (pinned)" if pinned else ""))
        return int(emit(args, report))
    (count, block, attester, tx_hash, proof_words, vk_words, confirmations, onchain_inclusion, batch_id,
     revocation, context) = chain
    registry = str(claim.registry)
    report.record = {"root": str(claim.root), "count": count, "batch_id": batch_id, "attester": attester,
                     "registry": registry, "block_number": block, "tx_hash": tx_hash, "confirmations": confirmations,
                     "index": claim.index, "leaf": str(claim.leaf)} | revocation_json(revocation, model_hash)
    if claim.batch_id is not None and claim.batch_id.lower() != batch_id:
        report.add("record", False, f"the bundle names batch {claim.batch_id}, the registry has {batch_id} for the root")
        return int(emit(args, report))
    registry_is_pinned = any(registry.lower() == a.lower() for a in pinned)
    check_registry(report, registry, pinned, "the bundle or the flags" if args.batch_registry is None else "--batch-registry",
                   f"batch {batch_id} of {count} prediction(s) on chain {chain_id}: block {block}, tx {tx_hash}")
    check_attester(report, attester, pinned_attesters(anchors, chain_id, registry, batch=True))
    check_revocation(report, revocation, claim, batch_id, model_hash)
    report.add("finality", confirmations >= args.confirmations,
               f"{confirmations} confirmation(s), {args.confirmations} required")
    vk = vk_from_calldata(vk_words)
    digests = pinned_digests(anchors, nodes_for(anchors, chain_id, registry, batch=True), batch=True)
    check_vk(report, vk, anchors, digests, registry_is_pinned, "the batch registry's verifier")
    from node.chains.ethereum.calldata import (
        CalldataError,
        unflatten_proof,
    )

    try:
        words = unflatten_proof([int(w) for w in proof_words])
    except CalldataError as exc:
        report.add("proof", False, f"malformed proof in the BatchAttested event: {exc}")
    else:
        check_proof(report, anchors.vkey if anchors.vkey is not None else vk, [claim.root, count, context],
                    proof_from_calldata(words))
    ok, detail = check_inclusion_offchain(claim, count)
    report.add("inclusion", ok and onchain_inclusion,
               detail + ("; the registry's verifyInclusion agrees" if onchain_inclusion
                         else "; the registry's verifyInclusion REJECTS it"))
    _disclosure_checks(args, report, disclosure, claim)
    return int(emit(args, report))


def _chain_id(rpc_url: str) -> int:
    from web3 import Web3

    try:
        return int(Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30})).eth.chain_id)
    except Exception as exc:  # web3 raises many unrelated types; all mean the chain could not be read
        if isinstance(exc, (OSError, ValueError)):
            raise
        raise OSError(f"{type(exc).__name__}: {exc}") from exc


#: Revocation read from the batch registry: {"leaf" | "batch" | "model": (revoked, revoked_at, reason)}; the
#: model entry is absent when the leaf's model is unknown (no bundle); None when the registry has no revocation.
Revocations = dict[str, tuple[bool, int, int]] | None


def revocation_json(revocation: Revocations, model_hash: bytes | None) -> dict[str, Any]:
    """The report's revocation fields (the single-mode ones, plus the batch's and the slot's flags)."""
    rev = revocation or {}
    scope = next((k for k in ("leaf", "batch", "model") if k in rev and rev[k][0]), None)
    _, at, reason = rev[scope] if scope else (False, 0, 0)
    return {"revoked": scope is not None, "revoked_at": at, "revocation_reason": reason, "revocation_scope": scope,
            "leaf_revoked": bool(rev.get("leaf", (False,))[0]), "batch_revoked": bool(rev.get("batch", (False,))[0]),
            "model_revoked": bool(rev["model"][0]) if "model" in rev else None,
            "model_hash": None if model_hash is None else "0x" + model_hash.hex()}


def check_revocation(report: Report, revocation: Revocations, claim: BatchClaim, batch_id: str,
                     model_hash: bytes | None) -> bool:
    """The ``revocation`` check (a failure exits with ``EXIT_REVOKED``, 8)."""
    if revocation is None:
        return report.add("revocation", True, "not revoked (this batch registry predates revocation)")
    what = {"leaf": f"the prediction (slot {claim.index} of batch {batch_id}) was revoked",
            "batch": f"its whole batch {batch_id} was revoked",
            "model": f"its whole model 0x{model_hash.hex() if model_hash else '?'} was revoked"}
    for scope in ("leaf", "batch", "model"):
        if scope in revocation and revocation[scope][0]:
            _, at, reason = revocation[scope]
            return report.add("revocation", False, f"REVOKED: {what[scope]} at {at} (reason code {reason})")
    if "model" not in revocation:
        return report.add("revocation", True, "prediction and batch not revoked; model-wide revocation not checked "
                          "(without a disclosure bundle the leaf's model is unknown)")
    return report.add("revocation", True, "not revoked (prediction, batch and model)")


def run_batch_offline(args: argparse.Namespace, disclosure: Disclosure, anchors: Anchors, fail: Any,
                      emit: Any) -> int:
    """Bundle-only batch verification: the batch proof against [root, count, context] (the context from the bundle's
    chain section; format-1 bundles predate it) and the pinned key, the path, the data."""
    from prover.errors import ProverError
    from prover.serialize import proof_from_snarkjs

    assert disclosure.batch is not None and anchors.vkey is not None
    claim = claim_from(args, disclosure)
    report = Report(attestation_id=disclosure.attestation_id)
    vk = anchors.vkey
    offline_vk_check(report, anchors, vk, batch=True)
    report.notes.append(NOT_CHECKED_OFFLINE)
    try:
        proof = proof_from_snarkjs(disclosure.proof)
    except ProverError as exc:
        report.add("proof", False, f"malformed proof in the bundle: {exc}")
    else:
        public = [claim.root, disclosure.batch.count]
        try:
            check_proof(report, vk, [*public, disclosure.context()] if disclosure.bound else public, proof)
        except DisclosureError as exc:
            report.add("proof", False, f"the bundle does not say which context the proof is bound to: {exc}")
    ok, detail = check_inclusion_offchain(claim, disclosure.batch.count)
    report.add("inclusion", ok, detail)
    _disclosure_checks(args, report, disclosure, claim)
    return int(emit(args, report))


def _disclosure_checks(args: argparse.Namespace, report: Report, disclosure: Disclosure | None,
                       claim: BatchClaim) -> None:
    if disclosure is None:
        return
    if args.model is not None:
        check_model(report, disclosure.model_hash, args.model)
    if args.model_card is not None:
        check_model_card(report, disclosure.model_hash, args.model_card)
    try:
        check_batch_disclosure(report, disclosure, claim)
    except DisclosureError as exc:
        report.add("disclosure", False, str(exc))


def _read_revocation(registry: Any, claim: BatchClaim, model_hash: bytes | None) -> Revocations:
    """The slot's, the batch's and (given the model) the model's revocation; None for a registry without them."""
    from web3.exceptions import BadFunctionCallOutput, ContractLogicError

    try:
        out = {"leaf": tuple(registry.functions.leafRevocation(claim.root, claim.index).call()),
               "batch": tuple(registry.functions.batchRevocation(claim.root).call())}
        if model_hash is not None:
            out["model"] = tuple(registry.functions.modelRevocation(model_hash).call())
    except (BadFunctionCallOutput, ContractLogicError):  # no such function: deployed before revocation existed
        return None
    return {k: (bool(v[0]), int(v[1]), int(v[2])) for k, v in out.items()}


def _read_batch(rpc_url: str, claim: BatchClaim, model_hash: bytes | None = None) -> tuple[Any, ...] | None:
    """Everything read from chain for the claim, or None when the root is not recorded."""
    from web3 import Web3
    from web3.exceptions import ContractLogicError

    from contracts import abi

    from node.chains.binding import attestation_context
    from node.chains.ethereum.reader import read_verifying_key

    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
    try:
        registry = w3.eth.contract(address=Web3.to_checksum_address(claim.registry or ""),
                                   abi=abi("BatchAttestationRegistry"))
        if not registry.functions.isBatchRoot(claim.root).call():
            return None
        ident = bytes(registry.functions.batchIdOf(claim.root).call())
        root, record = registry.functions.getBatch(ident).call()
        attester, count, _timestamp, block = record
        if int(root) != claim.root:
            raise ValueError("getBatch returned another root")
        logs = registry.events.BatchAttested().get_logs(from_block=int(block), to_block=int(block),
                                                        argument_filters={"batchId": ident})
        if len(logs) != 1:
            raise ValueError(f"expected one BatchAttested event for the batch in block {block}, found {len(logs)}")
        vk_words = read_verifying_key(w3, str(registry.functions.verifier().call()))
        try:
            onchain = bool(registry.functions.verifyInclusion(claim.root, claim.leaf, claim.index,
                                                               list(claim.path)).call())
        except ContractLogicError:  # e.g. a path of the wrong length: the registry refuses it
            onchain = False
        revocation = _read_revocation(registry, claim, model_hash)
        confirmations = int(w3.eth.block_number) - int(block) + 1
        context = attestation_context(int(w3.eth.chain_id), registry.address, str(attester))
    except Exception as exc:  # web3 raises many unrelated types; all mean the chain could not be read as expected
        if isinstance(exc, (OSError, ValueError)):
            raise
        raise OSError(f"{type(exc).__name__}: {exc}") from exc
    entry = logs[0]
    return (int(count), int(block), str(attester), "0x" + bytes(entry["transactionHash"]).hex(),
            list(entry["args"]["proof"]), vk_words, confirmations, onchain, "0x" + ident.hex(), revocation, context)
