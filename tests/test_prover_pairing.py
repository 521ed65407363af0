"""The pairing on both paths (native C: prover/csrc/pairing.c, and the py_ecc reference) with one suite:
values equal coefficient by coefficient after the documented basis change (prover.gt.fq12_to_tower),
bilinearity and non-degeneracy inside each path, random products, identity pairs, Groth16 accept / reject and
the same typed error for degenerate input on either path; the C boundary's own checks on top."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from circuits.r1cs import R1CS
from prover import InvalidPoint, MalformedProof, native, prove, setup, verify, verify_batch
from prover.curve import G1_GEN, G2_GEN, g1_mul, g1_neg_affine, g1_to_affine, g2_mul, g2_neg_affine, g2_to_affine
from prover.fields import Q, R
from prover.keys import Proof, VerifyingKey
from prover.pairing import (
    backend,
    pairing_native,
    pairing_product_is_one,
    pairing_product_is_one_native,
    pairing_product_is_one_python,
    pairing_python,
)
from prover_samples import chain_circuit, twist_point_outside_subgroup

needs_native = pytest.mark.skipif(not native.AVAILABLE, reason="prover._native not built")

CHECK_PATHS = [
    pytest.param(pairing_product_is_one_native, id="native", marks=needs_native),
    pytest.param(pairing_product_is_one_python, id="py_ecc"),
]
VALUE_PATHS = [
    pytest.param(pairing_native, id="native", marks=needs_native),
    pytest.param(pairing_python, id="py_ecc"),
]
G1_ZERO = (0, 0)
G2_ZERO = ((0, 0), (0, 0))


def g1(k: int) -> tuple[int, int]:
    return g1_to_affine(g1_mul(G1_GEN, k % R))


def g2(k: int) -> tuple[tuple[int, int], tuple[int, int]]:
    return g2_to_affine(g2_mul(G2_GEN, k % R))


def tower_to_pyecc(t: list[list[list[int]]]) -> Any:
    """Inverse of prover.gt.fq12_to_tower: c_ij = a + b u sits at w^(2j+i), u = w^6 - 9, so
    d_(k+6) = b and d_k = a - 9 b."""
    from py_ecc.fields import optimized_bn128_FQ12 as FQ12

    d = [0] * 12
    for i in range(2):
        for j in range(3):
            a, b = t[i][j]
            k = 2 * j + i
            d[k + 6] = b
            d[k] = (a - 9 * b) % Q
    return FQ12(d)


@pytest.fixture(params=[pytest.param(True, id="native", marks=needs_native), pytest.param(False, id="py_ecc")])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run a verify-level test with the default path switched to native or to py_ecc."""
    monkeypatch.setattr(native, "NATIVE", request.param)
    assert backend() == ("native" if request.param else "py_ecc")
    yield backend()


# ----------------------------------------------------------------------------- values
@needs_native
@pytest.mark.parametrize("seed", [1, 2])
def test_native_value_equals_py_ecc_coefficient_by_coefficient(seed: int) -> None:
    rng = random.Random(seed)
    pairs = [(g1(rng.randrange(1, R)), g2(rng.randrange(1, R)))]
    if seed == 2:  # a product of two pairings, one of them with the generators
        pairs.append((G1_GEN, G2_GEN))
    got = pairing_native(pairs)
    want = pairing_python(pairs)
    assert got == want
    assert got != [[[1, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0]]]


@pytest.mark.parametrize("value", VALUE_PATHS)
def test_bilinearity_inside_each_path(value: Callable[..., Any]) -> None:
    a, b = 0x1234567, 0xABCDEF
    e_ab = value([(g1(a), g2(b))])
    assert e_ab == value([(g1(a * b), G2_GEN)])
    assert e_ab == value([(G1_GEN, g2(a * b))])
    # e(aP, bQ) == e(P, Q)^(ab), the power taken on this path's own e(P, Q)
    assert tower_to_pyecc(e_ab) == tower_to_pyecc(value([(G1_GEN, G2_GEN)])) ** (a * b)
    assert e_ab != value([(g1(a * b + 1), G2_GEN)])


@pytest.mark.parametrize("value", VALUE_PATHS)
def test_identity_pairs_contribute_one(value: Callable[..., Any]) -> None:
    one = [[[1, 0], [0, 0], [0, 0]], [[0, 0], [0, 0], [0, 0]]]
    assert value([(G1_ZERO, G2_GEN)]) == one
    assert value([(G1_GEN, G2_ZERO)]) == one
    assert value([]) == one


@pytest.mark.parametrize("check", CHECK_PATHS)
def test_random_products(check: Callable[..., bool]) -> None:
    rng = random.Random(7)
    for n in (1, 3):
        a = [rng.randrange(1, R) for _ in range(n)]
        b = [rng.randrange(1, R) for _ in range(n)]
        pairs = [(g1(x), g2(y)) for x, y in zip(a, b)]
        total = sum(x * y for x, y in zip(a, b)) % R
        closing = (g1(-total), G2_GEN)
        assert check([*pairs, closing]) is True
        assert check([*pairs, (g1(-total + 1), G2_GEN)]) is False
        assert check(pairs) is False  # non-degenerate: no single pairing of generators' multiples is 1
    # identities anywhere change nothing
    assert check([(G1_ZERO, G2_GEN), (G1_GEN, g2(5)), (G1_GEN, G2_ZERO), (g1(-5), G2_GEN)]) is True
    assert check([]) is True


