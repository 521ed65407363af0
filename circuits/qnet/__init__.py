"""The quantized network of the proven levels (``zkxai.qnet/1``) and its native oracles.

Fixed point: :mod:`.fixed_point`; model and JSON: :mod:`.model`; forward pass: :mod:`.forward`;
explanations: :mod:`.explain`; digests and the model commitment: :mod:`.digest`.
"""

from __future__ import annotations

from .digest import model_commitment, pack_values, proven_explanation_digest, proven_input_digest
from .explain import ExplainMethod, check_supported, explain, parse_method
from .fixed_point import ONE, SCALE_BITS, VALUE_BITS, VALUE_MAX, VALUE_MIN, WEIGHT_BOUND
from .forward import Trace, first_argmax, forward
from .model import FORMAT, AvgPool2d, Conv2d, Dense, Flatten, Layer, MaxPool2d, QNet, ReLU

__all__ = [
    "FORMAT",
    "ONE",
    "SCALE_BITS",
    "VALUE_BITS",
    "VALUE_MAX",
    "VALUE_MIN",
    "WEIGHT_BOUND",
    "AvgPool2d",
    "Conv2d",
    "Dense",
    "ExplainMethod",
    "Flatten",
    "Layer",
    "MaxPool2d",
    "QNet",
    "ReLU",
    "Trace",
    "check_supported",
    "explain",
    "first_argmax",
    "forward",
    "model_commitment",
    "pack_values",
    "parse_method",
    "proven_explanation_digest",
    "proven_input_digest",
]
