"""Fixed-point encoding of logits and attributions: the exact integers that digests and circuits commit to.

Contract (version ``zkxai.fixed.v1``):

* ``SCALE_BITS = 16``: a real value ``v`` is represented by the integer ``q = rint(float64(v) * 2**16)``,
  rounding half to even (``numpy.rint``). Decoding is ``q / 2**16``.
* The array is flattened in C order (row-major, last axis fastest) into a Python ``list[int]``.
* Range: ``q`` must lie in the signed 32-bit range ``[-2**31, 2**31 - 1]`` (|v| < 32768).
  - Attributions (:func:`to_fixed`, default ``clamp=True``) are saturated to that range; attribution
    magnitudes beyond 32768 carry no extra meaning for an explanation digest.
  - Logits (:func:`logits_to_fixed`) are never clamped: out of range raises :class:`InvalidInput`,
    because a clamped logit could change which class the digest claims is predicted.
* NaN or Inf always raises :class:`InvalidInput`.

Why: digests must not depend on batch size, device or thread count. Values are computed in float64
(:meth:`explainers.model.LoadedModel.reference_logits`, :func:`explainers.attribution.explain`), whose
cross-platform differences (~1e-15 relative) are far below the 2**-16 grid, so the integers agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from explainers.errors import InvalidInput

SCALE_BITS = 16
SCALE = 1 << SCALE_BITS
INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1
ENCODING_VERSION = "zkxai.fixed.v1"


def to_fixed(x: np.ndarray, *, clamp: bool = True) -> list[int]:
    """Encode ``x`` as C-order int list of ``rint(x * 2**16)``; saturate (``clamp``) or raise outside int32."""
    arr = np.asarray(x)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise InvalidInput(f"cannot encode dtype {arr.dtype}")
    scaled = np.rint(arr.astype(np.float64) * float(SCALE)).reshape(-1, order="C")
    if not np.all(np.isfinite(scaled)):
        raise InvalidInput("cannot encode NaN or Inf")
    out_of_range = (scaled < INT32_MIN) | (scaled > INT32_MAX)
    if np.any(out_of_range):
        if not clamp:
            worst = float(arr.reshape(-1)[np.argmax(out_of_range)])
            raise InvalidInput(f"value {worst} is outside the fixed-point range |v| < {2 ** (31 - SCALE_BITS)}")
        scaled = np.clip(scaled, INT32_MIN, INT32_MAX)
    return [int(v) for v in scaled.astype(np.int64)]


def logits_to_fixed(logits: np.ndarray) -> list[int]:
    """Encode logits; raises :class:`InvalidInput` instead of clamping when a value is out of range."""
    return to_fixed(logits, clamp=False)


def from_fixed(ints: Sequence[int], shape: Sequence[int]) -> np.ndarray:
    """Decode integers produced by :func:`to_fixed` back to a float64 array of ``shape``."""
    values = list(ints)
    dims = tuple(int(d) for d in shape)
    if int(np.prod(dims, dtype=np.int64)) != len(values):
        raise InvalidInput(f"{len(values)} integers do not fill shape {dims}")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not INT32_MIN <= int(v) <= INT32_MAX:
            raise InvalidInput(f"fixed-point value {v!r} is not an int32")
    return (np.array(values, dtype=np.int64).astype(np.float64) / float(SCALE)).reshape(dims, order="C")
