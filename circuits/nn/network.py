"""The forward pass of a whole QNet in-circuit, recording what the backward passes reuse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..builder import Api, Var
from ..errors import UnsupportedLayer
from ..qnet.fixed_point import VALUE_OFFSET
from ..qnet.lowering import pool_windows
from ..qnet.model import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, QNet, ReLU
from .fixed import relu, relu_masked
from .linear import linear_layer
from .pool import avgpool, maxpool


@dataclass(frozen=True)
class NetworkVars:
    """Per layer k: its input and output (signed int32 variables), and what backward passes need."""

    inputs: tuple[tuple[Var, ...], ...]
    outputs: tuple[tuple[Var, ...], ...]
    #: dense/conv layers: sign bits [y >= 0] of the outputs (LRP's stabiliser sign), else None
    signs: tuple[tuple[Var, ...] | None, ...]
    #: relu layers: the forward masks [x >= 0] (the backward passes use [x > 0]: circuits.nn.positive_mask), else None
    masks: tuple[tuple[Var, ...] | None, ...]
    #: maxpool layers: each window's one-hot choice, else None
    one_hots: tuple[tuple[tuple[Var, ...], ...] | None, ...]

    @property
    def scores(self) -> tuple[Var, ...]:
        return self.outputs[-1]

    def score_offsets(self, api: Api) -> list[Var]:
        """scores + 2**31: in [0, 2**32) since every layer's output is proven int32 (or a ReLU/max of such)."""
        return [api.add(s, VALUE_OFFSET) for s in self.scores]


def network(api: Api, net: QNet, x: Sequence[Var]) -> NetworkVars:
    """Every layer of ``net`` on the (already range-checked int32) inputs ``x``.

    A ReLU right after a dense/conv layer reuses that layer's rescale sign bits as its mask (1 constraint per
    value); any other ReLU range-checks its input (34).
    """
    inputs, outputs, signs, masks, hots = [], [], [], [], []
    a = tuple(x)
    prev_signs: tuple[Var, ...] | None = None
    for k, layer in enumerate(net.layers):
        in_shape = net.shapes[k]
        inputs.append(a)
        sign = mask = hot = None
        if isinstance(layer, (Dense, Conv2d)):
            res = linear_layer(api, a, layer, in_shape)
            sign = tuple(r.sign for r in res)
            out = tuple(r.value for r in res)
        elif isinstance(layer, ReLU):
            if prev_signs is not None:
                mask = prev_signs
                out = tuple(relu_masked(api, v, m) for v, m in zip(a, mask))
            else:
                pairs = [relu(api, v) for v in a]
                out, mask = tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
        elif isinstance(layer, MaxPool2d):
            ys, es = maxpool(api, a, pool_windows(layer, in_shape))
            out, hot = tuple(ys), tuple(tuple(e) for e in es)
        elif isinstance(layer, AvgPool2d):
            out = tuple(avgpool(api, a, pool_windows(layer, in_shape)))
        elif isinstance(layer, Flatten):
            out = a
        else:  # pragma: no cover - QNet validated its layers
            raise UnsupportedLayer(f"layers[{k}]: {type(layer).__name__}")
        prev_signs = sign if sign is not None else (prev_signs if isinstance(layer, Flatten) else None)
        outputs.append(out)
        signs.append(sign)
        masks.append(mask)
        hots.append(hot)
        a = out
    return NetworkVars(tuple(inputs), tuple(outputs), tuple(signs), tuple(masks), tuple(hots))
