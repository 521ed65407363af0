"""The circuits of the proof levels ``inference`` and ``explanation``, compiled per model.

Public inputs: exactly :data:`circuits.commitment.PUBLIC_INPUTS`, in that order. The quantized weights are
circuit constants, so the verification key identifies the model; ``model_hash_hi/lo`` are constrained to the
model hash given at compile time. Private: the input ``x`` (as offsets ``x + 2**31``, each range-checked to
32 bits, i.e. x is an int32 at scale 2**16) and the salts (and, at level ``inference``, the explanation hash).

Statement of level ``inference`` (for the compiled QNet N with model hash H)::

    model_hash_hi/lo   = the two 128-bit limbs of H
    input_digest       = proven_input_digest(N.input_shape, x, input_salt)
    scores             = forward(N, x)  (every rounding as in circuits.qnet; all values int32)
    predicted_class    an argmax of scores (ties: any maximal index)
    prediction_digest  = commitment.prediction_digest(scores, predicted_class, prediction_salt)
    explanation_digest = poseidon([explanation_hash, explanation_salt])   (committed, not proven)
    context            carried (p * 1 = p)

Level ``explanation`` (for a method M) replaces the last line by::

    explanation_digest = proven_explanation_digest(M, N.input_shape, explain(N, trace, M, predicted_class),
                                                   explanation_salt)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .builder import Api, CompiledCircuit, compile
from .commitment import (
    MODEL_HASH_BYTES,
    PUBLIC_INPUTS,
    explanation_digest,
    field_element,
    model_hash_limbs,
    prediction_digest,
    prediction_digest_gadget,
)
from .errors import InvalidOpening, QNetError
from .explain_gadgets import explanation_gadget
from .nn import argmax, network, pack_offsets, sponge_gadget, signed_range
from .poseidon import poseidon_gadget
from .qnet import QNet, check_supported, explain, first_argmax, forward
from .qnet.digest import explanation_tag, input_tag, proven_explanation_digest, proven_input_digest
from .qnet.fixed_point import VALUE_OFFSET
from .qnet.forward import check_input

LEVELS: tuple[str, ...] = ("inference", "explanation")


@dataclass(frozen=True, eq=False)
class ProvenCircuit:
    circuit: CompiledCircuit
    net: QNet
    level: str
    method: str | None
    model_hash: bytes

    @property
    def num_classes(self) -> int:
        return self.net.num_classes

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.circuit.layout.secret)


@dataclass(frozen=True)
class ProvenOpening:
    """What the prover knows and the node may disclose: the input, the computed scores, class and explanation."""

    level: str
    method: str | None
    input: tuple[int, ...]
    scores: tuple[int, ...]
    predicted_class: int
    #: the proven attribution (flat, input shape) at level ``explanation``, else None
    explanation: tuple[int, ...] | None
    input_salt: int
    prediction_salt: int
    explanation_salt: int
    #: the committed explanation hash at level ``inference``, else None
    explanation_hash: int | None


def _check_args(net: QNet, level: str, method: str | None, model_hash: bytes) -> None:
    if not isinstance(net, QNet):
        raise QNetError(f"expected a QNet, got {type(net).__name__}")
    if level not in LEVELS:
        raise QNetError(f"level must be one of {LEVELS}, got {level!r}")
    if level == "explanation":
        check_supported(net, method)  # type: ignore[arg-type]
    elif method is not None:
        raise QNetError("level 'inference' takes no method")
    if not isinstance(model_hash, bytes) or len(model_hash) != MODEL_HASH_BYTES:
        raise InvalidOpening(f"model hash must be {MODEL_HASH_BYTES} bytes")


def _define(net: QNet, level: str, method: str | None, model_hash: bytes, api: Api) -> None:
    hi, lo, in_digest, pred_digest, cls, expl_digest, _context = (api.public(name) for name in PUBLIC_INPUTS)
    want_hi, want_lo = model_hash_limbs(model_hash)
    api.assert_equal(hi, want_hi)
    api.assert_equal(lo, want_lo)

    offsets = api.secret_vector("offset_input", net.input_size)
    input_salt = api.secret("input_salt")
    prediction_salt = api.secret("prediction_salt")
    explanation_salt = api.secret("explanation_salt")
    explanation_hash = api.secret("explanation_hash") if level == "inference" else None

    x = [signed_range(api, api.sub(u, VALUE_OFFSET)).value for u in offsets]
    acc = sponge_gadget(api, input_tag(net.input_shape), pack_offsets(api, offsets))
    api.assert_equal(poseidon_gadget(api, [acc, input_salt]), in_digest)

    fw = network(api, net, x)
    scores = fw.score_offsets(api)
    one_hot = argmax(api, scores, cls)
    api.assert_equal(prediction_digest_gadget(api, scores, cls, prediction_salt), pred_digest)

    if explanation_hash is not None:
        api.assert_equal(poseidon_gadget(api, [explanation_hash, explanation_salt]), expl_digest)
        return
    values = explanation_gadget(api, net, fw, one_hot, method)  # type: ignore[arg-type]
    chunks = pack_offsets(api, [api.add(v, VALUE_OFFSET) for v in values])
    acc = sponge_gadget(api, explanation_tag(method, net.input_shape), chunks)  # type: ignore[arg-type]
    api.assert_equal(poseidon_gadget(api, [acc, explanation_salt]), expl_digest)


@lru_cache(maxsize=32)
def _compiled(net: QNet, level: str, method: str | None, model_hash: bytes) -> ProvenCircuit:
    def define(api: Api) -> None:
        _define(net, level, method, model_hash, api)

    return ProvenCircuit(compile(define), net, level, method, model_hash)


def proven_circuit(net: QNet, level: str, method: str | None, model_hash: bytes) -> ProvenCircuit:
    """The compiled circuit of ``level`` for this network, method and model hash (cached by content)."""
    _check_args(net, level, method, model_hash)
    return _compiled(net, level, method, bytes(model_hash))


def proven_witness(
    pc: ProvenCircuit,
    x: Sequence[int],
    *,
    input_salt: int,
    prediction_salt: int,
    explanation_salt: int,
    context: int,
    explanation_hash: int | None = None,
    check: bool = True,
) -> tuple[list[int], list[int], ProvenOpening]:
    """(witness, public inputs in PUBLIC_INPUTS order, opening) for input ``x`` (flat int32 at 2**16).

    The class is the first maximal score. Raises FixedPointOverflow (natively) when a value leaves int32.
    ``explanation_hash`` is required at level ``inference`` and refused at level ``explanation``.
    """
    net = pc.net
    xs = check_input(net, x)
    salts = [field_element(v, n) for v, n in ((input_salt, "input_salt"), (prediction_salt, "prediction_salt"), (explanation_salt, "explanation_salt"))]
    ctx = field_element(context, "context")
    if (pc.level == "inference") != (explanation_hash is not None):
        raise InvalidOpening("explanation_hash is given exactly at level 'inference'")
    trace = forward(net, xs)
    cls = first_argmax(trace.scores)
    hi, lo = model_hash_limbs(pc.model_hash)
    if pc.level == "inference":
        e_hash = field_element(explanation_hash, "explanation_hash")
        expl: tuple[int, ...] | None = None
        e_digest = explanation_digest(e_hash, salts[2])
    else:
        expl = tuple(explain(net, trace, pc.method, cls))  # type: ignore[arg-type]
        e_digest = proven_explanation_digest(pc.method, net.input_shape, expl, salts[2])  # type: ignore[arg-type]
    public = [
        hi,
        lo,
        proven_input_digest(net.input_shape, xs, salts[0]),
        prediction_digest(trace.scores, cls, salts[1]),
        cls,
        e_digest,
        ctx,
    ]
    secret: dict[str, int | list[int]] = {
        "offset_input": [v + VALUE_OFFSET for v in xs],
        "input_salt": salts[0],
        "prediction_salt": salts[1],
        "explanation_salt": salts[2],
    }
    if pc.level == "inference":
        secret["explanation_hash"] = e_hash
    witness = pc.circuit.solve(dict(zip(PUBLIC_INPUTS, public)), secret, check=check)
    opening = ProvenOpening(
        pc.level, pc.method, xs, trace.scores, cls, expl, salts[0], salts[1], salts[2],
        e_hash if pc.level == "inference" else None,
    )
    return witness, public, opening
