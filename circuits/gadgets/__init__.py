"""Reusable circuit gadgets: plain functions taking the builder ``api``."""

from __future__ import annotations

from .bits import MAX_RANGE_BITS, to_bits
from .comparison import assert_geq, assert_less_equal
from .selection import select_by_one_hot, select_one_hot

__all__ = [
    "MAX_RANGE_BITS",
    "assert_geq",
    "assert_less_equal",
    "select_by_one_hot",
    "select_one_hot",
    "to_bits",
]
