"""Python face of the optional C kernels in ``prover._native`` (sources in prover/csrc).

The extension does BN254 arithmetic on 4x64-bit Montgomery limbs: Pippenger MSMs on G1 / G2
(XYZZ buckets, signed digits, windows shared out over threads, GIL released), fixed-base batch
multiplication on G1 / G2 (the setup's key points), radix-2 NTTs over
F_r, the sparse R1CS row products of the witness map and the optimal ate pairing (a multi-Miller loop and
one final exponentiation, :mod:`prover.pairing`); and it loads files: ``.r1cs``
constraints (building the CSR rows too), ``.zkey`` point sections (Montgomery -> canonical, each
point checked on the curve) and coefficient sections (compared with the R1CS), and the text of
:func:`prover.r1cs_digest.r1cs_digest`. It is built by ``setup.py`` as an *optional* extension,
so an install without a C compiler still works: then :data:`NATIVE` is False and
:mod:`prover.msm`, :mod:`prover.fixed_base`, :mod:`prover.fft`, :mod:`prover.r1cs_to_qap`, :mod:`prover.zkey`,
:mod:`prover.circom_files`, :mod:`prover.r1cs_digest` and :mod:`prover.pairing` run their pure-Python paths. ``ZKXAI_NO_NATIVE=1`` (read at import) forces the Python paths;
``ZKXAI_PROVER_THREADS`` sets the default MSM thread count (else ``os.cpu_count()``).

Data crosses the boundary as packed bytes: 32-byte little-endian integers, a G1 point as x || y
and a G2 point as x0 || x1 || y0 || y1, the identity as all zeros (our affine convention). The C
side checks lengths and that coordinates are < q (ValueError otherwise); scalars and F_r values
are reduced mod r there. Packing a proving key's point lists costs far more than the
conversion inside C, so :func:`packed_key` caches it per key object (likewise
:func:`packed_r1cs` for the CSR form of a constraint system); the file readers seed both caches
with the bytes they already made.
"""

from __future__ import annotations

import os
import sys
import weakref
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypeVar

from circuits.r1cs import R1CS

from .fields import Q, R
from .keys import G1, G2, ProvingKey

_native: ModuleType | None
try:
    if os.environ.get("ZKXAI_NO_NATIVE", "") not in ("", "0"):
        raise ImportError("disabled by ZKXAI_NO_NATIVE")
    from . import _native  # type: ignore[attr-defined,no-redef]
except ImportError:  # no compiler at install time, or disabled: the Python paths take over
    _native = None

#: True when the extension could be loaded (explicit ``*_native`` calls work).
AVAILABLE: bool = _native is not None
#: True when the default paths use the C kernels (tests monkeypatch it to cover the fallback).
NATIVE: bool = AVAILABLE


def default_threads() -> int:
    """MSM threads: ``ZKXAI_PROVER_THREADS`` when set, else ``os.cpu_count()``."""
    env = os.environ.get("ZKXAI_PROVER_THREADS", "")
    if env.strip():
        return max(1, int(env))
    return max(1, os.cpu_count() or 1)


def module() -> ModuleType:
    """The loaded extension; RuntimeError if it is not available."""
    if _native is None:
        raise RuntimeError("prover._native is not available (not built, or ZKXAI_NO_NATIVE is set)")
    return _native


# ----------------------------------------------------------------------------- packing
def pack_ints(values: Iterable[int]) -> bytes:
    """32-byte little-endian encodings, concatenated; ValueError outside [0, 2^256)."""
    try:
        return b"".join([v.to_bytes(32, "little") for v in values])
    except (OverflowError, AttributeError, TypeError) as exc:
        raise ValueError(f"value is not an integer in [0, 2^256): {exc}") from exc


def pack_scalars(scalars: Iterable[int]) -> bytes:
    """Scalars reduced mod r, packed (the C side reduces too; this admits negatives and big ints)."""
    return pack_ints([k % R for k in scalars])


def unpack_ints(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 32], "little") for i in range(0, len(data), 32)]


