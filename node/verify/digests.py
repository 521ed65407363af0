"""How node-level data (an input tensor, an explanation) becomes the field elements committed in the circuit.

Both sides use these functions: the node when it attests and the verifier when it recomputes the
digests from a disclosure. They depend only on ``circuits`` (no torch), so the light verifier can run them.

Contract (version ``v1``):

* ``input_hash(shape, values)`` = ``hash_to_field(b"zkxai.input.v1" || shape || vector_hash(values))``
* ``explanation_hash(method, shape, values)`` = ``hash_to_field(b"zkxai.expl.v1" || method || shape || vector_hash(values))``

where ``values`` are the fixed-point integers of :mod:`explainers.encoding` (scale 2**16, round half to
even) and ``shape`` is encoded as a 4-byte big-endian length followed by 4-byte big-endian dimensions.
Binding the method name and the shape stops an explanation being passed off as another method's or
another tensor layout's.
"""

from __future__ import annotations

from collections.abc import Sequence

from circuits.commitment import hash_to_field, vector_hash


def _shape_bytes(shape: Sequence[int]) -> bytes:
    return len(shape).to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in shape)


def input_hash(shape: Sequence[int], values: Sequence[int]) -> int:
    return hash_to_field(b"zkxai.input.v1" + _shape_bytes(shape) + vector_hash(values).to_bytes(32, "big"))


def explanation_hash(method: str, shape: Sequence[int], values: Sequence[int]) -> int:
    tag = method.encode("utf-8")
    return hash_to_field(
        b"zkxai.expl.v1" + len(tag).to_bytes(2, "big") + tag + _shape_bytes(shape) + vector_hash(values).to_bytes(32, "big")
    )
