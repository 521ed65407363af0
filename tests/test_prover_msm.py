"""Every MSM path against a naive oracle on the same inputs: the native C Pippenger (default
threads, and 2 threads with forced windows), the batch-affine Python path, the plain Jacobian
Pippenger and the py_ecc reference."""

from __future__ import annotations

import functools
import os
import random
import subprocess
import sys
from collections.abc import Callable, Sequence

import pytest

from prover import native
from prover.curve import (
    G1_GEN,
    G1_INF,
    G1_ZERO,
    G2_GEN,
    G2_INF,
    G2_ZERO,
    g1_add,
    g1_mul,
    g1_neg_affine,
    g1_to_affine,
    g2_add,
    g2_mul,
    g2_neg_affine,
    g2_to_affine,
)
from prover.fields import Q, R
from prover.fixed_base import (
    batch_mul_g1,
    batch_mul_g1_python,
    batch_mul_g2,
    batch_mul_g2_python,
)
from prover.msm import (
    msm_g1,
    msm_g1_jacobian,
    msm_g1_python,
    msm_g2_jacobian,
    msm_g2_python,
    msm_reference_g1,
    msm_reference_g2,
    window_bits,
)

needs_native = pytest.mark.skipif(not native.AVAILABLE, reason="prover._native not built")


def _native_impls(fn: Callable) -> list:  # type: ignore[type-arg]
    return [
        pytest.param(fn, id="native", marks=needs_native),
        pytest.param(functools.partial(fn, threads=2, window=3), id="native_t2_w3", marks=needs_native),
    ]


G1_PATHS = [
    *_native_impls(native.msm_g1_native),
    pytest.param(msm_g1_python, id="batch_affine"),
    pytest.param(msm_g1_jacobian, id="jacobian"),
    pytest.param(msm_reference_g1, id="reference"),
]
G2_PATHS = [
    *_native_impls(native.msm_g2_native),
    pytest.param(msm_g2_python, id="batch_affine"),
    pytest.param(msm_g2_jacobian, id="jacobian"),
    pytest.param(msm_reference_g2, id="reference"),
]


def naive_g1(points: Sequence[tuple[int, int]], scalars: Sequence[int]) -> tuple[int, int]:
    acc = G1_INF
    for p, k in zip(points, scalars):
        acc = g1_add(acc, g1_mul(p, k % R))
    return g1_to_affine(acc)


def naive_g2(points, scalars):  # type: ignore[no-untyped-def]
    acc = G2_INF
    for p, k in zip(points, scalars):
        acc = g2_add(acc, g2_mul(p, k % R))
    return g2_to_affine(acc)


def rand_g1(rng: random.Random, n: int) -> list[tuple[int, int]]:
    return [g1_to_affine(g1_mul(G1_GEN, rng.randrange(1, R))) for _ in range(n)]


def rand_g2(rng: random.Random, n: int):  # type: ignore[no-untyped-def]
    return [g2_to_affine(g2_mul(G2_GEN, rng.randrange(1, R))) for _ in range(n)]


EDGE_SCALARS = [0, 1, R - 1, 2, R - 2, 1 << 253, R, R + 1]


@pytest.mark.parametrize("impl", G1_PATHS)
@pytest.mark.parametrize("n", [0, 1, 5, 40])
def test_msm_g1_random(impl: Callable, n: int) -> None:
    rng = random.Random(n)
    pts = rand_g1(rng, n)
    sc = [rng.randrange(R) for _ in range(n)]
    expected = naive_g1(pts, sc)
    assert impl(pts, sc) == expected
    if n:  # reject: one wrong scalar moves the result
        assert impl(pts, [sc[0] + 1, *sc[1:]]) != expected


@pytest.mark.parametrize("impl", G1_PATHS)
def test_msm_g1_edge_scalars_and_repeats(impl: Callable) -> None:
    rng = random.Random(7)
    p = rand_g1(rng, 1)[0]
    pts = [p] * len(EDGE_SCALARS) + rand_g1(rng, len(EDGE_SCALARS))
    sc = EDGE_SCALARS + EDGE_SCALARS
    assert impl(pts, sc) == naive_g1(pts, sc)
    # P + (-P) = identity, P + P = 2P, identity points contribute nothing
    assert impl([p, g1_neg_affine(p)], [1, 1]) == G1_ZERO
    assert impl([p, p], [1, 1]) == g1_to_affine(g1_mul(p, 2))
    assert impl([p, G1_ZERO], [5, 9]) == g1_to_affine(g1_mul(p, 5))
    assert impl([p], [R - 1]) == g1_neg_affine(p)
    assert impl([p], [0]) == G1_ZERO
    assert impl([p], [1]) == p
    assert impl([p], [R + 3]) == g1_to_affine(g1_mul(p, 3))  # scalars >= r are reduced
    assert impl([], []) == G1_ZERO
    assert impl(pts, [0] * len(pts)) == G1_ZERO
    assert impl([G1_ZERO] * 3, [5, 6, 7]) == G1_ZERO
    assert impl([p] * 7, [1] * 7) == g1_to_affine(g1_mul(p, 7))


