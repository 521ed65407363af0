"""NTT / inverse NTT / coset transforms against an O(n^2) naive DFT, on the native (C) and the
Python transform alike."""

from __future__ import annotations

import random

import pytest

from prover import native
from prover.fft import COSET_SHIFT, ROOT_OF_UNITY_2_28, Domain, domain_size_for, root_of_unity
from prover.fields import R


PATHS = [pytest.param(True, id="native", marks=pytest.mark.skipif(not native.AVAILABLE, reason="no extension")),
         pytest.param(False, id="python")]


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(native, "NATIVE", request.param)
    return bool(request.param)


def naive_eval(coeffs: list[int], points: list[int]) -> list[int]:
    out = []
    for x in points:
        acc = 0
        for c in reversed(coeffs):
            acc = (acc * x + c) % R
        out.append(acc)
    return out


def test_root_of_unity_orders() -> None:
    assert pow(ROOT_OF_UNITY_2_28, 1 << 28, R) == 1
    assert pow(ROOT_OF_UNITY_2_28, 1 << 27, R) != 1
    for n in (1, 2, 8, 1024):
        w = root_of_unity(n)
        assert pow(w, n, R) == 1
        assert n == 1 or pow(w, n // 2, R) == R - 1
    with pytest.raises(ValueError):
        root_of_unity(12)
    with pytest.raises(ValueError):
        root_of_unity(1 << 29)


def test_domain_size_for() -> None:
    assert [domain_size_for(k) for k in (0, 1, 2, 3, 5, 2048, 2049)] == [1, 1, 2, 4, 8, 2048, 4096]


@pytest.mark.parametrize("n", [1, 2, 4, 16, 64])
def test_ntt_matches_naive_dft(n: int, path: bool) -> None:
    rng = random.Random(n)
    d = Domain(n)
    coeffs = [rng.randrange(R) for _ in range(n)]
    assert d.ntt(coeffs) == naive_eval(coeffs, d.elements())
    assert d.intt(d.ntt(coeffs)) == coeffs
    coset = [COSET_SHIFT * w % R for w in d.elements()]
    assert d.coset_ntt(coeffs) == naive_eval(coeffs, coset)
    assert d.coset_intt(d.coset_ntt(coeffs)) == coeffs


def test_short_input_is_zero_padded_and_long_rejected(path: bool) -> None:
    d = Domain(8)
    assert d.ntt([3, 1]) == naive_eval([3, 1], d.elements())
    with pytest.raises(ValueError):
        d.ntt([1] * 9)


def test_vanishing_polynomial() -> None:
    d = Domain(16)
    assert all(d.vanishing_at(w) == 0 for w in d.elements())
    assert d.vanishing_at(COSET_SHIFT) != 0


@pytest.mark.skipif(not native.AVAILABLE, reason="no extension")
def test_native_and_python_transforms_agree_on_a_large_domain() -> None:
    from prover.fft import ntt_python

    rng = random.Random(5)
    d = Domain(1 << 12)
    values = [rng.randrange(R) for _ in range(d.size)]
    packed = native.pack_ints(values)
    assert native.unpack_ints(native.fr_ntt(packed, d.omega)) == ntt_python(list(values), d.omega)
    # scaling: post=(c, g) multiplies output i by c * g^i, pre=(c, g) input i
    out = native.unpack_ints(native.fr_ntt(packed, d.omega_inv, post=(d.size_inv, 7), pre=(3, 1)))
    plain = ntt_python([3 * v % R for v in values], d.omega_inv)
    assert out == [v * d.size_inv * pow(7, i, R) % R for i, v in enumerate(plain)]
    # inputs >= r are reduced, not rejected
    assert native.fr_ntt(native.pack_ints([R + 1, 0]), R - 1) == native.pack_ints([1, 1])


@pytest.mark.skipif(not native.AVAILABLE, reason="no extension")
def test_native_ntt_rejects_malformed_buffers() -> None:
    mod = native.module()
    w = (1).to_bytes(32, "little")
    for bad in (b"", b"\0" * 31, b"\0" * 96):  # empty, ragged, not a power of two
        with pytest.raises(ValueError):
            mod.fr_ntt(bad, w)
    with pytest.raises(ValueError, match="32 bytes"):
        mod.fr_ntt(b"\0" * 64, b"\1")
    with pytest.raises(ValueError, match="32 bytes"):
        mod.fr_ntt(b"\0" * 64, w, post_c=b"\1" * 33)
    with pytest.raises(ValueError):
        mod.fr_abc(b"\0" * 64, b"\0" * 64, b"\0" * 32, w)