@pytest.mark.parametrize("check", CHECK_PATHS)
def test_negation_and_swap(check: Callable[..., bool]) -> None:
    p, q = g1(11), g2(13)
    assert check([(p, q), (g1_neg_affine(p), q)]) is True
    assert check([(p, q), (p, g2_neg_affine(q))]) is True
    assert check([(p, q), (p, q)]) is False
    assert check([(g1(13), g2(11)), (g1_neg_affine(p), q)]) is True  # e(13P, 11Q) = e(11P, 13Q)


# ----------------------------------------------------------------------------- degenerate input
def _off_curve_g1() -> tuple[int, int]:
    x, y = G1_GEN
    return (x, y + 1)


def _off_twist_g2() -> tuple[tuple[int, int], tuple[int, int]]:
    (x0, x1), (y0, y1) = G2_GEN
    return ((x0, x1), (y0 + 1, y1))


DEGENERATE = [
    pytest.param([(_off_curve_g1(), G2_GEN)], InvalidPoint, id="g1_off_curve"),
    pytest.param([((Q, 2), G2_GEN)], MalformedProof, id="g1_coordinate_q"),
    pytest.param([((1, 2 + Q), G2_GEN)], MalformedProof, id="g1_y_plus_q"),
    pytest.param([(G1_GEN, _off_twist_g2())], InvalidPoint, id="g2_off_twist"),
    pytest.param([(G1_GEN, ((G2_GEN[0][0], Q), G2_GEN[1]))], MalformedProof, id="g2_coordinate_q"),
    pytest.param([(G1_GEN, ((1, 2), (3,)))], MalformedProof, id="g2_bad_shape"),
    pytest.param([(G1_GEN, G2_GEN), ((-1, 2), G2_GEN)], MalformedProof, id="g1_negative"),
]


@pytest.mark.parametrize("check", CHECK_PATHS)
@pytest.mark.parametrize(("pairs", "error"), DEGENERATE)
def test_degenerate_pairs_raise_the_same_typed_error(check: Callable[..., bool], pairs: Any, error: type) -> None:
    with pytest.raises(error) as info:
        check(pairs)
    assert type(info.value) is error


@needs_native
@pytest.mark.parametrize(
    ("g1s", "g2s", "message"),
    [
        pytest.param([(Q, 2)], [G2_GEN], "coordinate >= q", id="g1_coordinate_q"),
        pytest.param([G1_GEN], [((Q, 0), G2_GEN[1])], "coordinate >= q", id="g2_coordinate_q"),
        pytest.param([_off_curve_g1()], [G2_GEN], "not on the curve", id="g1_off_curve"),
        pytest.param([G1_GEN], [_off_twist_g2()], "not on the twist", id="g2_off_twist"),
        pytest.param([(1, 0)], [G2_GEN], "not on the curve", id="g1_half_zero"),
    ],
)
def test_c_boundary_rejects_bad_points_itself(g1s: Any, g2s: Any, message: str) -> None:
    """The extension does not rely on the Python checks: called directly, it refuses the same points."""
    g1b, g2b = native.pack_g1(g1s), native.pack_g2(g2s)
    for fn in (native.pairing_check_packed, native.pairing_packed):
        with pytest.raises(ValueError, match=message):
            fn(g1b, g2b)


@needs_native
def test_c_boundary_rejects_bad_lengths() -> None:
    g1b, g2b = native.pack_g1([G1_GEN]), native.pack_g2([G2_GEN])
    for a, b in ((g1b[:-1], g2b), (g1b, g2b[:-1]), (g1b + g1b, g2b), (b"", g2b)):
        with pytest.raises(ValueError, match="64 bytes per G1 point"):
            native.pairing_check_packed(a, b)


# ----------------------------------------------------------------------------- Groth16 on both paths
@pytest.fixture(scope="module")
def groth16() -> tuple[R1CS, VerifyingKey, list[int], Proof, list[int], Proof]:
    r1, w = chain_circuit(6, n_public=2, seed=3)
    pk, vk = setup(r1, rng=random.Random(5))
    proof = prove(pk, r1, w, rng=random.Random(6))
    r2, w2 = chain_circuit(6, n_public=2, seed=3)
    proof2 = prove(pk, r2, w2, rng=random.Random(8))  # same statement, fresh randomness
    return r1, vk, w[1:3], proof, w2[1:3], proof2


def test_valid_proof_accepts(path: str, groth16: Any) -> None:
    _, vk, pub, proof, _, _ = groth16
    assert verify(vk, pub, proof) is True


