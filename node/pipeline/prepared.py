"""What happens to one prediction, as pure steps the staged engine (:mod:`node.pipeline.engine`) runs and persists.

encode (fixed-point, salts) -> :class:`Prepared` (stored before proving) -> opening -> proof -> disclosure.

At a proven level (:mod:`node.pipeline.proven`) the prepared values are the quantized oracle's
(:meth:`Prepared.encode_proven`) and the statement's input / explanation digests are the proven circuit's
(:func:`node.verify.levels.proven_digests`), the same functions a verifier recomputes them with.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from circuits.commitment import CommitmentOpening, new_salt, statement_values
from explainers.encoding import logits_to_fixed, to_fixed

from node.verify.digests import (
    explanation_hash,
    input_hash,
)
from node.pipeline.proven import OracleResult, ProvenJob
from node.verify.disclosure import (
    ChainRef,
    Disclosure,
)
from node.verify.levels import COMMITMENT, EXPLANATION, PROVEN_LEVELS, proven_digests

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
    #: The proof level (node.verify.levels); rows prepared before levels load as commitment.
    level: str = COMMITMENT
    #: Proven levels: the Poseidon commitment of the quantized weights (decimal).
    model_commitment: str | None = None

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

    @classmethod
    def encode_proven(cls, model_hash: bytes, level: str, method: str, model_commitment: str, input_shape: tuple[int, ...],
                      result: OracleResult, attribution: np.ndarray | None) -> Prepared:
        """A proven-level prediction: the oracle's fixed-point input and scores and, at level explanation, its
        attribution; at level inference the float explainer's ``attribution`` (committed, not proven)."""
        if result.attribution is not None:
            expl_shape, expl_values = input_shape, result.attribution
        else:
            assert attribution is not None
            expl_shape, expl_values = tuple(int(d) for d in attribution.shape), tuple(to_fixed(attribution))
        return cls(
            model_hash="0x" + model_hash.hex(), input_shape=input_shape, input_values=result.input_values,
            input_salt=new_salt(), scores=result.scores, predicted_class=result.predicted_class,
            num_classes=len(result.scores), method=method, explanation_shape=expl_shape,
            explanation_values=tuple(expl_values), explanation_salt=new_salt(), prediction_salt=new_salt(),
            level=level, model_commitment=model_commitment,
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
        values = statement_values(self.opening())
        if self.level in PROVEN_LEVELS:
            values[2], values[5] = proven_digests(self.level, self.method, self.input_shape, self.input_values,
                                                  self.input_salt, self.explanation_shape, self.explanation_values,
                                                  self.explanation_salt)
        return values

    def public_inputs(self, context: int) -> list[int]:
        """The proof's public inputs: the statement, then ``context``."""
        return [*self.statement(), context]

    def proven_job(self, pk_path: str, qnet_json: str, context: int) -> ProvenJob:
        """What a prover worker needs to prove this proven-level prediction in ``context``."""
        return ProvenJob(
            pk_path=pk_path, qnet_json=qnet_json, level=self.level, method=self.method,
            model_hash=bytes.fromhex(self.model_hash[2:]), x=self.input_values, input_salt=self.input_salt,
            prediction_salt=self.prediction_salt, explanation_salt=self.explanation_salt, context=context,
            explanation_hash=None if self.level == EXPLANATION else explanation_hash(
                self.method, self.explanation_shape, self.explanation_values),
            expected_public=tuple(self.public_inputs(context)),
        )

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
        public = self.statement() if batched else self.public_inputs(chain.context())
        return Disclosure(
            attestation_id=attestation_id, chain=chain, model_hash=bytes.fromhex(self.model_hash[2:]),
            input_shape=self.input_shape, input_values=self.input_values, input_salt=self.input_salt,
            predicted_class=self.predicted_class, num_classes=self.num_classes, scores=self.scores,
            prediction_salt=self.prediction_salt, method=self.method, explanation_shape=self.explanation_shape,
            explanation_values=self.explanation_values, explanation_salt=self.explanation_salt,
            public_inputs=tuple(public), proof=proof, assessment=assessment, level=self.level,
            model_commitment=int(self.model_commitment) if self.model_commitment is not None else None,
        )