@pytest.mark.parametrize("impl", G2_PATHS)
@pytest.mark.parametrize("n", [0, 1, 12])
def test_msm_g2_random(impl: Callable, n: int) -> None:
    rng = random.Random(100 + n)
    pts = rand_g2(rng, n)
    sc = [rng.randrange(R) for _ in range(n)]
    expected = naive_g2(pts, sc)
    assert impl(pts, sc) == expected
    if n:
        assert impl(pts, [sc[0] + 1, *sc[1:]]) != expected


@pytest.mark.parametrize("impl", G2_PATHS)
def test_msm_g2_edge_scalars_and_repeats(impl: Callable) -> None:
    rng = random.Random(8)
    p = rand_g2(rng, 1)[0]
    pts = [p] * len(EDGE_SCALARS)
    assert impl(pts, EDGE_SCALARS) == naive_g2(pts, EDGE_SCALARS)
    assert impl([p, g2_neg_affine(p)], [1, 1]) == G2_ZERO
    assert impl([p, p], [3, 4]) == g2_to_affine(g2_mul(p, 7))
    assert impl([p, G2_ZERO], [5, 9]) == g2_to_affine(g2_mul(p, 5))
    assert impl([p], [R - 1]) == g2_neg_affine(p)
    assert impl([], []) == G2_ZERO
    assert impl([p] * 3, [0] * 3) == G2_ZERO
    assert impl([p, p], [1, 1]) == g2_to_affine(g2_mul(p, 2))
    assert impl([G2_ZERO, p], [3, R + 1]) == p


def test_fast_and_reference_agree_on_larger_input() -> None:
    """Big enough that Pippenger picks a multi-bit window with many full buckets."""
    rng = random.Random(3)
    pts = rand_g1(rng, 120)
    sc = [rng.randrange(R) for _ in range(120)]
    assert window_bits(120) >= 5
    assert msm_g1(pts, sc) == msm_reference_g1(pts, sc)


def test_length_mismatch_rejected() -> None:
    with pytest.raises(ValueError):
        msm_g1([G1_GEN], [1, 2])


def test_fixed_base_batch_mul_matches_double_and_add() -> None:
    rng = random.Random(11)
    sc = [0, 1, R - 1, *(rng.randrange(R) for _ in range(20))]
    assert batch_mul_g1(G1_GEN, sc) == [g1_to_affine(g1_mul(G1_GEN, k)) for k in sc]
    sc2 = sc[:8]
    assert batch_mul_g2(G2_GEN, sc2) == [g2_to_affine(g2_mul(G2_GEN, k)) for k in sc2]


FIXED_BASE_SCALARS = [0, 1, 2, R - 1, R - 2, R, R + 1, 2 * R + 3, (1 << 256) - 1, -1, 1 << 253]


def _fixed_base_g1_bases() -> list:  # type: ignore[type-arg]
    return [G1_GEN, g1_to_affine(g1_mul(G1_GEN, 987654321)), G1_ZERO]


@needs_native
@pytest.mark.parametrize("base_index", [0, 1, 2])
@pytest.mark.parametrize("threads", [1, 3])
def test_fixed_base_g1_native_matches_python(base_index: int, threads: int) -> None:
    base = _fixed_base_g1_bases()[base_index]
    rng = random.Random(21 + base_index)
    sc = FIXED_BASE_SCALARS + [rng.randrange(R) for _ in range(250)]  # 250 > 3 * 64: threads split
    got = native.batch_mul_g1_native(base, sc, threads=threads)
    want = batch_mul_g1_python(base, sc)
    assert got == want and len(got) == len(sc)
    assert got[0] == G1_ZERO and got[1] == (G1_ZERO if base == G1_ZERO else base)
    assert got[3] == (G1_ZERO if base == G1_ZERO else g1_neg_affine(base))
    for i in (2, 11, 40):  # spot checks against double-and-add
        assert got[i] == g1_to_affine(g1_mul(base, sc[i] % R))
    assert native.batch_mul_g1_native(base, [], threads=threads) == [] == batch_mul_g1_python(base, [])
    if base != G1_ZERO:  # reject: a changed scalar gives a different point
        assert native.batch_mul_g1_native(base, [sc[20] + 1], threads=threads)[0] != want[20]


