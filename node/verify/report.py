"""End-to-end verification of one attestation, as a third party runs it (light: no torch).

Checks, each reported on its own:

``chain``         (when a chain id is pinned: --chain-id, --trust) the RPC serves that chain;
``record``        the registry holds a record for the attestation id (and the event that carries its proof), and
                  that registry is pinned (--registry, --trust); a registry only the bundle or transaction names
                  leaves the check UNPINNED;
``attester``      the record's attester is one of the pinned attesters (--attester, --trust), else UNPINNED;
``revocation``    the attestation (or its whole model) has not been revoked by its attester or the registry owner;
``finality``      the record has at least the required number of confirmations;
``vk``            the verifying key read from the registry's verifier contract equals the pinned one (--vkey, a trust
                  entry's vk_sha256); with none pinned it passes only when read from a pinned registry;
``proof``         the Groth16 proof verifies off-chain (native pairing, py_ecc without the extension) against the
                  on-chain public inputs (the context recomputed from the record's chain, registry and attester);
``model``         (with --model) SHA-256 of the local model file equals the attested model hash;
``disclosure``    (with a disclosure bundle) the disclosed input, prediction, explanation and salts reproduce
                  exactly the digests and class recorded on chain (with the bundle's level's digest definitions);
``level``         (with a bundle, or a pinned level) what the proof shows: ``commitment``, ``inference`` or
                  ``explanation`` (:mod:`node.verify.levels`); a proven level counts only when pinned for the record's
                  registry or key (--level, a trust entry's level), else UNPINNED; another pinned level FAILs (14).

Each check is PASS, FAIL or UNPINNED (it rests on nothing the user pinned: see :mod:`node.verify.anchors`).

Batched predictions (:mod:`node.verify.batch`) add ``inclusion`` (the Merkle path to the batch root); their
``revocation`` covers the prediction's slot and its batch, and its model when a disclosure bundle names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from prover.errors import ProverError
from prover.keys import Proof, VerifyingKey
from prover.verify import verify as groth16_verify

from node.verify.disclosure import Disclosure
from node.json_guard import load_file

#: Exit codes of ``zkxai verify``, one per failure kind (the first failing check decides; any FAIL takes
#: precedence over EXIT_UNPINNED).
EXIT_OK = 0
EXIT_PROOF_INVALID = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_DISCLOSURE_MISMATCH = 4
EXIT_MODEL_MISMATCH = 5
EXIT_CHAIN_ERROR = 6
EXIT_VK_MISMATCH = 7
EXIT_REVOKED = 8
EXIT_NOT_FINAL = 9
#: A batched prediction's Merkle path does not lead to the batch root (off-chain or in the registry's view).
EXIT_INCLUSION_FAILED = 10
#: No check failed, but at least one rests on nothing the user pinned (registry, attester, key).
EXIT_UNPINNED = 11
#: The record's attester is not one of the pinned attesters.
EXIT_ATTESTER_MISMATCH = 12
#: The RPC serves another chain than the pinned chain id.
EXIT_CHAIN_MISMATCH = 13
#: The bundle claims another proof level than the one pinned for the record's registry / key.
EXIT_LEVEL_MISMATCH = 14

EXIT_BY_CHECK = {
    "record": EXIT_NOT_FOUND,
    "revocation": EXIT_REVOKED,
    "finality": EXIT_NOT_FINAL,
    "vk": EXIT_VK_MISMATCH,
    "proof": EXIT_PROOF_INVALID,
    "model": EXIT_MODEL_MISMATCH,
    "disclosure": EXIT_DISCLOSURE_MISMATCH,
    "inclusion": EXIT_INCLUSION_FAILED,
    "attester": EXIT_ATTESTER_MISMATCH,
    "chain": EXIT_CHAIN_MISMATCH,
    "level": EXIT_LEVEL_MISMATCH,
}


class Status(str, Enum):
    """Outcome of one check."""

    PASS = "pass"
    FAIL = "fail"
    #: The check found nothing wrong, but what it compared against was not pinned by the user.
    UNPINNED = "unpinned"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str

    @property
    def ok(self) -> bool:
        return self.status is Status.PASS


@dataclass
class Report:
    attestation_id: str
    checks: list[Check] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)
    #: What was not checked and why (e.g. offline: no registry, no attester).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def unpinned(self) -> list[str]:
        return [c.name for c in self.checks if c.status is Status.UNPINNED]

    @property
    def verdict(self) -> str:
        if self.ok:
            return "VALID"
        return "INVALID" if any(c.status is Status.FAIL for c in self.checks) or not self.checks else "UNPINNED"

    @property
    def exit_code(self) -> int:
        for check in self.checks:
            if check.status is Status.FAIL:
                return EXIT_BY_CHECK.get(check.name, EXIT_PROOF_INVALID)
        return EXIT_UNPINNED if self.unpinned else EXIT_OK

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, Status.PASS if ok else Status.FAIL, detail))
        return ok

    def add_unpinned(self, name: str, detail: str) -> None:
        """A check that found nothing wrong against something the user did not pin."""
        self.checks.append(Check(name, Status.UNPINNED, detail))

    def to_json(self) -> dict[str, Any]:
        return {
            "attestation_id": self.attestation_id,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "checks": [{"name": c.name, "status": c.status.value, "ok": c.ok, "detail": c.detail}
                       for c in self.checks],
            "unpinned": self.unpinned,
            "notes": self.notes,
            "record": self.record,
        }


def vk_from_calldata(vk: Sequence[Any]) -> VerifyingKey:
    """Verifying key from the EIP-197 ordered words the verifier contract returns."""
    alpha, beta, gamma, delta, ic = vk

    def g2(p: Sequence[Sequence[int]]) -> tuple[tuple[int, int], tuple[int, int]]:
        return ((int(p[0][1]), int(p[0][0])), (int(p[1][1]), int(p[1][0])))

    return VerifyingKey(
        alpha_g1=(int(alpha[0]), int(alpha[1])),
        beta_g2=g2(beta),
        gamma_g2=g2(gamma),
        delta_g2=g2(delta),
        ic=tuple((int(p[0]), int(p[1])) for p in ic),
    )


def proof_from_calldata(words: Sequence[Any]) -> Proof:
    """Proof from calldata-ordered words (a, b, c), b in EIP-197 order [[x_imag, x_real], [y_imag, y_real]]."""
    a, b, c = words
    return Proof(
        a=(int(a[0]), int(a[1])),
        b=((int(b[0][1]), int(b[0][0])), (int(b[1][1]), int(b[1][0]))),
        c=(int(c[0]), int(c[1])),
    )


def check_proof(report: Report, vk: VerifyingKey, public: Sequence[int], proof: Proof) -> bool:
    try:
        ok = groth16_verify(vk, public, proof)
    except ProverError as exc:
        return report.add("proof", False, f"rejected before pairing: {type(exc).__name__}: {exc}")
    from prover.pairing import backend

    return report.add("proof", ok, f"pairing check passed ({backend()}, off-chain)" if ok else "pairing check FAILED")


def check_model_card(report: Report, model_hash: bytes, card_file: Path) -> bool:
    """A published model card (JSON with a "model_hash" field) names the attested model."""
    try:
        card = load_file(card_file, what="model card")
        published = bytes.fromhex(str(card["model_hash"]).removeprefix("0x"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return report.add("model", False, f"cannot read a model_hash from model card {card_file}: {exc}")
    ok = published == model_hash
    name = card.get("name", card_file.name) if isinstance(card, dict) else card_file.name
    return report.add("model", ok, f"model card {name!r} names 0x{published.hex()}"
                      + ("" if ok else f", not the attested 0x{model_hash.hex()}"))


def check_model(report: Report, model_hash: bytes, model_file: Path) -> bool:
    """The model file hashes to the attested model hash (ONNX: SHA-256 of the bytes; .pt2: its canonical hash)."""
    from explainers.errors import ExplainerError

    from node.verify.model_hash import model_file_hash

    try:
        local, how = model_file_hash(model_file.read_bytes())
    except (OSError, ExplainerError) as exc:
        return report.add("model", False, f"cannot hash {model_file.name}: {exc}")
    ok = local == model_hash
    name = "sha256" if how == "sha256" else "pt2 hash"
    detail = f"{name}({model_file.name}) = 0x{local.hex()}" + ("" if ok else f" != attested 0x{model_hash.hex()}")
    return report.add("model", ok, detail)


def check_disclosure(report: Report, disclosure: Disclosure, attestation_id: str, public: Sequence[int]) -> bool:
    if disclosure.attestation_id.lower() != attestation_id.lower():
        return report.add("disclosure", False, f"bundle is for {disclosure.attestation_id}, not {attestation_id}")
    from circuits.commitment import PUBLIC_INPUTS

    recomputed = disclosure.recomputed_public_inputs()
    if len(recomputed) != len(public):
        return report.add("disclosure", False, f"the bundle ({disclosure.format}) gives {len(recomputed)} public inputs, "
                                               f"the record has {len(public)}")
    bad = [n for n, x, y in zip(PUBLIC_INPUTS, recomputed, public) if x != y]
    if bad:
        return report.add("disclosure", False, "recomputed from the disclosed data and its chain section, these differ "
                                               "from the record: " + ", ".join(bad))
    return report.add(
        "disclosure", True,
        f"input, prediction (class {disclosure.predicted_class}) and explanation ({disclosure.method}) reproduce the digests",
    )
