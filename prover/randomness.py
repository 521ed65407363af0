"""Random field elements for setup and proving: ``secrets`` by default, a seeded
``random.Random`` only where a caller passes one (tests, reproducible development keys)."""

from __future__ import annotations

import random
import secrets

from .fields import R


def random_scalar(rng: random.Random | None = None, *, nonzero: bool = True) -> int:
    """Uniform element of F_r (of F_r^* when ``nonzero``)."""
    low = 1 if nonzero else 0
    if rng is None:
        return low + secrets.randbelow(R - low)
    return rng.randrange(low, R)