@needs_native
@pytest.mark.parametrize("base_index", [0, 1, 2, 3])
def test_fixed_base_g2_native_matches_python(base_index: int) -> None:
    base = [G2_GEN, g2_to_affine(g2_mul(G2_GEN, 123456789)), G2_ZERO, twist_point_outside_subgroup()][base_index]
    rng = random.Random(31 + base_index)
    sc = FIXED_BASE_SCALARS + [rng.randrange(R) for _ in range(20)]
    got = native.batch_mul_g2_native(base, sc, threads=2)
    assert got == batch_mul_g2_python(base, sc)
    assert got[0] == G2_ZERO and got[1] == (G2_ZERO if base == G2_ZERO else base)
    if base_index < 2:  # in the r-torsion: (r - 1) B = -B
        assert got[3] == g2_neg_affine(base)
        assert got[12] == g2_to_affine(g2_mul(base, sc[12]))
        assert native.batch_mul_g2_native(base, [sc[12] + 1])[0] != got[12]
    assert native.batch_mul_g2_native(base, []) == [] == batch_mul_g2_python(base, [])


def test_fixed_base_dispatch_follows_native_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    sc = [5, 0, R - 1]
    want1, want2 = batch_mul_g1_python(G1_GEN, sc), batch_mul_g2_python(G2_GEN, sc)

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise AssertionError("native path used with NATIVE off")

    monkeypatch.setattr(native, "batch_mul_g1_native", boom)
    monkeypatch.setattr(native, "batch_mul_g2_native", boom)
    monkeypatch.setattr(native, "NATIVE", False)
    assert batch_mul_g1(G1_GEN, sc) == want1 and batch_mul_g2(G2_GEN, sc) == want2
    monkeypatch.undo()
    if native.AVAILABLE:
        calls = []
        real = native.batch_mul_g1_native
        monkeypatch.setattr(native, "NATIVE", True)
        monkeypatch.setattr(
            native, "batch_mul_g1_native", lambda *a, **k: calls.append(1) or real(*a, **k)
        )
        assert batch_mul_g1(G1_GEN, sc) == want1 and calls == [1]
        assert batch_mul_g2(G2_GEN, sc) == want2


@needs_native
def test_fixed_base_native_rejects_bad_input() -> None:
    mod = native.module()
    one = (1).to_bytes(32, "little")
    g1 = native.pack_g1([G1_GEN])
    g2 = native.pack_g2([G2_GEN])
    with pytest.raises(ValueError, match="not on the curve"):  # off the curve
        native.batch_mul_g1_native((1, 3), [1])
    with pytest.raises(ValueError):  # (0, 2): not the identity, off the curve
        native.batch_mul_g1_native((0, 2), [])
    with pytest.raises(ValueError):  # coordinate >= q (G1_GEN.y + q is "the same" point mod q)
        native.batch_mul_g1_native((1, 2 + Q), [1])
    with pytest.raises(ValueError):  # coordinate >= 2^256
        native.batch_mul_g1_native((1, 1 << 256), [1])
    (x0, x1), (y0, y1) = G2_GEN
    with pytest.raises(ValueError):  # off the twist
        native.batch_mul_g2_native(((x0, x1), (y0, (y1 + 1) % Q)), [1])
    with pytest.raises(ValueError):
        native.batch_mul_g2_native(((x0 + Q, x1), (y0, y1)), [1])
    with pytest.raises(ValueError):  # base of the wrong size
        mod.g1_fixed_base(g1[:-1], one)
    with pytest.raises(ValueError):
        mod.g2_fixed_base(g1, one)
    with pytest.raises(ValueError):  # scalar buffer not a multiple of 32 bytes
        mod.g1_fixed_base(g1, one + b"\x00")
    with pytest.raises(ValueError):
        mod.g2_fixed_base(g2, one, 0)  # threads out of range
    with pytest.raises(TypeError):
        mod.g1_fixed_base("not bytes", one)
    # accept: raw scalars >= r are reduced in C (the packers reduce first, this bypasses them)
    raw = mod.g1_fixed_base(g1, ((1 << 256) - 1).to_bytes(32, "little") + R.to_bytes(32, "little"))
    assert native.unpack_points(raw, g2=False) == (g1_to_affine(g1_mul(G1_GEN, ((1 << 256) - 1) % R)), G1_ZERO)


