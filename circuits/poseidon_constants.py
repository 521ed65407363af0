"""Poseidon parameters for BN254 (x^5 S-box), derived by the published Grain-LFSR algorithm.

Nothing here is a pasted table: round constants and MDS matrices are regenerated from the
reference script of the Poseidon paper (Grassi et al., eprint 2019/458),
``hadeshash/code/generate_parameters_grain.sage``, invoked as circomlib did::

    sage generate_parameters_grain.sage 1 0 254 t 8 R_P 0x30644e72...f0000001

i.e. field=1 (prime field), sbox=0 (x^alpha with alpha=5), n=254 bits, t cells, R_F=8 full rounds and
R_P partial rounds from :data:`N_ROUNDS_P` (circomlib's table, t = 2..17).

The algorithm:

1. An 80-bit shift register is seeded with the parameter bits (field: 2 bits, sbox: 4, n: 12, t: 12,
   R_F: 10, R_P: 10, then thirty 1 bits) and clocked 160 times with the feedback
   ``b62 ^ b51 ^ b38 ^ b23 ^ b13 ^ b0``.
2. Output bits are self-shrunk: clock twice, and if the first bit is 1 emit the second, else drop it.
3. Round constants: ``(R_F + R_P) * t`` draws of ``n`` bits (MSB first), rejecting draws >= r.
4. MDS: a Cauchy matrix ``M[i][j] = 1 / (x_i + y_j)`` from ``2t`` further draws reduced mod r
   (redrawn while not pairwise distinct or some ``x_i + y_j == 0``).

The reference script additionally runs three invariant-subspace tests (its ``algorithm_1..3``) on
each MDS candidate and redraws on failure. Those tests only ever decide whether to draw another
candidate; for every t in 2..17 the first candidate is the published one (the test suite compares
every generated table against circomlibjs' copy), so they are not re-implemented here. This module
therefore only serves t in 2..17, where that equality has been checked.

Generation (batched LFSR) costs ~0.03 s for t=3 and is cached per t in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from .errors import CircuitError
from .field import R, R_BITS, inv

#: Full rounds (R_F) for every width.
N_ROUNDS_F = 8
#: Partial rounds (R_P) for t = 2..17 (index t - 2), from circomlib / circomlibjs.
N_ROUNDS_P: tuple[int, ...] = (56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68)
#: Supported state widths.
MIN_WIDTH = 2
MAX_WIDTH = MIN_WIDTH + len(N_ROUNDS_P) - 1

_FIELD_PRIME = 1  # "field" parameter of the reference script: 1 = GF(p)
_SBOX_POW = 0  # "sbox" parameter: 0 = x^alpha
_LFSR_BITS = 80
_LFSR_MASK = (1 << _LFSR_BITS) - 1


class UnsupportedWidth(CircuitError, ValueError):
    """A Poseidon width outside circomlib's t = 2..17."""


@dataclass(frozen=True)
class PoseidonParams:
    """Parameters of one Poseidon permutation width ``t``."""

    t: int
    rounds_f: int
    rounds_p: int
    #: Round constants, ``(rounds_f + rounds_p) * t`` of them; round ``r`` adds ``C[r*t : (r+1)*t]``.
    round_constants: tuple[int, ...]
    #: MDS matrix, row-major: new_state[i] = sum_j mds[i][j] * state[j].
    mds: tuple[tuple[int, ...], ...]

    @property
    def n_rounds(self) -> int:
        return self.rounds_f + self.rounds_p

    def round_constants_of(self, round_index: int) -> tuple[int, ...]:
        return self.round_constants[round_index * self.t : (round_index + 1) * self.t]


def _seed_register(field: int, sbox: int, n: int, t: int, rounds_f: int, rounds_p: int) -> int:
    """The initial 80-bit register (bit ``i`` = the script's ``bit_sequence[i]``), not yet clocked."""
    fields = ((field, 2), (sbox, 4), (n, 12), (t, 12), (rounds_f, 10), (rounds_p, 10))
    bits: list[int] = []
    for value, width in fields:
        if not 0 <= value < 1 << width:
            raise CircuitError(f"Grain LFSR parameter {value} does not fit {width} bits")
        bits.extend(int(b) for b in format(value, f"0{width}b"))
    bits.extend([1] * 30)
    assert len(bits) == _LFSR_BITS
    return sum(bit << i for i, bit in enumerate(bits))


class GrainLfsr:
    """Reference: the self-shrinking Grain-like LFSR of the script, clocked one bit at a time.

    Bit ``i`` of the register is ``bit_sequence[i]`` of the script; clocking drops bit 0 and
    appends the feedback bit at position 79. Slow (~4 Python steps per output bit); kept as the
    oracle for :class:`FastGrainLfsr`.
    """

    def __init__(self, field: int, sbox: int, n: int, t: int, rounds_f: int, rounds_p: int) -> None:
        self._state = _seed_register(field, sbox, n, t, rounds_f, rounds_p)
        for _ in range(160):
            self._clock()

    def _clock(self) -> int:
        s = self._state
        new_bit = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & 1
        self._state = (s >> 1) | (new_bit << (_LFSR_BITS - 1))
        return new_bit

    def next_bit(self) -> int:
        """One self-shrunk output bit (the script's ``grain_sr_generator``)."""
        while True:
            control = self._clock()
            candidate = self._clock()
            if control == 1:
                return candidate

    def random_bits(self, num_bits: int) -> int:
        """``num_bits`` output bits read as a big-endian integer (the script's ``grain_random_bits``)."""
        value = 0
        for _ in range(num_bits):
            value = (value << 1) | self.next_bit()
        return value


