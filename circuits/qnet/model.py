"""The quantized network ``zkxai.qnet/1``: frozen layer dataclasses, validation and the JSON form.

JSON::

    {"format": "zkxai.qnet/1", "input_shape": [n] or [c, h, w], "scale_bits": 16, "layers": [
       {"op": "dense", "weight": [[int]] (out x in), "bias": [int]},
       {"op": "conv2d", "weight": [[[[int]]]] (out, in, kh, kw), "bias": [int], "stride": [s, s], "padding": [p, p]},
       {"op": "relu"}, {"op": "flatten"},
       {"op": "maxpool2d", "kernel": [k, k], "stride": [k, k]}, {"op": "avgpool2d", "kernel": [k, k], "stride": [k, k]}]}

Weights and biases are ints at scale 2**16 with ``|v| < 2**24``. Shapes (C, H, W as in torch, batch
dimension dropped) must agree layer to layer: ``dense`` takes a 1-D input (flatten first), ``conv2d`` and the
pools a 3-D one; pools must have ``stride == kernel`` (non-overlapping windows; a trailing partial window
is dropped, torch's floor mode); conv padding is zero padding with ``padding < kernel``. The network's
output (the scores) must be 1-D. Sizes are bounded (:data:`MAX_UNITS`, :data:`MAX_FAN_IN`,
:data:`MAX_PARAMS`, :data:`MAX_LAYERS`) so that every accumulator stays far below the field modulus.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Union

from ..errors import QNetError, UnsupportedLayer
from .fixed_point import SCALE_BITS, WEIGHT_BOUND

FORMAT = "zkxai.qnet/1"
MAX_LAYERS = 64
#: Most values in any one activation tensor.
MAX_UNITS = 1 << 20
#: Most inputs one output of a dense or conv layer sums.
MAX_FAN_IN = 1 << 16
#: Most weights and biases in the whole network.
MAX_PARAMS = 1 << 22
MAX_KERNEL = 16

Shape = tuple[int, ...]


def _int(x: object, what: str) -> int:
    if isinstance(x, bool):
        raise QNetError(f"{what} must be an integer, got bool")
    try:
        return operator.index(x)  # type: ignore[arg-type]
    except TypeError:
        raise QNetError(f"{what} must be an integer, got {type(x).__name__}") from None


def _param(x: object, what: str) -> int:
    v = _int(x, what)
    if not -WEIGHT_BOUND < v < WEIGHT_BOUND:
        raise QNetError(f"{what} = {v} is outside (-2**24, 2**24)")
    return v


def _seq(x: object, what: str) -> Sequence[Any]:
    if isinstance(x, (str, bytes, Mapping)) or not isinstance(x, Sequence):
        raise QNetError(f"{what} must be a list")
    return x


def _pair(x: object, what: str, low: int) -> tuple[int, int]:
    items = _seq(x, what)
    if len(items) != 2:
        raise QNetError(f"{what} must have 2 entries")
    a, b = (_int(v, f"{what}[{i}]") for i, v in enumerate(items))
    if a < low or b < low or a > MAX_KERNEL or b > MAX_KERNEL:
        raise QNetError(f"{what} entries must be in [{low}, {MAX_KERNEL}]")
    return a, b


def _params(x: object, what: str, dims: int) -> Any:
    """A nested list of ``dims`` levels of params as nested tuples (rectangularity checked by the layer)."""
    items = _seq(x, what)
    if dims == 1:
        return tuple(_param(v, f"{what}[{i}]") for i, v in enumerate(items))
    return tuple(_params(v, f"{what}[{i}]", dims - 1) for i, v in enumerate(items))


@dataclass(frozen=True)
class Dense:
    """y = floor((W x + b * 2**16) / 2**16); ``weight`` is out x in."""

    weight: tuple[tuple[int, ...], ...]
    bias: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _params(self.weight, "dense.weight", 2))
        object.__setattr__(self, "bias", _params(self.bias, "dense.bias", 1))

    def output_shape(self, shape: Shape, where: str) -> Shape:
        n_out, n_in = len(self.weight), len(self.weight[0]) if self.weight else 0
        if n_out < 1 or n_in < 1 or any(len(row) != n_in for row in self.weight):
            raise QNetError(f"{where}: dense weight must be a non-empty out x in matrix")
        if len(self.bias) != n_out:
            raise QNetError(f"{where}: dense bias has {len(self.bias)} entries, expected {n_out}")
        if shape != (n_in,):
            raise QNetError(f"{where}: dense takes a 1-D input of {n_in} values, got shape {list(shape)}")
        if n_in > MAX_FAN_IN:
            raise QNetError(f"{where}: fan-in {n_in} > {MAX_FAN_IN}")
        return (n_out,)

    def to_json(self) -> dict[str, Any]:
        return {"op": "dense", "weight": [list(r) for r in self.weight], "bias": list(self.bias)}


@dataclass(frozen=True)
class Conv2d:
    """2-D cross-correlation with zero padding, same rounding as :class:`Dense`; weight (out, in, kh, kw)."""

    weight: tuple[tuple[tuple[tuple[int, ...], ...], ...], ...]
    bias: tuple[int, ...]
    stride: tuple[int, int]
    padding: tuple[int, int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _params(self.weight, "conv2d.weight", 4))
        object.__setattr__(self, "bias", _params(self.bias, "conv2d.bias", 1))
        object.__setattr__(self, "stride", _pair(self.stride, "conv2d.stride", 1))
        object.__setattr__(self, "padding", _pair(self.padding, "conv2d.padding", 0))

    def output_shape(self, shape: Shape, where: str) -> Shape:
        w = self.weight
        if not w or not w[0] or not w[0][0] or not w[0][0][0]:
            raise QNetError(f"{where}: conv2d weight must be a non-empty (out, in, kh, kw) array")
        c_out, c_in, kh, kw = len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])
        if any(len(a) != c_in or any(len(b) != kh or any(len(c) != kw for c in b) for b in a) for a in w):
            raise QNetError(f"{where}: conv2d weight is not a rectangular (out, in, kh, kw) array")
        if kh > MAX_KERNEL or kw > MAX_KERNEL:
            raise QNetError(f"{where}: conv2d kernel larger than {MAX_KERNEL}")
        if len(self.bias) != c_out:
            raise QNetError(f"{where}: conv2d bias has {len(self.bias)} entries, expected {c_out}")
        if len(shape) != 3 or shape[0] != c_in:
            raise QNetError(f"{where}: conv2d takes a ({c_in}, h, w) input, got shape {list(shape)}")
        (sh, sw), (ph, pw) = self.stride, self.padding
        if ph >= kh or pw >= kw:
            raise QNetError(f"{where}: conv2d padding must be smaller than the kernel")
        h, wd = (shape[1] + 2 * ph - kh) // sh + 1, (shape[2] + 2 * pw - kw) // sw + 1
        if shape[1] + 2 * ph < kh or shape[2] + 2 * pw < kw:
            raise QNetError(f"{where}: conv2d kernel larger than its padded input")
        if c_in * kh * kw > MAX_FAN_IN:
            raise QNetError(f"{where}: fan-in {c_in * kh * kw} > {MAX_FAN_IN}")
        return (c_out, h, wd)

    def to_json(self) -> dict[str, Any]:
        return {
            "op": "conv2d",
            "weight": [[[list(r) for r in k] for k in c] for c in self.weight],
            "bias": list(self.bias),
            "stride": list(self.stride),
            "padding": list(self.padding),
        }


@dataclass(frozen=True)
class ReLU:
    def output_shape(self, shape: Shape, where: str) -> Shape:
        return shape

    def to_json(self) -> dict[str, Any]:
        return {"op": "relu"}


@dataclass(frozen=True)
class Flatten:
    def output_shape(self, shape: Shape, where: str) -> Shape:
        n = 1
        for d in shape:
            n *= d
        return (n,)

    def to_json(self) -> dict[str, Any]:
        return {"op": "flatten"}


@dataclass(frozen=True)
class _Pool:
    kernel: tuple[int, int]
    stride: tuple[int, int]

    op = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kernel", _pair(self.kernel, f"{self.op}.kernel", 1))
        object.__setattr__(self, "stride", _pair(self.stride, f"{self.op}.stride", 1))

    def output_shape(self, shape: Shape, where: str) -> Shape:
        if self.stride != self.kernel:
            raise UnsupportedLayer(f"{where}: {self.op} needs stride == kernel (non-overlapping windows)")
        if len(shape) != 3:
            raise QNetError(f"{where}: {self.op} takes a (c, h, w) input, got shape {list(shape)}")
        h, w = shape[1] // self.kernel[0], shape[2] // self.kernel[1]
        if h < 1 or w < 1:
            raise QNetError(f"{where}: {self.op} window larger than its input")
        return (shape[0], h, w)

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "kernel": list(self.kernel), "stride": list(self.stride)}


@dataclass(frozen=True)
class MaxPool2d(_Pool):
    """Maximum of each window; backward passes route to the FIRST maximal entry (row-major) of a window."""

    op = "maxpool2d"


@dataclass(frozen=True)
class AvgPool2d(_Pool):
    """floor(sum of the window / (kh * kw)) (remainder in [0, kh*kw))."""

    op = "avgpool2d"


Layer = Union[Dense, Conv2d, ReLU, Flatten, MaxPool2d, AvgPool2d]


def _layer_from_json(d: object, where: str) -> Layer:
    if not isinstance(d, Mapping):
        raise QNetError(f"{where} must be an object")
    op = d.get("op")
    keys = {
        "dense": {"op", "weight", "bias"},
        "conv2d": {"op", "weight", "bias", "stride", "padding"},
        "relu": {"op"},
        "flatten": {"op"},
        "maxpool2d": {"op", "kernel", "stride"},
        "avgpool2d": {"op", "kernel", "stride"},
    }
    if op not in keys:
        raise UnsupportedLayer(f"{where}: unsupported layer op {op!r} (supported: {', '.join(sorted(keys))})")
    if set(d) != keys[op]:
        raise QNetError(f"{where}: {op} takes exactly the keys {sorted(keys[op])}, got {sorted(d)}")
    if op == "dense":
        return Dense(_params(d["weight"], f"{where}.weight", 2), _params(d["bias"], f"{where}.bias", 1))
    if op == "conv2d":
        return Conv2d(
            _params(d["weight"], f"{where}.weight", 4),
            _params(d["bias"], f"{where}.bias", 1),
            _pair(d["stride"], f"{where}.stride", 1),
            _pair(d["padding"], f"{where}.padding", 0),
        )
    if op == "relu":
        return ReLU()
    if op == "flatten":
        return Flatten()
    pool = MaxPool2d if op == "maxpool2d" else AvgPool2d
    return pool(_pair(d["kernel"], f"{where}.kernel", 1), _pair(d["stride"], f"{where}.stride", 1))


def _count(shape: Shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _n_params(layer: Layer) -> int:
    if isinstance(layer, Dense):
        return len(layer.weight) * len(layer.weight[0]) + len(layer.bias)
    if isinstance(layer, Conv2d):
        w = layer.weight
        return len(w) * len(w[0]) * len(w[0][0]) * len(w[0][0][0]) + len(layer.bias)
    return 0


@dataclass(frozen=True)
class QNet:
    """A validated quantized network (construct with :meth:`from_json`, or directly: validated the same)."""

    input_shape: Shape
    layers: tuple[Layer, ...]
    scale_bits: int = SCALE_BITS

    def __post_init__(self) -> None:
        if isinstance(self.layers, list):
            object.__setattr__(self, "layers", tuple(self.layers))
        if isinstance(self.input_shape, list):
            object.__setattr__(self, "input_shape", tuple(self.input_shape))
        if self.scale_bits != SCALE_BITS:
            raise QNetError(f"scale_bits must be {SCALE_BITS}, got {self.scale_bits!r}")
        if not isinstance(self.layers, tuple) or not 1 <= len(self.layers) <= MAX_LAYERS:
            raise QNetError(f"a network has 1..{MAX_LAYERS} layers (a tuple)")
        shape = self.input_shape
        if not isinstance(shape, tuple) or len(shape) not in (1, 3) or any(
            isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape
        ):
            raise QNetError(f"input_shape must be [n] or [c, h, w] of positive ints, got {shape!r}")
        shapes = [shape]
        total = 0
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (Dense, Conv2d, ReLU, Flatten, MaxPool2d, AvgPool2d)):
                raise UnsupportedLayer(f"layers[{i}]: unsupported layer {type(layer).__name__}")
            shape = layer.output_shape(shape, f"layers[{i}]")
            if _count(shape) > MAX_UNITS:
                raise QNetError(f"layers[{i}]: output of {_count(shape)} values > {MAX_UNITS}")
            total += _n_params(layer)
            shapes.append(shape)
        if _count(self.input_shape) > MAX_UNITS:
            raise QNetError(f"input of {_count(self.input_shape)} values > {MAX_UNITS}")
        if total > MAX_PARAMS:
            raise QNetError(f"{total} parameters > {MAX_PARAMS}")
        if len(shape) != 1:
            raise QNetError(f"the network's output must be 1-D (the scores), got shape {list(shape)}")
        object.__setattr__(self, "_shapes", tuple(shapes))

    @property
    def shapes(self) -> tuple[Shape, ...]:
        """The input shape, then each layer's output shape."""
        return self._shapes  # type: ignore[attr-defined,no-any-return]

    @property
    def input_size(self) -> int:
        return _count(self.input_shape)

    @property
    def num_classes(self) -> int:
        return self.shapes[-1][0]

    @cached_property
    def _hash(self) -> int:
        return hash((self.input_shape, self.layers))

    def __hash__(self) -> int:
        return self._hash

    @classmethod
    def from_json(cls, d: object) -> QNet:
        """Parse and validate the JSON form; raises QNetError (UnsupportedLayer for unknown ops)."""
        if not isinstance(d, Mapping):
            raise QNetError("a qnet must be a JSON object")
        if set(d) != {"format", "input_shape", "scale_bits", "layers"}:
            raise QNetError(f"a qnet has exactly format, input_shape, scale_bits, layers; got {sorted(d)}")
        if d["format"] != FORMAT:
            raise QNetError(f"format must be {FORMAT!r}, got {d['format']!r}")
        shape = tuple(_int(v, f"input_shape[{i}]") for i, v in enumerate(_seq(d["input_shape"], "input_shape")))
        layers = tuple(_layer_from_json(v, f"layers[{i}]") for i, v in enumerate(_seq(d["layers"], "layers")))
        return cls(shape, layers, _int(d["scale_bits"], "scale_bits"))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "input_shape": list(self.input_shape),
            "scale_bits": self.scale_bits,
            "layers": [layer.to_json() for layer in self.layers],
        }
