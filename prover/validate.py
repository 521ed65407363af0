"""Boundary checks for points and public inputs; everything outside data passes through here
before any curve arithmetic or pairing is done."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .curve import g1_is_zero_affine, g2_is_zero_affine, is_in_g2_subgroup, is_on_curve_g1, is_on_curve_g2
from .errors import InvalidPoint, MalformedProof, PublicInputError
from .fields import Q, R
from .keys import G1, G2, Proof, VerifyingKey


def _coord(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise MalformedProof(f"{what}: coordinate must be an int, got {type(v).__name__}")
    if not 0 <= v < Q:
        raise MalformedProof(f"{what}: coordinate outside the base field [0, q)")
    return v


def check_g1(p: Any, what: str, *, allow_identity: bool = False) -> G1:
    """Shape, coordinate range, on-curve (= in subgroup, cofactor 1), identity policy."""
    if not isinstance(p, (tuple, list)) or len(p) != 2:
        raise MalformedProof(f"{what}: a G1 point is a pair (x, y)")
    pt = (_coord(p[0], what), _coord(p[1], what))
    if g1_is_zero_affine(pt):
        if allow_identity:
            return pt
        raise InvalidPoint(f"{what}: the point at infinity is not allowed here")
    if not is_on_curve_g1(pt):
        raise InvalidPoint(f"{what}: not on the BN254 G1 curve")
    return pt


def check_g2(p: Any, what: str, *, allow_identity: bool = False, subgroup: bool = True) -> G2:
    """Shape, coordinate range, on-twist, order-r subgroup (unless ``subgroup=False``)."""
    if (
        not isinstance(p, (tuple, list))
        or len(p) != 2
        or not all(isinstance(c, (tuple, list)) and len(c) == 2 for c in p)
    ):
        raise MalformedProof(f"{what}: a G2 point is ((x0, x1), (y0, y1))")
    pt = (
        (_coord(p[0][0], what), _coord(p[0][1], what)),
        (_coord(p[1][0], what), _coord(p[1][1], what)),
    )
    if g2_is_zero_affine(pt):
        if allow_identity:
            return pt
        raise InvalidPoint(f"{what}: the point at infinity is not allowed here")
    if not is_on_curve_g2(pt):
        raise InvalidPoint(f"{what}: not on the BN254 G2 twist")
    if subgroup and not _in_g2_subgroup(pt):
        raise InvalidPoint(f"{what}: not in the order-r subgroup of G2")
    return pt


def _in_g2_subgroup(pt: G2) -> bool:
    """r * pt == O for a point already on the twist: with the native G2 MSM when the extension is on (a short
    ``zkxai verify`` process checks every key point and the proof's B), else :func:`prover.curve.is_in_g2_subgroup`
    (the two are compared in tests/test_prover_native.py)."""
    from . import native

    if native.NATIVE:
        return native.g2_in_subgroup(pt)
    return is_in_g2_subgroup(pt)


def check_proof(proof: Any) -> Proof:
    if not isinstance(proof, Proof):
        raise MalformedProof(f"expected a Proof, got {type(proof).__name__}")
    return Proof(
        a=check_g1(proof.a, "proof.a"),
        b=check_g2(proof.b, "proof.b"),
        c=check_g1(proof.c, "proof.c"),
    )


def check_vk(vk: Any, *, subgroup: bool = True) -> VerifyingKey:
    if not isinstance(vk, VerifyingKey):
        raise MalformedProof(f"expected a VerifyingKey, got {type(vk).__name__}")
    if len(vk.ic) < 1:
        raise MalformedProof("verifying key has no IC points")
    return VerifyingKey(
        alpha_g1=check_g1(vk.alpha_g1, "vk.alpha"),
        beta_g2=check_g2(vk.beta_g2, "vk.beta", subgroup=subgroup),
        gamma_g2=check_g2(vk.gamma_g2, "vk.gamma", subgroup=subgroup),
        delta_g2=check_g2(vk.delta_g2, "vk.delta", subgroup=subgroup),
        ic=tuple(check_g1(p, f"vk.ic[{i}]", allow_identity=True) for i, p in enumerate(vk.ic)),
    )


def check_public_inputs(vk: VerifyingKey, public_inputs: Sequence[Any]) -> list[int]:
    """Count must equal ``len(vk.ic) - 1``; each value canonical in [0, r) (x + r is rejected)."""
    values = list(public_inputs)
    if len(values) != vk.n_public:
        raise PublicInputError(f"expected {vk.n_public} public inputs, got {len(values)}")
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int):
            raise PublicInputError(f"public input {i} must be an int, got {type(v).__name__}")
        if not 0 <= v < R:
            raise PublicInputError(f"public input {i} is outside the scalar field [0, r)")
    return values