#: Raw bits produced per batch. The nearest feedback tap is 13 positions ahead of the dropped bit,
#: so up to 13 feedback bits depend only on bits already in the register; 12 keeps pairs aligned.
_BATCH = 12
_BATCH_MASK = (1 << _BATCH) - 1


def _shrink_table() -> tuple[tuple[int, int], ...]:
    """For each 12-bit raw batch (earliest bit = bit 0): (emitted bits as big-endian int, count)."""
    table: list[tuple[int, int]] = []
    for raw in range(1 << _BATCH):
        out, count = 0, 0
        for pair in range(_BATCH // 2):
            if (raw >> (2 * pair)) & 1:
                out = (out << 1) | ((raw >> (2 * pair + 1)) & 1)
                count += 1
        table.append((out, count))
    return tuple(table)


_SHRINK = _shrink_table()


class FastGrainLfsr:
    """The same output stream as :class:`GrainLfsr`, clocked 12 bits per step with a shrink table."""

    def __init__(self, field: int, sbox: int, n: int, t: int, rounds_f: int, rounds_p: int) -> None:
        self._state = _seed_register(field, sbox, n, t, rounds_f, rounds_p)
        self._buffer = 0  # pending output bits, earliest at the most significant end
        self._buffer_len = 0
        for _ in range(160 // 10):
            self._clock_raw(10)

    def _clock_raw(self, width: int) -> int:
        """Clock ``width`` (<= 13) times at once; returns the new bits, earliest at bit 0."""
        s = self._state
        new_bits = ((s >> 62) ^ (s >> 51) ^ (s >> 38) ^ (s >> 23) ^ (s >> 13) ^ s) & ((1 << width) - 1)
        self._state = (s >> width) | (new_bits << (_LFSR_BITS - width))
        return new_bits

    def random_bits(self, num_bits: int) -> int:
        """Same contract as :meth:`GrainLfsr.random_bits`."""
        while self._buffer_len < num_bits:
            out, count = _SHRINK[self._clock_raw(_BATCH)]
            self._buffer = (self._buffer << count) | out
            self._buffer_len += count
        self._buffer_len -= num_bits
        value = self._buffer >> self._buffer_len
        self._buffer &= (1 << self._buffer_len) - 1
        return value


class _BitSource(Protocol):
    def random_bits(self, num_bits: int) -> int: ...


def _round_constants(lfsr: _BitSource, count: int) -> tuple[int, ...]:
    constants: list[int] = []
    while len(constants) < count:
        draw = lfsr.random_bits(R_BITS)
        if draw < R:
            constants.append(draw)
    return tuple(constants)


def _cauchy_mds(lfsr: _BitSource, t: int) -> tuple[tuple[int, ...], ...]:
    while True:
        draws = [lfsr.random_bits(R_BITS) % R for _ in range(2 * t)]
        while len(set(draws)) != len(draws):
            draws = [lfsr.random_bits(R_BITS) % R for _ in range(2 * t)]
        xs, ys = draws[:t], draws[t:]
        if any((x + y) % R == 0 for x in xs for y in ys):
            continue
        return tuple(tuple(inv(x + y) for y in ys) for x in xs)


def _check_width(t: int) -> int:
    if isinstance(t, bool) or not isinstance(t, int) or not MIN_WIDTH <= t <= MAX_WIDTH:
        raise UnsupportedWidth(f"Poseidon width t must be in {MIN_WIDTH}..{MAX_WIDTH}, got {t!r}")
    return N_ROUNDS_P[t - MIN_WIDTH]


def _generate(t: int, lfsr_type: type[GrainLfsr] | type[FastGrainLfsr]) -> PoseidonParams:
    rounds_p = _check_width(t)
    lfsr = lfsr_type(_FIELD_PRIME, _SBOX_POW, R_BITS, t, N_ROUNDS_F, rounds_p)
    constants = _round_constants(lfsr, (N_ROUNDS_F + rounds_p) * t)
    mds = _cauchy_mds(lfsr, t)
    return PoseidonParams(t=t, rounds_f=N_ROUNDS_F, rounds_p=rounds_p, round_constants=constants, mds=mds)


@lru_cache(maxsize=None)
def poseidon_params(t: int) -> PoseidonParams:
    """Regenerate (once, then cached) the BN254 x^5 Poseidon parameters of width ``t`` (2..17)."""
    return _generate(t, FastGrainLfsr)


def reference_poseidon_params(t: int) -> PoseidonParams:
    """Same as :func:`poseidon_params` through the bit-at-a-time reference LFSR (slow, uncached)."""
    return _generate(t, GrainLfsr)