def test_tampered_proofs_reject(path: str, groth16: Any) -> None:
    _, vk, pub, proof, _, _ = groth16
    assert verify(vk, [pub[0], (pub[1] + 1) % R], proof) is False  # wrong public input
    assert verify(vk, pub, replace(proof, c=g1_neg_affine(proof.c))) is False  # -C: on the curve, wrong
    assert verify(vk, pub, replace(proof, a=proof.c, c=proof.a)) is False  # A and C swapped
    assert verify(vk, pub, replace(proof, b=vk.delta_g2)) is False  # B swapped for a key point
    assert verify(replace(vk, gamma_g2=vk.delta_g2, delta_g2=vk.gamma_g2), pub, proof) is False  # key points swapped


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        pytest.param(lambda p: replace(p, a=G1_ZERO), InvalidPoint, id="a_identity"),
        pytest.param(lambda p: replace(p, b=G2_ZERO), InvalidPoint, id="b_identity"),
        pytest.param(lambda p: replace(p, c=_off_curve_g1()), InvalidPoint, id="c_off_curve"),
        pytest.param(lambda p: replace(p, a=(Q, p.a[1])), MalformedProof, id="a_coordinate_q"),
        pytest.param(lambda p: replace(p, b=((p.b[0][0], Q), p.b[1])), MalformedProof, id="b_coordinate_q"),
        pytest.param(lambda p: replace(p, b=_off_twist_g2()), InvalidPoint, id="b_off_twist"),
        pytest.param(lambda p: replace(p, b=twist_point_outside_subgroup()), InvalidPoint, id="b_outside_subgroup"),
    ],
)
def test_degenerate_proofs_raise_the_same_typed_error(path: str, groth16: Any, tamper: Any, error: type) -> None:
    _, vk, pub, proof, _, _ = groth16
    with pytest.raises(error) as info:
        verify(vk, pub, tamper(proof))
    assert type(info.value) is error


def test_batch_verification(path: str, groth16: Any) -> None:
    _, vk, pub, proof, pub2, proof2 = groth16
    assert verify_batch(vk, [(pub, proof), (pub2, proof2)]) is True
    assert verify_batch(vk, [(pub, proof), (pub2, replace(proof2, c=g1_neg_affine(proof2.c)))]) is False


def test_default_path_follows_the_switch(groth16: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """pairing_product_is_one dispatches on prover.native.NATIVE at call time."""
    calls: list[str] = []
    import prover.pairing as pairing_mod

    monkeypatch.setattr(pairing_mod, "pairing_product_is_one_native", lambda pairs: calls.append("native") or True)
    monkeypatch.setattr(pairing_mod, "pairing_product_is_one_python", lambda pairs: calls.append("py_ecc") or True)
    monkeypatch.setattr(native, "NATIVE", True)
    pairing_product_is_one([])
    monkeypatch.setattr(native, "NATIVE", False)
    pairing_product_is_one([])
    assert calls == ["native", "py_ecc"]


def test_no_native_env_forces_py_ecc() -> None:
    code = "from prover import native; from prover.pairing import backend; print(native.NATIVE, backend())"
    env = {**os.environ, "ZKXAI_NO_NATIVE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "py_ecc"]
    env.pop("ZKXAI_NO_NATIVE")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    built = importlib.util.find_spec("prover._native") is not None  # (this process may run with ZKXAI_NO_NATIVE)
    assert out.stdout.split() == ([str(built), "native" if built else "py_ecc"])


# ----------------------------------------------------------------------------- the CLI process
HEAVY = ("web3", "eth_account", "eth_abi", "py_ecc", "torch", "numpy")
_CLI = (
    "import json, sys\n"
    "from node.cli import main\n"
    "rc = main(['verify', '--disclosure', 'tests/data/disclosure-v1.json', '--vkey', 'tests/data/commitment-10.vk.json',"
    " '--json'])\n"
    "print(json.dumps({'rc': rc, 'heavy': sorted({m.split('.')[0] for m in sys.modules} & set(%r))}))\n" % (HEAVY,)
)


@pytest.mark.parametrize("no_native", [pytest.param(False, id="native", marks=needs_native),
                                       pytest.param(True, id="py_ecc")])
def test_offline_cli_verifies_the_committed_bundle_and_stays_light(no_native: bool) -> None:
    """``zkxai verify --disclosure --vkey`` on the v1 bundle: valid on both paths; the native run imports neither
    web3 / eth-* nor py_ecc (nor torch / numpy), the py_ecc run only py_ecc."""
    from tests.node_harness import ROOT

    env = {k: v for k, v in os.environ.items() if k != "ZKXAI_NO_NATIVE"}
    if no_native:
        env["ZKXAI_NO_NATIVE"] = "1"
    out = subprocess.run([sys.executable, "-c", _CLI], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    report, result = "\n".join(lines[:-1]), json.loads(lines[-1])
    assert result["rc"] == 0 and json.loads(report)["verdict"] == "VALID", out.stdout
    proof_check = next(c for c in json.loads(report)["checks"] if c["name"] == "proof")
    assert f"({'py_ecc' if no_native else 'native'}, off-chain)" in proof_check["detail"]
    assert result["heavy"] == (["py_ecc"] if no_native else [])
