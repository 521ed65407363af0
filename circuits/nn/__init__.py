"""Neural-network gadgets for the proven circuits: plain functions taking the builder ``api``.

Each is checked against the native oracle of :mod:`circuits.qnet` in tests/test_circuits_nn.py.
"""

from __future__ import annotations

from .argmax import argmax
from .digest import pack_offsets, sponge_gadget
from .fixed import (
    Rescaled,
    div_floor_const,
    is_zero,
    native_rescale,
    positive_mask,
    relu,
    relu_masked,
    rescale,
    signed_range,
)
from .linear import affine, dense, linear_layer, transpose_sum
from .network import NetworkVars, network
from .pool import avgpool, max_one_hot, maxpool

__all__ = [
    "NetworkVars",
    "Rescaled",
    "affine",
    "argmax",
    "avgpool",
    "dense",
    "div_floor_const",
    "is_zero",
    "linear_layer",
    "max_one_hot",
    "maxpool",
    "native_rescale",
    "network",
    "pack_offsets",
    "positive_mask",
    "relu",
    "relu_masked",
    "rescale",
    "signed_range",
    "sponge_gadget",
    "transpose_sum",
]
