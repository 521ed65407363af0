"""End-to-end verification of one attestation, as a third party runs it (light: no torch).

Checks, each reported on its own:

``record``        the registry holds a record for the attestation id (and the event that carries its proof);
``revocation``    the attestation (or its whole model) has not been revoked by its attester or the registry owner;
``finality``      the record has at least the required number of confirmations;
``vk``            the verifying key read from the registry's verifier contract (and, if given, equals a published one);
``proof``         the Groth16 proof verifies off-chain (native pairing, py_ecc without the extension) against the
                  on-chain public inputs;
``model``         (with --model) SHA-256 of the local model file equals the attested model hash;
``disclosure``    (with a disclosure bundle) the disclosed input, prediction, explanation and salts reproduce
                  exactly the digests and class recorded on chain.

Batched predictions (:mod:`node.batch_verify`) add ``inclusion`` (the Merkle path to the batch root); their
``revocation`` covers the prediction's slot and its batch, and its model when a disclosure bundle names it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prover.errors import ProverError
from prover.keys import Proof, VerifyingKey
from prover.verify import verify as groth16_verify

from .disclosure import Disclosure

#: Exit codes of ``zkxai verify``, one per failure kind (the first failing check decides).
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

EXIT_BY_CHECK = {
    "record": EXIT_NOT_FOUND,
    "revocation": EXIT_REVOKED,
    "finality": EXIT_NOT_FINAL,
    "vk": EXIT_VK_MISMATCH,
    "proof": EXIT_PROOF_INVALID,
    "model": EXIT_MODEL_MISMATCH,
    "disclosure": EXIT_DISCLOSURE_MISMATCH,
    "inclusion": EXIT_INCLUSION_FAILED,
}


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    attestation_id: str
    checks: list[Check] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def exit_code(self) -> int:
        for check in self.checks:
            if not check.ok:
                return EXIT_BY_CHECK.get(check.name, EXIT_PROOF_INVALID)
        return EXIT_OK

    def add(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, ok, detail))
        return ok

    def to_json(self) -> dict[str, Any]:
        return {
            "attestation_id": self.attestation_id,
            "verdict": "VALID" if self.ok else "INVALID",
            "exit_code": self.exit_code,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
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
    import json

    try:
        card = json.loads(card_file.read_text())
        published = bytes.fromhex(str(card["model_hash"]).removeprefix("0x"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return report.add("model", False, f"cannot read a model_hash from model card {card_file}: {exc}")
    ok = published == model_hash
    name = card.get("name", card_file.name) if isinstance(card, dict) else card_file.name
    return report.add("model", ok, f"model card {name!r} names 0x{published.hex()}"
                      + ("" if ok else f", not the attested 0x{model_hash.hex()}"))


def check_model(report: Report, model_hash: bytes, model_file: Path) -> bool:
    local = hashlib.sha256(model_file.read_bytes()).digest()
    ok = local == model_hash
    detail = f"sha256({model_file.name}) = 0x{local.hex()}" + ("" if ok else f" != attested 0x{model_hash.hex()}")
    return report.add("model", ok, detail)


def check_disclosure(report: Report, disclosure: Disclosure, attestation_id: str, public: Sequence[int]) -> bool:
    if disclosure.attestation_id.lower() != attestation_id.lower():
        return report.add("disclosure", False, f"bundle is for {disclosure.attestation_id}, not {attestation_id}")
    recomputed = disclosure.recomputed_public_inputs()
    names = ("model_hash_hi", "model_hash_lo", "input_digest", "prediction_digest", "predicted_class", "explanation_digest")
    bad = [n for n, x, y in zip(names, recomputed, public, strict=True) if x != y]
    if bad:
        return report.add("disclosure", False, "recomputed from the disclosed data, these differ from the record: " + ", ".join(bad))
    return report.add(
        "disclosure", True,
        f"input, prediction (class {disclosure.predicted_class}) and explanation ({disclosure.method}) reproduce the digests",
    )
