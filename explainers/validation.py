"""Boundary checks for arrays handed to the explainers (shape, dtype, finiteness).

All public entry points funnel their inputs through :func:`as_batch` so that malformed data is rejected
with :class:`InvalidInput` before any model code runs.
"""

from __future__ import annotations

import numpy as np

from explainers.errors import InvalidInput


def as_batch(x: object, input_shape: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    """Return ``(batch, was_single)`` where ``batch`` is a float64 array of shape ``(n, *input_shape)``.

    Accepts either one sample of shape ``input_shape`` or a batch ``(n, *input_shape)`` with ``n >= 1``.
    Only real integer or floating dtypes are accepted (not bool, complex, object or strings), and every
    value must be finite.
    """
    if not isinstance(x, np.ndarray):
        raise InvalidInput(f"expected a numpy.ndarray, got {type(x).__name__}")
    if x.dtype == np.bool_ or not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise InvalidInput(f"expected a real numeric dtype (integer or floating), got {x.dtype}")
    if x.shape == tuple(input_shape):
        batch, single = x[np.newaxis, ...], True
    elif x.ndim == len(input_shape) + 1 and x.shape[1:] == tuple(input_shape):
        if x.shape[0] == 0:
            raise InvalidInput("empty batch")
        batch, single = x, False
    else:
        raise InvalidInput(
            f"wrong input shape {x.shape}: expected one sample {tuple(input_shape)} "
            f"or a batch (n, {', '.join(str(d) for d in input_shape)})"
        )
    batch = np.asarray(batch, dtype=np.float64)
    if not np.all(np.isfinite(batch)):
        raise InvalidInput("input contains NaN or Inf")
    return np.ascontiguousarray(batch), single


def as_token_batch(x: object, input_shape: tuple[int, ...], vocab_size: int) -> tuple[np.ndarray, bool]:
    """Like :func:`as_batch` for token ids: an int64 batch with every id in ``[0, vocab_size)``.

    Integer arrays are accepted, and floating arrays whose values are all integers (e.g. parsed from JSON).
    """
    if not isinstance(x, np.ndarray):
        raise InvalidInput(f"expected a numpy.ndarray of token ids, got {type(x).__name__}")
    if np.issubdtype(x.dtype, np.floating):
        if not np.all(np.isfinite(x)) or not np.all(x == np.round(x)):
            raise InvalidInput("token ids must be integers")
    elif x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.integer):
        raise InvalidInput(f"expected integer token ids, got dtype {x.dtype}")
    checked, single = as_batch(x, input_shape)
    if checked.size and (checked.min() < 0 or checked.max() >= vocab_size):
        raise InvalidInput(f"token ids must lie in [0, {vocab_size})")
    return np.ascontiguousarray(checked.astype(np.int64)), single
