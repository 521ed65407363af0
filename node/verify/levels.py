"""Proof levels: what a record's proof shows, and how a bundle's digests are recomputed at each level (light: no
torch; ``circuits.qnet`` is imported only for proven levels).

* ``commitment`` -- the attester knows salted openings of the input, score vector and attribution digests, and the
  public class is an argmax of the committed scores (every bundle before format 3). The digests are
  :mod:`node.verify.digests` (SHA-256 of the fixed-point data inside a Poseidon commitment).
* ``inference`` -- additionally, the committed (quantized, fixed-point) model applied to the committed input yields
  exactly the committed scores; the class is their argmax. The input digest is ``circuits.qnet``'s
  :func:`proven_input_digest` (the circuit hashes the input it computes on).
* ``explanation`` -- additionally, the committed attribution is exactly the chosen method's output for that model,
  input and class; the explanation digest is :func:`proven_explanation_digest` (method, shape, values, salt).

At proven levels the model's weights are constants of the circuit, which pins the model hash: one verifying key per
(model, level, method), hence one verifier contract and one AttestationRegistry. The level is therefore a property
of the registry's verifier key, never of what a bundle says: ``zkxai verify`` believes a proven level only when the
user pinned it for the record's registry or key (``--level``, a trust entry's ``level``; see
:mod:`node.verify.anchors`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from node.errors import BadRequest

COMMITMENT, INFERENCE, EXPLANATION = "commitment", "inference", "explanation"
LEVELS: tuple[str, ...] = (COMMITMENT, INFERENCE, EXPLANATION)
#: Levels whose proof covers the computation (a circuit per model; the quantized model's scores are committed).
PROVEN_LEVELS: tuple[str, ...] = (INFERENCE, EXPLANATION)
#: Names the digest definitions of a format-3 bundle at a proven level (``circuits.qnet``'s native functions).
PROVEN_DIGESTS = "circuits.qnet/v1"


class UnknownLevel(BadRequest):
    """A level name that is not one of :data:`LEVELS`."""

    code = "unknown_level"


def parse_level(value: object, what: str = "level") -> str:
    if value not in LEVELS:
        raise UnknownLevel(f"{what} must be one of {', '.join(LEVELS)}, got {value!r}")
    return str(value)


@dataclass(frozen=True)
class Level:
    """A proof level with, at ``explanation``, the attribution method its circuit computes."""

    name: str = COMMITMENT
    method: str | None = None

    @property
    def proven(self) -> bool:
        return self.name in PROVEN_LEVELS

    def __str__(self) -> str:
        return self.name if self.name != EXPLANATION or not self.method else f"{self.name}:{self.method}"

    @classmethod
    def parse(cls, text: str, what: str = "--level") -> Level:
        """``commitment`` | ``inference`` | ``explanation[:METHOD]``."""
        name, _, method = text.partition(":")
        name = parse_level(name, what)
        if method and name != EXPLANATION:
            raise UnknownLevel(f"{what}: only level explanation names a method, got {text!r}")
        return cls(name, method or None)


def what_is_proven(level: str, method: str) -> str:
    """One line saying what a record at ``level`` proves (the ``level`` check of ``zkxai verify``)."""
    if level == EXPLANATION:
        return (f"explanation: the committed model computed the prediction and the {method} attribution "
                "(quantized fixed-point model, scores and attribution exactly as the circuit computes them)")
    if level == INFERENCE:
        return ("inference: the committed model applied to the committed input yields the committed scores, the class "
                f"is their argmax (the {method} attribution is committed, not proven)")
    return ("commitment: the attester knows openings of the committed input, scores and attribution, the class is an "
            "argmax of the scores; that the model computed them rests on the attester")


def proven_digests(level: str, method: str, input_shape: Sequence[int], input_values: Sequence[int], input_salt: int,
                   explanation_shape: Sequence[int], explanation_values: Sequence[int],
                   explanation_salt: int) -> tuple[int, int]:
    """(input_digest, explanation_digest) of a proven-level statement, recomputed with ``circuits.qnet``'s native
    functions; at ``inference`` the explanation is committed as at ``commitment`` (:mod:`node.verify.digests`)."""
    from circuits.commitment import explanation_digest as salted
    from circuits.qnet import proven_explanation_digest, proven_input_digest

    from node.verify.digests import explanation_hash

    inp = proven_input_digest(tuple(input_shape), tuple(input_values), input_salt)
    if level == EXPLANATION:
        expl = proven_explanation_digest(method, tuple(explanation_shape), tuple(explanation_values), explanation_salt)
    else:
        expl = salted(explanation_hash(method, explanation_shape, explanation_values), explanation_salt)
    return inp, expl


__all__ = ["COMMITMENT", "EXPLANATION", "INFERENCE", "LEVELS", "Level", "PROVEN_DIGESTS", "PROVEN_LEVELS",
           "UnknownLevel", "parse_level", "proven_digests", "what_is_proven"]
