"""snarkjs-compatible JSON for proofs, verifying keys and public signals, plus our own
versioned proving-key file. Every ``*_from_*`` / ``load_*`` validates what it reads:
shape and decimal/hex syntax (:class:`SerializationError`), coordinates < q and points on their
curve / in the G2 subgroup (:class:`InvalidPoint`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import SerializationError
from .fields import Q, R
from .gt import alphabeta_tower
from .keys import G1, G2, H_COSET, H_ODD_LAGRANGE, Proof, ProvingKey, VerifyingKey
from .validate import check_g1, check_g2, check_proof, check_public_inputs

PK_FORMAT = "zkxai-groth16-proving-key"
PK_VERSION = 1
_DEC = re.compile(r"^[0-9]{1,80}$")
_HEX = re.compile(r"^0x[0-9a-f]{1,64}$")


# ----------------------------------------------------------------------------- primitives
def _dec(v: Any, what: str) -> int:
    if isinstance(v, str) and _DEC.match(v):
        return int(v)
    if isinstance(v, int) and not isinstance(v, bool) and v >= 0:
        return v
    raise SerializationError(f"{what}: expected a decimal string, got {v!r:.80}")


def _seq(v: Any, n: int, what: str) -> list[Any]:
    if not isinstance(v, list) or len(v) != n:
        raise SerializationError(f"{what}: expected a list of {n}")
    return v


def _g1_out(p: G1) -> list[str]:
    if p == (0, 0):
        return ["0", "1", "0"]
    return [str(p[0]), str(p[1]), "1"]


def _g2_out(p: G2) -> list[list[str]]:
    if p == ((0, 0), (0, 0)):
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = p
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def _g1_in(v: Any, what: str, *, allow_identity: bool = False) -> G1:
    x, y, z = (_dec(c, what) for c in _seq(v, 3, what))
    if z == 0:
        return check_g1((0, 0), what, allow_identity=allow_identity)
    if z != 1:
        raise SerializationError(f"{what}: only normalised points (z = 1) are accepted")
    return check_g1((x, y), what)


def _g2_in(v: Any, what: str, *, allow_identity: bool = False) -> G2:
    xs, ys, zs = (_seq(c, 2, what) for c in _seq(v, 3, what))
    x = (_dec(xs[0], what), _dec(xs[1], what))
    y = (_dec(ys[0], what), _dec(ys[1], what))
    z = (_dec(zs[0], what), _dec(zs[1], what))
    if z == (0, 0):
        return check_g2(((0, 0), (0, 0)), what, allow_identity=allow_identity)
    if z != (1, 0):
        raise SerializationError(f"{what}: only normalised points (z = 1) are accepted")
    return check_g2((x, y), what)


def _field(d: Any, key: str) -> Any:
    if not isinstance(d, dict):
        raise SerializationError(f"expected a JSON object, got {type(d).__name__}")
    if key not in d:
        raise SerializationError(f"missing field {key!r}")
    return d[key]


def _check_header(d: Any) -> None:
    if _field(d, "protocol") != "groth16":
        raise SerializationError(f"unsupported protocol {d['protocol']!r}")
    if _field(d, "curve") not in ("bn128", "bn254"):
        raise SerializationError(f"unsupported curve {d['curve']!r}")


# ----------------------------------------------------------------------------- snarkjs formats
def proof_to_snarkjs(proof: Proof) -> dict[str, Any]:
    return {
        "pi_a": _g1_out(proof.a),
        "pi_b": _g2_out(proof.b),
        "pi_c": _g1_out(proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    }


def proof_from_snarkjs(d: Any) -> Proof:
    """Parse and fully validate a snarkjs proof.json object (non-identity, on curve, B in G2)."""
    _check_header(d)
    proof = Proof(
        a=_g1_in(_field(d, "pi_a"), "pi_a"),
        b=_g2_in(_field(d, "pi_b"), "pi_b"),
        c=_g1_in(_field(d, "pi_c"), "pi_c"),
    )
    return check_proof(proof)


def vk_to_snarkjs(vk: VerifyingKey) -> dict[str, Any]:
    """snarkjs verification_key.json (includes e(alpha, beta) as ``vk_alphabeta_12``)."""
    ab = alphabeta_tower(vk.alpha_g1, vk.beta_g2)
    return {
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.n_public,
        "vk_alpha_1": _g1_out(vk.alpha_g1),
        "vk_beta_2": _g2_out(vk.beta_g2),
        "vk_gamma_2": _g2_out(vk.gamma_g2),
        "vk_delta_2": _g2_out(vk.delta_g2),
        "vk_alphabeta_12": [[[str(c) for c in fq2] for fq2 in row] for row in ab],
        "IC": [_g1_out(p) for p in vk.ic],
    }


def vk_from_snarkjs(d: Any) -> VerifyingKey:
    """Parse and validate a snarkjs verification key (G2 points subgroup-checked; vk_alphabeta_12
    is ignored: it is derived data and the verifier recomputes what it needs)."""
    _check_header(d)
    ic_raw = _field(d, "IC")
    if not isinstance(ic_raw, list) or not ic_raw:
        raise SerializationError("IC must be a non-empty list")
    n_public = _field(d, "nPublic")
    if isinstance(n_public, bool) or not isinstance(n_public, int) or n_public != len(ic_raw) - 1:
        raise SerializationError(f"nPublic {n_public!r} does not match {len(ic_raw)} IC points")
    return VerifyingKey(
        alpha_g1=_g1_in(_field(d, "vk_alpha_1"), "vk_alpha_1"),
        beta_g2=_g2_in(_field(d, "vk_beta_2"), "vk_beta_2"),
        gamma_g2=_g2_in(_field(d, "vk_gamma_2"), "vk_gamma_2"),
        delta_g2=_g2_in(_field(d, "vk_delta_2"), "vk_delta_2"),
        ic=tuple(_g1_in(p, f"IC[{i}]", allow_identity=True) for i, p in enumerate(ic_raw)),
    )


def public_to_snarkjs(values: Sequence[int]) -> list[str]:
    """public.json: decimal strings; values must already be canonical field elements."""
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise SerializationError(f"public value {i} is not a non-negative int")
    if any(v >= R for v in values):
        raise SerializationError("public values must be < r")
    return [str(v) for v in values]


def public_from_snarkjs(d: Any, vk: VerifyingKey | None = None) -> list[int]:
    if not isinstance(d, list):
        raise SerializationError("public.json must be a list")
    values = [_dec(v, f"public[{i}]") for i, v in enumerate(d)]
    if vk is not None:
        check_public_inputs(vk, values)
    return values


# ----------------------------------------------------------------------------- proving key file
def _h(v: int) -> str:
    return hex(v)


def _uh(v: Any, what: str) -> int:
    if not isinstance(v, str) or not _HEX.match(v):
        raise SerializationError(f"{what}: expected a lowercase 0x-hex string")
    x = int(v, 16)
    if x >= Q:
        raise SerializationError(f"{what}: coordinate >= q")
    return x


def _pk_g1(p: G1) -> list[str]:
    return [_h(p[0]), _h(p[1])]


def _pk_g2(p: G2) -> list[str]:
    return [_h(p[0][0]), _h(p[0][1]), _h(p[1][0]), _h(p[1][1])]


def _pk_g1_in(v: Any, what: str) -> G1:
    x, y = (_uh(c, what) for c in _seq(v, 2, what))
    return check_g1((x, y), what, allow_identity=True)


def _pk_g2_in(v: Any, what: str, *, subgroup: bool) -> G2:
    x0, x1, y0, y1 = (_uh(c, what) for c in _seq(v, 4, what))
    return check_g2(((x0, x1), (y0, y1)), what, allow_identity=True, subgroup=subgroup)


def proving_key_to_json(pk: ProvingKey) -> dict[str, Any]:
    vk = pk.vk
    return {
        "format": PK_FORMAT,
        "version": PK_VERSION,
        "curve": "bn128",
        "n_public": pk.n_public,
        "n_wires": pk.n_wires,
        "n_constraints": pk.n_constraints,
        "domain_size": pk.domain_size,
        "r1cs_digest": pk.r1cs_digest,
        "h_form": pk.h_form,
        "vk": {
            "alpha_g1": _pk_g1(vk.alpha_g1),
            "beta_g2": _pk_g2(vk.beta_g2),
            "gamma_g2": _pk_g2(vk.gamma_g2),
            "delta_g2": _pk_g2(vk.delta_g2),
            "ic": [_pk_g1(p) for p in vk.ic],
        },
        "beta_g1": _pk_g1(pk.beta_g1),
        "delta_g1": _pk_g1(pk.delta_g1),
        "a_query": [_pk_g1(p) for p in pk.a_query],
        "b_g1_query": [_pk_g1(p) for p in pk.b_g1_query],
        "b_g2_query": [_pk_g2(p) for p in pk.b_g2_query],
        "h_query": [_pk_g1(p) for p in pk.h_query],
        "l_query": [_pk_g1(p) for p in pk.l_query],
    }


def _int_field(d: Any, key: str) -> int:
    v = _field(d, key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise SerializationError(f"{key} must be a non-negative int")
    return v


def _list_of(d: Any, key: str, n: int) -> list[Any]:
    v = _field(d, key)
    if not isinstance(v, list) or len(v) != n:
        raise SerializationError(f"{key} must hold {n} points")
    return v


def proving_key_from_json(d: Any) -> ProvingKey:
    """Validate format/version, sizes against the header, and every point (G1 on curve; vk G2
    points in the subgroup; b_g2_query points on the twist -- a bad one only spoils proofs)."""
    if _field(d, "format") != PK_FORMAT:
        raise SerializationError(f"not a {PK_FORMAT} file")
    if _field(d, "version") != PK_VERSION:
        raise SerializationError(f"unsupported proving key version {d['version']!r}")
    if _field(d, "curve") != "bn128":
        raise SerializationError("unsupported curve")
    n_public = _int_field(d, "n_public")
    n_wires = _int_field(d, "n_wires")
    n_constraints = _int_field(d, "n_constraints")
    domain_size = _int_field(d, "domain_size")
    digest = _field(d, "r1cs_digest")
    if not isinstance(digest, str) or not re.match(r"^[0-9a-f]{64}$", digest):
        raise SerializationError("r1cs_digest must be 64 hex chars")
    if n_wires < n_public + 1 or domain_size < 2 or domain_size & (domain_size - 1):
        raise SerializationError("inconsistent sizes in proving key header")
    if domain_size < n_constraints + n_public + 1:
        raise SerializationError("domain too small for the constraint count")
    h_form = d.get("h_form", H_COSET)  # absent in files written before snarkjs-layout keys existed
    if h_form not in (H_COSET, H_ODD_LAGRANGE):
        raise SerializationError(f"unknown h_form {h_form!r}")
    h_len = domain_size if h_form == H_ODD_LAGRANGE else domain_size - 1
    v = _field(d, "vk")
    vk = VerifyingKey(
        alpha_g1=check_g1(_pk_g1_in(_field(v, "alpha_g1"), "vk.alpha_g1"), "vk.alpha_g1"),
        beta_g2=_pk_g2_in(_field(v, "beta_g2"), "vk.beta_g2", subgroup=True),
        gamma_g2=_pk_g2_in(_field(v, "gamma_g2"), "vk.gamma_g2", subgroup=True),
        delta_g2=_pk_g2_in(_field(v, "delta_g2"), "vk.delta_g2", subgroup=True),
        ic=tuple(_pk_g1_in(p, "vk.ic") for p in _list_of(v, "ic", n_public + 1)),
    )
    return ProvingKey(
        vk=vk,
        beta_g1=_pk_g1_in(_field(d, "beta_g1"), "beta_g1"),
        delta_g1=check_g1(_pk_g1_in(_field(d, "delta_g1"), "delta_g1"), "delta_g1"),
        a_query=tuple(_pk_g1_in(p, "a_query") for p in _list_of(d, "a_query", n_wires)),
        b_g1_query=tuple(_pk_g1_in(p, "b_g1_query") for p in _list_of(d, "b_g1_query", n_wires)),
        b_g2_query=tuple(
            _pk_g2_in(p, "b_g2_query", subgroup=False) for p in _list_of(d, "b_g2_query", n_wires)
        ),
        h_query=tuple(_pk_g1_in(p, "h_query") for p in _list_of(d, "h_query", h_len)),
        l_query=tuple(
            _pk_g1_in(p, "l_query") for p in _list_of(d, "l_query", n_wires - n_public - 1)
        ),
        n_public=n_public,
        n_wires=n_wires,
        n_constraints=n_constraints,
        domain_size=domain_size,
        r1cs_digest=digest,
        h_form=h_form,
    )


# ----------------------------------------------------------------------------- files
def save_json(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write JSON atomically (temp file in the same directory, then rename)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=1)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_json(path: str | os.PathLike[str]) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise SerializationError(f"cannot read JSON from {path}: {exc}") from exc


def save_proving_key(pk: ProvingKey, path: str | os.PathLike[str]) -> None:
    save_json(proving_key_to_json(pk), path)


def load_proving_key(path: str | os.PathLike[str]) -> ProvingKey:
    return proving_key_from_json(load_json(path))
