"""Reader for snarkjs Powers-of-Tau files (``.ptau``, prepared for phase 2).

Sections: 1 = header (n8, q, power, ceremonyPower); 2 = tau^i G1 (2^(power+1) - 1 points);
3 = tau^i G2; 4 = alpha tau^i G1; 5 = beta tau^i G1; 6 = beta G2; 7 = contributions; and, after
``snarkjs powersoftau prepare phase2``, 12..15 = the same four series in the Lagrange basis:
for every size 2^p (p = 0..power, and p = power + 1 for section 12) the evaluations
``L_i(tau) G`` over the 2^p-th roots of unity, concatenated, so size n starts at point n - 1.
Points are Montgomery little-endian (see :mod:`prover.binfile`).

We read only what a Groth16 phase 2 needs and check that every point is on its curve and
beta G2 is in the subgroup. This does NOT verify the ceremony transcript: run
``snarkjs powersoftau verify`` on a downloaded file before trusting it.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

from .binfile import BinFile, from_montgomery_q, le_ints, read_binfile
from .errors import SerializationError
from .fields import Q
from .keys import G1, G2
from .validate import check_g1, check_g2

_SECTION_LAGRANGE = {"tau_g1": 12, "tau_g2": 13, "alpha_tau_g1": 14, "beta_tau_g1": 15}


@dataclass(frozen=True)
class Ptau:
    """A parsed ``.ptau``; points are decoded on demand by the accessors."""

    power: int
    ceremony_power: int
    file: BinFile

    def _points(self, section: int, first: int, count: int, g2: bool, what: str) -> list:  # type: ignore[type-arg]
        width = 128 if g2 else 64
        sec = self.file.section(section)
        if (first + count) * width > len(sec):
            raise SerializationError(f"ptau section {section} too short for {what}")
        raw = le_ints(sec, 32, count * width // 32, offset=first * width)
        out = []
        if g2:
            for i in range(count):
                x0, x1, y0, y1 = (from_montgomery_q(v) for v in raw[4 * i : 4 * i + 4])
                out.append(check_g2(((x0, x1), (y0, y1)), f"ptau {what}[{i}]", allow_identity=True, subgroup=False))
        else:
            for i in range(count):
                x, y = from_montgomery_q(raw[2 * i]), from_montgomery_q(raw[2 * i + 1])
                out.append(check_g1((x, y), f"ptau {what}[{i}]", allow_identity=True))
        return out

    def lagrange(self, series: str, n: int) -> list:  # type: ignore[type-arg]
        """``[L_i(tau) * X for i < n]`` for the series ``tau_g1``, ``tau_g2``, ``alpha_tau_g1`` or
        ``beta_tau_g1`` (sizes up to 2^power; 2^(power+1) for ``tau_g1``)."""
        if n < 1 or n & (n - 1):
            raise ValueError("Lagrange basis size must be a power of two")
        limit = 1 << (self.power + 1 if series == "tau_g1" else self.power)
        if n > limit:
            raise SerializationError(f"ptau of power {self.power} has no {series} basis of size {n}")
        return self._points(_SECTION_LAGRANGE[series], n - 1, n, series == "tau_g2", series)

    def alpha_g1(self) -> G1:
        return check_g1(self._points(4, 0, 1, False, "alpha")[0], "ptau alpha")

    def beta_g1(self) -> G1:
        return check_g1(self._points(5, 0, 1, False, "beta")[0], "ptau beta")

    def beta_g2(self) -> G2:
        return check_g2(self._points(6, 0, 1, True, "beta2")[0], "ptau beta2")


def read_ptau(path: str | os.PathLike[str]) -> Ptau:
    """Open a prepared ``.ptau``; raises :class:`SerializationError` if it is not for BN254 or
    was not prepared for phase 2 (no Lagrange sections)."""
    f = read_binfile(path, "ptau", 1)
    h = f.section(1)
    n8 = struct.unpack_from("<I", h, 0)[0]
    q = int.from_bytes(h[4 : 4 + n8], "little")
    if n8 != 32 or q != Q:
        raise SerializationError("ptau is not over BN254")
    power, ceremony_power = struct.unpack_from("<II", h, 4 + n8)
    if not all(s in f.sections for s in (4, 5, 6, 12, 13, 14, 15)):
        raise SerializationError("ptau is not prepared for phase 2 (run snarkjs powersoftau prepare phase2)")
    return Ptau(power=power, ceremony_power=ceremony_power, file=f)