def pack_g1(points: Sequence[G1]) -> bytes:
    return pack_ints([c for p in points for c in p])


def pack_g2(points: Sequence[G2]) -> bytes:
    return pack_ints([c for p in points for xy in p for c in xy])


def unpack_g1(data: bytes) -> G1:
    x, y = unpack_ints(data)
    return (x, y)


def unpack_g2(data: bytes) -> G2:
    x0, x1, y0, y1 = unpack_ints(data)
    return ((x0, x1), (y0, y1))


# ----------------------------------------------------------------------------- MSM
def g1_msm_packed(points: bytes, scalars: bytes, threads: int | None = None, window: int = 0) -> G1:
    """sum k_i P_i for packed G1 points and 32-byte scalars (affine out, identity (0, 0))."""
    return unpack_g1(module().g1_msm(points, scalars, threads or default_threads(), window))


def g2_msm_packed(points: bytes, scalars: bytes, threads: int | None = None, window: int = 0) -> G2:
    """G2 counterpart of :func:`g1_msm_packed`."""
    return unpack_g2(module().g2_msm(points, scalars, threads or default_threads(), window))


def _check_lengths(points: Sequence[Any], scalars: Sequence[int]) -> None:
    if len(points) != len(scalars):
        raise ValueError(f"MSM needs as many scalars as points ({len(scalars)} != {len(points)})")


def msm_g1_native(
    points: Sequence[G1], scalars: Sequence[int], *, threads: int | None = None, window: int = 0
) -> G1:
    """``sum_i scalars[i] * points[i]`` on G1 with the C Pippenger (``window`` 0 = automatic)."""
    _check_lengths(points, scalars)
    return g1_msm_packed(pack_g1(points), pack_scalars(scalars), threads, window)


def msm_g2_native(
    points: Sequence[G2], scalars: Sequence[int], *, threads: int | None = None, window: int = 0
) -> G2:
    """``sum_i scalars[i] * points[i]`` on G2 with the C Pippenger."""
    _check_lengths(points, scalars)
    return g2_msm_packed(pack_g2(points), pack_scalars(scalars), threads, window)


# ----------------------------------------------------------------------------- pairing
def pairing_check_packed(g1: bytes, g2: bytes) -> bool:
    """prod e(P_k, Q_k) == 1 for packed G1 / G2 points (identity = zeros, contributing 1); ValueError for a
    coordinate >= q or a point off its curve. G2 subgroup membership is not checked."""
    return bool(module().pairing_check(g1, g2))


def pairing_packed(g1: bytes, g2: bytes) -> list[int]:
    """prod e(P_k, Q_k) as twelve F_q coefficients in tower order c00.a c00.b c01.a ... c12.b (c_ij on w^i v^j)."""
    return unpack_ints(module().pairing(g1, g2))


# ----------------------------------------------------------------------------- fixed-base batch mul
def batch_mul_g1_native(base: G1, scalars: Sequence[int], *, threads: int | None = None) -> list[G1]:
    """``[k * base for k in scalars]`` on G1 with the C fixed-base kernel (windowed table of
    ``base``, one inversion per chunk); affine out, ``k = 0`` gives ``(0, 0)``. ValueError when
    ``base`` is off the curve or has a coordinate outside [0, q)."""
    out = module().g1_fixed_base(pack_g1([base]), pack_scalars(scalars), threads or default_threads())
    return list(unpack_points(out, g2=False))


def batch_mul_g2_native(base: G2, scalars: Sequence[int], *, threads: int | None = None) -> list[G2]:
    """G2 counterpart of :func:`batch_mul_g1_native` (the base is checked against the twist)."""
    out = module().g2_fixed_base(pack_g2([base]), pack_scalars(scalars), threads or default_threads())
    return list(unpack_points(out, g2=True))


# ----------------------------------------------------------------------------- per-object caches
K = TypeVar("K")
V = TypeVar("V")


