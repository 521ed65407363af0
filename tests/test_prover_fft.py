"""NTT / inverse NTT / coset transforms against an O(n^2) naive DFT."""

from __future__ import annotations

import random

import pytest

from prover.fft import COSET_SHIFT, ROOT_OF_UNITY_2_28, Domain, domain_size_for, root_of_unity
from prover.fields import R


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
def test_ntt_matches_naive_dft(n: int) -> None:
    rng = random.Random(n)
    d = Domain(n)
    coeffs = [rng.randrange(R) for _ in range(n)]
    assert d.ntt(coeffs) == naive_eval(coeffs, d.elements())
    assert d.intt(d.ntt(coeffs)) == coeffs
    coset = [COSET_SHIFT * w % R for w in d.elements()]
    assert d.coset_ntt(coeffs) == naive_eval(coeffs, coset)
    assert d.coset_intt(d.coset_ntt(coeffs)) == coeffs


def test_short_input_is_zero_padded_and_long_rejected() -> None:
    d = Domain(8)
    assert d.ntt([3, 1]) == naive_eval([3, 1], d.elements())
    with pytest.raises(ValueError):
        d.ntt([1] * 9)


def test_vanishing_polynomial() -> None:
    d = Domain(16)
    assert all(d.vanishing_at(w) == 0 for w in d.elements())
    assert d.vanishing_at(COSET_SHIFT) != 0
