"""Native digests of the proven levels: packed int32 values absorbed by a Poseidon sponge.

* ``pack_values``: each int32 ``v`` is offset to ``u = v + 2**31`` in [0, 2**32) and packed 7 per field
  element, ``chunk_k = sum_{j<7} u_{7k+j} * 2**(32 j)`` (224 bits; the same packing as commitment's
  ``pack_scores``; a short last chunk has fewer terms);
* ``sponge(tag, chunks)``: ``acc = tag``, then ``acc = poseidon([acc, c_15k, ..., c_15k+14])`` for each block
  of up to 15 chunks (Poseidon t=17; the last block may be shorter: its length is fixed by the tag's shape);
* tags are ``hash_to_field`` (SHA-256 >> 8) of a domain string naming what is hashed and its shape;
* ``proven_input_digest = poseidon([sponge(tag_input(shape), pack(x)), salt])``,
  ``tag_input = H("zkxai.proven.input.v1" || shape)``;
* ``proven_explanation_digest = poseidon([sponge(tag_explanation(method, shape), pack(e)), salt])``,
  ``tag_explanation = H("zkxai.proven.explanation.v1" || len || method.canonical || shape)``;
* ``model_commitment = sponge(H("zkxai.qnet.model.v1" || canonical architecture JSON), pack(params))``:
  params = every dense/conv layer's weight (row-major, torch's order) then bias, layer by layer; the
  architecture JSON is the qnet JSON with weights and biases removed (sorted keys, no spaces).

A shape is encoded as one byte (its rank) then each dimension as 4 bytes big-endian.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ..commitment import hash_to_field
from ..errors import EncodingError, FixedPointOverflow
from ..field import R
from ..poseidon import poseidon
from .explain import ExplainMethod, parse_method
from .fixed_point import VALUE_BITS, VALUE_MAX, VALUE_MIN, VALUE_OFFSET
from .model import Conv2d, Dense, QNet

VALUES_PER_CHUNK = 7
#: Chunks absorbed per Poseidon call (plus the running state: 16 inputs, the widest circomlib Poseidon).
SPONGE_RATE = 15
INPUT_DOMAIN = b"zkxai.proven.input.v1"
EXPLANATION_DOMAIN = b"zkxai.proven.explanation.v1"
MODEL_DOMAIN = b"zkxai.qnet.model.v1"


def encode_shape(shape: Sequence[int]) -> bytes:
    dims = list(shape)
    if not 1 <= len(dims) <= 255 or any(isinstance(d, bool) or not isinstance(d, int) or not 0 < d < 1 << 32 for d in dims):
        raise EncodingError(f"bad shape {shape!r}")
    return bytes([len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


def pack_values(values: Sequence[int]) -> list[int]:
    """Offset int32 values packed 7 per field element (see module doc)."""
    offsets = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int):
            raise EncodingError(f"value {i} must be an int")
        if not VALUE_MIN <= v <= VALUE_MAX:
            raise FixedPointOverflow(f"value {i} = {v} is outside int32")
        offsets.append(v + VALUE_OFFSET)
    if not offsets:
        raise EncodingError("nothing to pack")
    return [
        sum(u << (VALUE_BITS * j) for j, u in enumerate(offsets[k : k + VALUES_PER_CHUNK]))
        for k in range(0, len(offsets), VALUES_PER_CHUNK)
    ]


def sponge(tag: int, chunks: Sequence[int]) -> int:
    acc = tag
    for k in range(0, len(chunks), SPONGE_RATE):
        acc = poseidon([acc, *chunks[k : k + SPONGE_RATE]])
    return acc


def _count(shape: Sequence[int]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _check_salt(salt: int) -> int:
    if isinstance(salt, bool) or not isinstance(salt, int) or not 0 <= salt < R:
        raise EncodingError("salt must be a field element")
    return salt


def input_tag(shape: Sequence[int]) -> int:
    return hash_to_field(INPUT_DOMAIN + encode_shape(shape))


def explanation_tag(method: str | ExplainMethod, shape: Sequence[int]) -> int:
    name = parse_method(method).canonical.encode()
    return hash_to_field(EXPLANATION_DOMAIN + len(name).to_bytes(2, "big") + name + encode_shape(shape))


def proven_input_digest(shape: Sequence[int], values: Sequence[int], salt: int) -> int:
    """The input digest of the proven levels (what a verifier recomputes from a disclosed input)."""
    if len(values) != _count(shape):
        raise EncodingError(f"{len(values)} values for shape {list(shape)}")
    return poseidon([sponge(input_tag(shape), pack_values(values)), _check_salt(salt)])


def proven_explanation_digest(method: str | ExplainMethod, shape: Sequence[int], values: Sequence[int], salt: int) -> int:
    """The explanation digest of level ``explanation`` (from a disclosed attribution)."""
    if len(values) != _count(shape):
        raise EncodingError(f"{len(values)} values for shape {list(shape)}")
    return poseidon([sponge(explanation_tag(method, shape), pack_values(values)), _check_salt(salt)])


def model_params(net: QNet) -> list[int]:
    out: list[int] = []
    for layer in net.layers:
        if isinstance(layer, Dense):
            out.extend(w for row in layer.weight for w in row)
            out.extend(layer.bias)
        elif isinstance(layer, Conv2d):
            out.extend(w for k in layer.weight for c in k for r in c for w in r)
            out.extend(layer.bias)
    return out


def architecture_json(net: QNet) -> bytes:
    doc = net.to_json()
    for layer in doc["layers"]:
        layer.pop("weight", None)
        layer.pop("bias", None)
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def model_commitment(net: QNet) -> int:
    """Poseidon commitment to exactly these quantized weights and this architecture (native only)."""
    tag = hash_to_field(MODEL_DOMAIN + architecture_json(net))
    params = model_params(net)
    return sponge(tag, pack_values(params)) if params else poseidon([tag])