class _IdentityCache:
    """Values derived from an object, cached while the object lives (keyed by ``id``, dropped by a
    weakref callback, so a recycled id can never return a stale value). For frozen records such as
    :class:`ProvingKey` and :class:`R1CS`, whose tuples cannot be weak-referenced themselves."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[Any], Any]] = {}

    def get(self, obj: K, make: Callable[[K], V]) -> V:
        key = id(obj)
        hit = self._entries.get(key)
        if hit is not None and hit[0]() is obj:
            return hit[1]  # type: ignore[no-any-return]
        value = make(obj)
        entries = self._entries
        ref = weakref.ref(obj, lambda _ref, key=key: entries.pop(key, None))
        entries[key] = (ref, value)
        return value

    def put(self, obj: K, value: V) -> None:
        """Record ``value`` for ``obj`` (made elsewhere, e.g. while reading a file)."""
        key = id(obj)
        entries = self._entries
        ref = weakref.ref(obj, lambda _ref, key=key: entries.pop(key, None))
        entries[key] = (ref, value)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class PackedKey:
    """A proving key's MSM bases, packed in the order :func:`prover.prove.prove` uses them."""

    a: bytes  # alpha_g1, a_query..., delta_g1
    b1: bytes  # beta_g1, b_g1_query..., delta_g1
    b2: bytes  # beta_g2, b_g2_query..., delta_g2
    lh: bytes  # l_query..., h_query...


def _pack_key(pk: ProvingKey) -> PackedKey:
    vk = pk.vk
    return PackedKey(
        a=pack_g1([vk.alpha_g1, *pk.a_query, pk.delta_g1]),
        b1=pack_g1([pk.beta_g1, *pk.b_g1_query, pk.delta_g1]),
        b2=pack_g2([vk.beta_g2, *pk.b_g2_query, vk.delta_g2]),
        lh=pack_g1([*pk.l_query, *pk.h_query]),
    )


_KEYS = _IdentityCache()


def packed_key(pk: ProvingKey) -> PackedKey:
    """The packed bases of ``pk`` (computed once per key object)."""
    return _KEYS.get(pk, _pack_key)


def remember_packed_key(pk: ProvingKey, packed: PackedKey) -> None:
    """Seed :func:`packed_key` for ``pk`` (the zkey reader has the canonical bytes already)."""
    _KEYS.put(pk, packed)


def _le_u32(values: list[int]) -> bytes:
    arr = array("I", values)
    if arr.itemsize != 4:  # pragma: no cover - every mainstream platform has 4-byte "I"
        arr = array("L", values)
    if sys.byteorder == "big":  # pragma: no cover
        arr.byteswap()
    return arr.tobytes()


CSR = tuple[bytes, bytes, bytes]


@dataclass(frozen=True)
class PackedR1CS:
    """CSR form (row pointers, wire indices, coefficients) of the QAP rows of A, B and C: the
    constraints, and in A one extra row per instance wire (the input-consistency rows)."""

    a: CSR
    b: CSR
    c: CSR


def _csr(rows: Iterable[Any]) -> CSR:
    rowptr = [0]
    cols: list[int] = []
    coeffs: list[int] = []
    for lc in rows:
        for wire, coeff in lc.items():
            cols.append(wire)
            coeffs.append(coeff)
        rowptr.append(len(cols))
    return _le_u32(rowptr), _le_u32(cols), pack_scalars(coeffs)


def _pack_r1cs(r1cs: R1CS) -> PackedR1CS:
    cons = r1cs.constraints
    instance = [{i: 1} for i in range(r1cs.n_public + 1)]
    return PackedR1CS(
        a=_csr([*(c.a for c in cons), *instance]),
        b=_csr(c.b for c in cons),
        c=_csr(c.c for c in cons),
    )


_R1CS = _IdentityCache()


def packed_r1cs(r1cs: R1CS) -> PackedR1CS:
    """The CSR form of ``r1cs`` (computed once per constraint-system object)."""
    return _R1CS.get(r1cs, _pack_r1cs)


