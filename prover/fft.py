"""Radix-2 number-theoretic transforms over the BN254 scalar field F_r.

r - 1 = 2^28 * t with t odd, and 5 generates F_r^*, so ``5^t`` is a primitive 2^28-th root of
unity; a domain of size n = 2^k uses ``omega_n = (5^t)^(2^(28-k))``. Coset transforms evaluate on
``g * <omega_n>`` with g = 5 (the multiplicative generator, as arkworks and snarkjs do), where the
vanishing polynomial X^n - 1 is the non-zero constant g^n - 1.

The transforms run in C (:func:`prover.native.fr_ntt`) when the extension is loaded, else in
Python (:func:`ntt_python`); both are exposed for the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import native as _native
from .fields import R, fast_int

TWO_ADICITY = 28
GENERATOR = 5
_T = (R - 1) >> TWO_ADICITY
ROOT_OF_UNITY_2_28 = pow(GENERATOR, _T, R)
COSET_SHIFT = GENERATOR


def domain_size_for(n: int) -> int:
    """Smallest power of two >= n (and >= 1); raises ValueError above 2^28."""
    size = 1
    while size < n:
        size <<= 1
    if size > 1 << TWO_ADICITY:
        raise ValueError(f"evaluation domain of size {size} exceeds 2^{TWO_ADICITY}")
    return size


def root_of_unity(n: int) -> int:
    """Primitive n-th root of unity for n a power of two <= 2^28."""
    if n <= 0 or n & (n - 1) or n > 1 << TWO_ADICITY:
        raise ValueError(f"domain size must be a power of two <= 2^28, got {n}")
    log_n = n.bit_length() - 1
    return pow(ROOT_OF_UNITY_2_28, 1 << (TWO_ADICITY - log_n), R)


@dataclass(frozen=True)
class Domain:
    """Radix-2 evaluation domain <omega> of size n, with cached twiddles."""

    size: int
    omega: int = field(init=False)
    omega_inv: int = field(init=False)
    size_inv: int = field(init=False)

    def __post_init__(self) -> None:
        w = root_of_unity(self.size)
        object.__setattr__(self, "omega", w)
        object.__setattr__(self, "omega_inv", pow(w, -1, R))
        object.__setattr__(self, "size_inv", pow(self.size, -1, R))

    def elements(self) -> list[int]:
        out = [1] * self.size
        for i in range(1, self.size):
            out[i] = out[i - 1] * self.omega % R
        return out

    def vanishing_at(self, x: int) -> int:
        """Z(x) = x^n - 1."""
        return (pow(x, self.size, R) - 1) % R

    # -- transforms
    def ntt(self, coeffs: Sequence[int]) -> list[int]:
        """Coefficients (length <= n, zero padded) -> evaluations at omega^0..omega^(n-1)."""
        return _ntt(self._pad(coeffs), self.omega)

    def intt(self, evals: Sequence[int]) -> list[int]:
        """Evaluations at the domain -> coefficients."""
        out = _ntt(self._pad(evals), self.omega_inv)
        s = self.size_inv
        return [v * s % R for v in out]

    def coset_ntt(self, coeffs: Sequence[int], shift: int = COSET_SHIFT) -> list[int]:
        """Coefficients -> evaluations at shift * omega^i."""
        a = self._pad(coeffs)
        g = 1
        for i in range(self.size):
            a[i] = a[i] * g % R
            g = g * shift % R
        return _ntt(a, self.omega)

    def coset_intt(self, evals: Sequence[int], shift: int = COSET_SHIFT) -> list[int]:
        """Evaluations at shift * omega^i -> coefficients."""
        a = self.intt(evals)
        g_inv = pow(shift, -1, R)
        g = 1
        for i in range(self.size):
            a[i] = a[i] * g % R
            g = g * g_inv % R
        return a

    def _pad(self, values: Sequence[int]) -> list[int]:
        if len(values) > self.size:
            raise ValueError(f"{len(values)} values do not fit a domain of size {self.size}")
        return [v % R for v in values] + [0] * (self.size - len(values))


def _ntt(a: list[int], omega: int) -> list[int]:
    """Evaluations of ``a`` (reduced, power-of-two length) at the powers of ``omega``."""
    if _native.NATIVE:
        return _native.unpack_ints(_native.fr_ntt(_native.pack_ints(a), omega))
    return ntt_python(a, omega)


def ntt_python(a: list[int], omega: int) -> list[int]:
    """In-place iterative Cooley-Tukey (bit-reversal, then butterflies); returns ``a`` (plain
    ints; the butterflies run on gmpy2 ``mpz`` when available, about 1.5x faster)."""
    n = len(a)
    mod = fast_int(R)
    for i in range(n):
        a[i] = fast_int(a[i])
    j = 0
    for i in range(1, n):
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j |= bit
        if i < j:
            a[i], a[j] = a[j], a[i]
    length = 2
    while length <= n:
        half = length >> 1
        w_len = pow(omega, n // length, R)
        twiddles = [1] * half
        for k in range(1, half):
            twiddles[k] = twiddles[k - 1] * w_len % R
        tw = [fast_int(t) for t in twiddles]
        for start in range(0, n, length):
            for k in range(half):
                u = a[start + k]
                v = a[start + k + half] * tw[k] % mod
                a[start + k] = (u + v) % mod
                a[start + k + half] = (u - v) % mod
        length <<= 1
    for i in range(n):
        a[i] = int(a[i])
    return a