def test_plain_int_fallback_without_gmpy2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same results when gmpy2 is unavailable (fast_int / inv_q fall back to plain ints)."""
    import prover.fields as fields

    rng = random.Random(12)
    pts = rand_g1(rng, 20)
    sc = [rng.randrange(R) for _ in range(20)]
    with_gmpy2 = msm_g1_python(pts, sc)
    monkeypatch.setattr(fields, "_gmpy2", None)
    assert type(fields.fast_int(5)) is int
    assert msm_g1_python(pts, sc) == with_gmpy2 == naive_g1(pts, sc)
    assert fields.inv_q(3) * 3 % fields.Q == 1


# ----------------------------------------------------------------------------- batch-affine internals
from prover.batch_affine import scale_many_g1, signed_digits, signed_window_bits  # noqa: E402
from prover.fields import fast_int  # noqa: E402
from prover.msm import msm_many_g1, msm_many_g2  # noqa: E402
from prover_samples import twist_point_outside_subgroup


@pytest.mark.parametrize("c", [2, 5, 10, 13])
def test_signed_digits_reconstruct(c: int) -> None:
    rng = random.Random(c)
    windows = -(-255 // c)
    for k in [0, 1, R - 1, (1 << 254) - 1, *(rng.randrange(R) for _ in range(20))]:
        digits = signed_digits(k, c, windows)
        assert all(-(1 << (c - 1)) < d <= 1 << (c - 1) for d in digits)
        assert sum(d << (c * w) for w, d in enumerate(digits)) == k
    assert 8 <= signed_window_bits(4000) <= 12


@pytest.mark.parametrize("impl", G1_PATHS[:-1])
def test_buckets_with_doublings_and_cancellations(impl: Callable) -> None:
    """Many equal points with equal scalars land in the same buckets (affine doubling), P and
    -P with equal scalars cancel inside a bucket (identity), big enough for a multi-bit window."""
    rng = random.Random(21)
    p, q = rand_g1(rng, 2)
    k = rng.randrange(R)
    pts = [p] * 40 + [q, g1_neg_affine(q)] * 20 + rand_g1(rng, 30)
    sc = [k] * 40 + [k] * 40 + [rng.randrange(R) for _ in range(30)]
    assert impl(pts, sc) == naive_g1(pts, sc)
    assert impl([q, g1_neg_affine(q)] * 50, [k] * 100) == G1_ZERO


@pytest.mark.parametrize("use_native", [pytest.param(True, marks=needs_native), False], ids=["native", "python"])
def test_msm_many_matches_separate_msms(use_native: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "NATIVE", use_native)
    rng = random.Random(22)
    pts = rand_g1(rng, 12)
    p = pts[0]
    groups = [(pts[:n], [rng.randrange(R) for _ in range(n)]) for n in (0, 1, 2, 5, 12)]
    groups += [([p, p], [3, 5]), ([p, g1_neg_affine(p)], [7, 7]), ([p], [R - 1]), ([G1_ZERO, p], [4, 0])]
    assert msm_many_g1(groups) == [naive_g1(*g) for g in groups]
    pts2 = rand_g2(rng, 3)
    groups2 = [(pts2[:n], [rng.randrange(R) for _ in range(n)]) for n in (0, 1, 3)] + [([pts2[0]] * 2, [1, 1])]
    assert msm_many_g2(groups2) == [naive_g2(*g) for g in groups2]
    with pytest.raises(ValueError):
        msm_many_g1([([p], [1, 2])])


def test_scale_many_matches_double_and_add() -> None:
    rng = random.Random(23)
    pts = rand_g1(rng, 6)
    for k in (1, 2, 3, R - 1, rng.randrange(R)):
        got = scale_many_g1([fast_int(x) for x, _ in pts], [fast_int(y) for _, y in pts], k)
        assert [(int(s[0]), int(s[1])) for s in got] == [g1_to_affine(g1_mul(p, k)) for p in pts]  # type: ignore[index]


# ----------------------------------------------------------------------------- native specifics
@needs_native
@pytest.mark.parametrize("c", range(2, 17))
def test_native_every_window_size(c: int) -> None:
    """Forced windows 2..16 (digit extraction across limb boundaries, carries into the top
    window), with repeats, opposites, identities, zero / huge scalars, 1 and 2 threads."""
    rng = random.Random(1000 + c)
    base = rand_g1(rng, 30)
    pts = base + base[:5] + [g1_neg_affine(p) for p in base[5:10]] + [G1_ZERO] * 3
    sc = [rng.randrange(1 << 256) for _ in pts]
    sc[:4] = [0, 1, R - 1, R]
    expected = msm_g1_python(pts, [k % R for k in sc])
    assert native.msm_g1_native(pts, sc, threads=1, window=c) == expected
    assert native.msm_g1_native(pts, sc, threads=2, window=c) == expected
    if c in (2, 7, 16):
        pts2 = rand_g2(rng, 6)
        pts2 += [pts2[0], g2_neg_affine(pts2[1])]
        sc2 = [rng.randrange(R) for _ in pts2]
        assert native.msm_g2_native(pts2, sc2, threads=2, window=c) == msm_g2_python(pts2, sc2)


def _window_thresholds(limit: int) -> list[int]:
    bits = native.module().window_bits
    return [m for m in range(1, limit) if bits(m, 2) != bits(m - 1, 2)]


@needs_native
def test_native_around_window_and_thread_thresholds() -> None:
    """Sizes where the automatic window changes, and around the one-thread cut-off (256 terms)."""
    rng = random.Random(31)
    sizes = sorted({n for t in [*_window_thresholds(600), 256] for n in (t - 1, t, t + 1)})
    pool = rand_g1(rng, 97)
    for n in sizes:
        pts = [pool[(i * 7) % len(pool)] for i in range(n)]  # repeats: doublings inside buckets
        sc = [rng.randrange(R) for _ in range(n)]
        assert native.msm_g1_native(pts, sc, threads=2) == msm_g1_python(pts, sc), n


@needs_native
def test_native_large_random_matches_python() -> None:
    rng = random.Random(32)
    pts = rand_g1(rng, 300) * 10
    sc = [rng.randrange(R) for _ in pts]
    assert native.msm_g1_native(pts, sc) == native.msm_g1_native(pts, sc, threads=1) == msm_g1_python(pts, sc)
    pts2 = rand_g2(rng, 50) * 8
    sc2 = [rng.randrange(R) for _ in pts2]
    assert native.msm_g2_native(pts2, sc2) == msm_g2_python(pts2, sc2)


@needs_native
def test_native_rejects_malformed_input() -> None:
    mod = native.module()
    one = (1).to_bytes(32, "little")
    with pytest.raises(ValueError, match="coordinate >= q"):
        native.msm_g1_native([G1_GEN, (Q, 2)], [1, 1])
    with pytest.raises(ValueError, match="coordinate >= q"):
        native.msm_g2_native([((Q + 1, 0), (0, 0))], [1])
    with pytest.raises(ValueError):
        native.msm_g1_native([(-1, 2)], [1])  # not packable
    with pytest.raises(ValueError):
        native.msm_g1_native([(1 << 256, 2)], [1])
    with pytest.raises(ValueError, match="as many scalars"):
        native.msm_g1_native([G1_GEN], [1, 2])
    with pytest.raises(ValueError, match="multiple of 64"):
        mod.g1_msm(b"\0" * 63, one)
    with pytest.raises(ValueError, match="one scalar per point"):
        mod.g1_msm(b"\0" * 64, one + one)
    with pytest.raises(ValueError, match="multiple of 128"):
        mod.g2_msm(b"\0" * 64, one)
    with pytest.raises(ValueError, match="threads"):
        mod.g1_msm(b"\0" * 64, one, 0)
    for bad_window in (1, 17, -1):
        with pytest.raises(ValueError, match="window"):
            mod.g1_msm(b"\0" * 64, one, 1, bad_window)
    # buffers other than bytes are read the same way
    packed = native.pack_g1([G1_GEN])
    assert mod.g1_msm(bytearray(packed), memoryview(one)) == packed


def test_dispatch_follows_the_native_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    import prover.msm as msm_mod

    rng = random.Random(33)
    pts = rand_g1(rng, 5)
    sc = [rng.randrange(R) for _ in pts]
    expected = naive_g1(pts, sc)

    def boom(*_a: object, **_k: object) -> None:
        raise AssertionError("wrong path taken")

    monkeypatch.setattr(native, "NATIVE", False)
    monkeypatch.setattr(native, "msm_g1_native", boom)
    assert msm_g1(pts, sc) == expected
    monkeypatch.undo()
    if native.AVAILABLE:
        monkeypatch.setattr(native, "NATIVE", True)
        monkeypatch.setattr(msm_mod, "msm_g1_python", boom)
        monkeypatch.setattr(msm_mod, "msm_g1_jac_python", boom)
        assert msm_g1(pts, sc) == expected
        assert msm_mod.msm_g1_jac(pts, sc)[2] == 1


def test_zkxai_no_native_forces_the_python_path() -> None:
    code = (
        "import prover.native as n, prover.msm as m\n"
        "assert not n.NATIVE and not n.AVAILABLE and not m.NATIVE\n"
        "assert m.msm_g1([(1, 2)], [1]) == (1, 2)\n"
    )
    env = {**os.environ, "ZKXAI_NO_NATIVE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