def remember_packed_r1cs(r1cs: R1CS, packed: PackedR1CS) -> None:
    """Seed :func:`packed_r1cs` for ``r1cs`` (the .r1cs reader builds the CSR while parsing)."""
    _R1CS.put(r1cs, packed)


# ----------------------------------------------------------------------------- F_r kernels
def fr_ntt(
    data: bytes,
    omega: int,
    *,
    pre: tuple[int, int] | None = None,
    post: tuple[int, int] | None = None,
) -> bytes:
    """NTT with root ``omega`` of ``data`` (packed, power-of-two length); ``pre=(c, g)`` first
    multiplies element i by c * g^i, ``post=(c, g)`` does the same to the output."""
    enc = lambda v: v.to_bytes(32, "little")  # noqa: E731
    kwargs: dict[str, bytes] = {}
    if pre is not None:
        kwargs["pre_c"], kwargs["pre_g"] = enc(pre[0]), enc(pre[1])
    if post is not None:
        kwargs["post_c"], kwargs["post_g"] = enc(post[0]), enc(post[1])
    return module().fr_ntt(data, enc(omega), **kwargs)  # type: ignore[no-any-return]


def fr_abc(a: bytes, b: bytes, c: bytes, factor: int) -> bytes:
    """Packed ``(a_i * b_i - c_i) * factor``."""
    return module().fr_abc(a, b, c, factor.to_bytes(32, "little"))  # type: ignore[no-any-return]


def r1cs_rows(r1cs: R1CS, witness: bytes, n_out: int) -> tuple[bytes, bytes, bytes, int]:
    """Packed row values <A_i, w>, <B_i, w>, <C_i, w> (zero padded to ``n_out`` rows, the instance
    rows included in A) and the first row with A*B != C (-1 when all hold)."""
    p = packed_r1cs(r1cs)
    a, b, c, bad = module().fr_r1cs_rows(witness, n_out, p.a, p.b, p.c)
    return a, b, c, bad


# ----------------------------------------------------------------------------- file loading
# Each of these has a Python counterpart that gives the same result (prover.zkey,
# prover.circom_files, prover.r1cs_digest); on malformed input they report where, and the caller
# lets the Python path raise its usual error.
def zkey_points(data: bytes | memoryview, *, g2: bool) -> tuple[bytes, int]:
    """snarkjs Montgomery points -> (canonical packed bytes, index of the first point with a
    coordinate >= q or off the curve / twist, -1 when none). The all-zero identity passes."""
    canon, bad = module().zkey_points(data, g2)
    return canon, bad


def unpack_points(data: bytes, *, g2: bool) -> tuple[Any, ...]:
    """Canonical packed points as a tuple of our affine tuples (G1 ``(x, y)``, G2 ``((x0, x1), (y0, y1))``)."""
    return module().unpack_points(data, g2)  # type: ignore[no-any-return]


def zkey_coefs_match(section: bytes | memoryview, r1cs: R1CS) -> bool:
    """True when a zkey coefficient section (section 4) holds exactly the A and B rows of
    ``r1cs`` plus its input-consistency rows, as snarkjs writes them (terms may be permuted
    within a row). False means "not shown equal": the caller decides with the Python check."""
    try:
        p = packed_r1cs(r1cs)
    except (ValueError, OverflowError, TypeError):  # wire indices outside u32: not for the fast path
        return False
    return bool(module().zkey_coefs_match(section, p.a, p.b, r1cs.n_constraints))


def g2_in_subgroup(p: G2) -> bool:
    """``r * p == O`` for a point ``p`` on the twist (canonical coordinates), as ``(r - 1) * p == -p``
    with the native G2 MSM. The identity is a member."""
    if p == ((0, 0), (0, 0)):
        return True
    (x0, x1), (y0, y1) = p
    got = g2_msm_packed(pack_g2([p]), (R - 1).to_bytes(32, "little"), threads=1)
    return got == ((x0, x1), ((Q - y0) % Q, (Q - y1) % Q))
