"""What happens to one prediction, as pure steps the staged engine (:mod:`node.pipeline.engine`) runs and persists.

encode (fixed-point, salts) -> :class:`Prepared` (stored before proving) -> opening -> proof -> disclosure.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from circuits.commitment import CommitmentOpening, new_salt, public_inputs, statement_values
from explainers.encoding import logits_to_fixed, to_fixed

from node.verify.digests import (
    explanation_hash,
    input_hash,
)
from node.verify.disclosure import (
    ChainRef,
    Disclosure,
)

#: Padding for unused class slots: the smallest int32, so a padded slot can never be the argmax.
PAD_SCORE = -(2**31)


def fixed_scores(logits: np.ndarray, circuit_classes: int) -> tuple[int, ...]:
    scores = logits_to_fixed(logits)
    return tuple(scores) + (PAD_SCORE,) * (circuit_classes - len(scores))


def argmax_first(scores: tuple[int, ...]) -> int:
    """The committed class: the first index holding the largest committed (fixed-point) score."""
    return scores.index(max(scores))


@dataclass(frozen=True)
class Prepared:
    """Everything committed for one prediction, salts included. Persisted before proving."""

    model_hash: str
    input_shape: tuple[int, ...]
    input_values: tuple[int, ...]
    input_salt: int
    scores: tuple[int, ...]
    predicted_class: int
    num_classes: int
    method: str
    explanation_shape: tuple[int, ...]
    explanation_values: tuple[int, ...]
    explanation_salt: int
    prediction_salt: int

    @classmethod
    def encode(cls, model_hash: bytes, num_classes: int, x: np.ndarray, logits: np.ndarray, method: str,
               attribution: np.ndarray, circuit_classes: int) -> Prepared:
        """Fixed-point encode one sample's input, logits and attribution, with fresh salts."""
        scores = fixed_scores(logits, circuit_classes)
        return cls(
            model_hash="0x" + model_hash.hex(), input_shape=tuple(int(d) for d in x.shape),
            input_values=tuple(to_fixed(x)), input_salt=new_salt(), scores=scores,
            predicted_class=argmax_first(scores), num_classes=num_classes, method=method,
            explanation_shape=tuple(int(d) for d in attribution.shape), explanation_values=tuple(to_fixed(attribution)),
            explanation_salt=new_salt(), prediction_salt=new_salt(),
        )

    def opening(self) -> CommitmentOpening:
        return CommitmentOpening(
            model_hash=bytes.fromhex(self.model_hash[2:]),
            input_hash=input_hash(self.input_shape, self.input_values),
            input_salt=self.input_salt,
            scores=self.scores,
            predicted_class=self.predicted_class,
            prediction_salt=self.prediction_salt,
            explanation_hash=explanation_hash(self.method, self.explanation_shape, self.explanation_values),
            explanation_salt=self.explanation_salt,
        )

    def statement(self) -> list[int]:
        """The six statement values (circuits.commitment.STATEMENT) this prediction commits to."""
        return statement_values(self.opening())

    def to_json(self) -> str:
        d = asdict(self)
        for k in ("input_salt", "explanation_salt", "prediction_salt"):
            d[k] = str(d[k])
        return json.dumps(d)

    @classmethod
    def from_json(cls, raw: str) -> Prepared:
        d = json.loads(raw)
        for k in ("input_salt", "explanation_salt", "prediction_salt"):
            d[k] = int(d[k])
        for k in ("input_shape", "input_values", "scores", "explanation_shape", "explanation_values"):
            d[k] = tuple(d[k])
        return cls(**d)

    def disclosure(self, attestation_id: str, chain: ChainRef, proof: dict[str, Any],
                   assessment: dict[str, Any] | None = None, *, batched: bool = False) -> Disclosure:
        """The bundle of this prediction attested at ``chain`` (its attester set). ``batched``: its public inputs
        are the statement alone (the leaf's preimage; the batch proof carries the context)."""
        opening = self.opening()
        public = statement_values(opening) if batched else public_inputs(opening, chain.context())
        return Disclosure(
            attestation_id=attestation_id, chain=chain, model_hash=bytes.fromhex(self.model_hash[2:]),
            input_shape=self.input_shape, input_values=self.input_values, input_salt=self.input_salt,
            predicted_class=self.predicted_class, num_classes=self.num_classes, scores=self.scores,
            prediction_salt=self.prediction_salt, method=self.method, explanation_shape=self.explanation_shape,
            explanation_values=self.explanation_values, explanation_salt=self.explanation_salt,
            public_inputs=tuple(public), proof=proof, assessment=assessment,
        )
