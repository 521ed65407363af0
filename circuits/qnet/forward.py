"""The native oracle of the forward pass (exact Python ints; the circuit computes the same values).

Per layer, on flat int32 vectors at scale 2**16 (see :mod:`.fixed_point`):

* dense / conv2d: ``acc_j = sum_i w_ji x_i + b_j * 2**16`` (scale 2**32), ``y_j = floor(acc_j / 2**16)``,
  which must be an int32 (``acc_j`` in [-2**47, 2**47));
* relu: ``y = x if x > 0 else 0``; its mask ``m = [x > 0]`` is also the ReLU derivative used backward, as
  torch's (``threshold_backward``: the gradient at exactly 0 is 0). The forward value at ``x = 0`` is 0 either
  way; in-circuit the mask is the rescale's sign bit ``[x >= 0]`` minus an is-zero flag (2 constraints);
* maxpool2d: the window maximum; ``choice`` = the first (row-major) index reaching it;
* avgpool2d: ``floor(sum of the window / (kh*kw))``;
* flatten: nothing (vectors are already flat, C, H, W row-major).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import QNetError
from .fixed_point import ONE, check_value, floor_div, rescale
from .lowering import linear_bias, linear_terms, pool_windows
from .model import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, QNet, ReLU


@dataclass(frozen=True)
class Trace:
    """Everything the forward pass computed: ``activations[k]`` is layer k's output (flat)."""

    input: tuple[int, ...]
    activations: tuple[tuple[int, ...], ...]
    #: per layer: the ReLU mask (0/1 per value) for relu layers, the chosen flat input index per window for
    #: maxpool layers, None otherwise
    choices: tuple[tuple[int, ...] | None, ...]

    @property
    def scores(self) -> tuple[int, ...]:
        return self.activations[-1]

    def layer_input(self, k: int) -> tuple[int, ...]:
        return self.input if k == 0 else self.activations[k - 1]


def check_input(net: QNet, x: Sequence[int]) -> tuple[int, ...]:
    """The input as a tuple of int32 values (flat, C, H, W row-major), or QNetError / FixedPointOverflow."""
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence) or len(x) != net.input_size:
        raise QNetError(f"the input must be a flat sequence of {net.input_size} ints")
    out = []
    for i, v in enumerate(x):
        if isinstance(v, bool) or not isinstance(v, int):
            try:
                v = v.__index__()  # numpy integers
            except AttributeError:
                raise QNetError(f"input[{i}] must be an int, got {type(v).__name__}") from None
        out.append(check_value(v, f"input[{i}]"))
    return tuple(out)


def first_argmax(values: Sequence[int]) -> int:
    """The lowest index of a maximal value."""
    best = 0
    for i, v in enumerate(values):
        if v > values[best]:
            best = i
    return best


def forward(net: QNet, x: Sequence[int]) -> Trace:
    """Run the quantized network on ``x``; raises FixedPointOverflow if a value leaves int32."""
    a = check_input(net, x)
    acts: list[tuple[int, ...]] = []
    choices: list[tuple[int, ...] | None] = []
    for k, layer in enumerate(net.layers):
        in_shape = net.shapes[k]
        choice: tuple[int, ...] | None = None
        if isinstance(layer, (Dense, Conv2d)):
            terms, bias = linear_terms(layer, in_shape), linear_bias(layer, in_shape)
            a = tuple(
                rescale(sum(w * a[i] for i, w in t) + b * ONE, f"layers[{k}][{j}]")
                for j, (t, b) in enumerate(zip(terms, bias))
            )
        elif isinstance(layer, ReLU):
            choice = tuple(int(v > 0) for v in a)
            a = tuple(v if m else 0 for v, m in zip(a, choice))
        elif isinstance(layer, MaxPool2d):
            windows = pool_windows(layer, in_shape)
            choice = tuple(win[first_argmax([a[i] for i in win])] for win in windows)
            a = tuple(a[i] for i in choice)
        elif isinstance(layer, AvgPool2d):
            windows = pool_windows(layer, in_shape)
            a = tuple(floor_div(sum(a[i] for i in win), len(win), f"layers[{k}][{j}]") for j, win in enumerate(windows))
        elif isinstance(layer, Flatten):
            pass
        else:  # pragma: no cover - QNet validated its layers
            raise QNetError(f"layers[{k}]: unsupported {type(layer).__name__}")
        acts.append(a)
        choices.append(choice)
    return Trace(check_input(net, x), tuple(acts), tuple(choices))
