"""snarkjs ``.zkey`` (Groth16) <-> :class:`~prover.keys.ProvingKey`.

Sections (iden3 container, magic ``zkey``): 1 = protocol (u32, 1 for Groth16); 2 = header
(n8q, q, n8r, r, nVars, nPublic, domainSize, alpha1, beta1, beta2, gamma2, delta1, delta2);
3 = IC (nPublic + 1 G1); 4 = the A/B coefficients (u32 count, then
``u32 matrix | u32 row | u32 wire | coef * 2^512 mod r``); 5 = A (nVars G1); 6 = B (nVars G1);
7 = B (nVars G2); 8 = C, our ``l_query`` (nVars - nPublic - 1 G1); 9 = H (domainSize G1, the
odd 2n-th-root Lagrange layout :data:`~prover.keys.H_ODD_LAGRANGE`); 10 = contributions.
Points are Montgomery little-endian, G2 as (x0, x1, y0, y1); the identity is all zeros.

Reading checks every point (coordinates < q, on curve, vk G2 points in the subgroup) and, given
the circuit, that section 4 encodes exactly its A and B matrices plus the public-input rows, so
the key is bound to the R1CS it is used with (its ``r1cs_digest`` is then that circuit's).

With the native extension (:mod:`prover.native`) the bulk of that runs in C with the same checks:
the point sections are converted and checked on the curve there (the vk's G2 subgroup checks use
the native G2 MSM), section 4 is compared with the R1CS's packed rows, and the canonical point
bytes are kept as the key's packed MSM bases. Whatever the C side does not accept is handed to
the Python checks below, so a malformed key is refused with the same errors either way.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from typing import Any

from circuits.r1cs import R1CS

from . import native
from .binfile import BinFile, build_binfile, le_ints, read_binfile, to_montgomery_q
from .binfile import from_montgomery_q as _fm
from .binfile import zkey_coef_value
from .errors import InvalidPoint, KeyMismatch, SerializationError
from .fields import Q, R
from .keys import G1, G2, H_ODD_LAGRANGE, ProvingKey, VerifyingKey
from .r1cs_digest import r1cs_digest
from .validate import check_g1, check_g2

_G1_BYTES = 64
_G2_BYTES = 128


def _g1_list(buf: memoryview, count: int, what: str, *, start: int = 0) -> list[G1]:
    """``count`` G1 points, checked; ``start`` numbers them in messages (a slice of a section)."""
    if len(buf) != count * _G1_BYTES:
        raise SerializationError(f"zkey {what}: expected {count} G1 points")
    raw = le_ints(buf, 32, 2 * count)
    out: list[G1] = []
    for i in range(count):
        x, y = raw[2 * i], raw[2 * i + 1]
        out.append(check_g1((_fm(x), _fm(y)), f"zkey {what}[{start + i}]", allow_identity=True))
    return out


def _g2_list(buf: memoryview, count: int, what: str, *, subgroup: bool, start: int = 0) -> list[G2]:
    if len(buf) != count * _G2_BYTES:
        raise SerializationError(f"zkey {what}: expected {count} G2 points")
    raw = le_ints(buf, 32, 4 * count)
    out: list[G2] = []
    fast = subgroup and native.NATIVE
    for i in range(count):
        x0, x1, y0, y1 = (_fm(v) for v in raw[4 * i : 4 * i + 4])
        where = f"zkey {what}[{start + i}]"
        pt = check_g2(((x0, x1), (y0, y1)), where, allow_identity=True, subgroup=subgroup and not fast)
        if fast and not native.g2_in_subgroup(pt):
            raise InvalidPoint(f"{where}: not in the order-r subgroup of G2")
        out.append(pt)
    return out


def _points(buf: memoryview, count: int, what: str, *, g2: bool) -> tuple[tuple[Any, ...], bytes | None]:
    """A point section (no subgroup checks) as a tuple of points, plus the canonical packed bytes
    when the native loader read it (None on the Python path)."""
    if not native.NATIVE:
        pts = _g2_list(buf, count, what, subgroup=False) if g2 else _g1_list(buf, count, what)
        return tuple(pts), None
    size = _G2_BYTES if g2 else _G1_BYTES
    if len(buf) != count * size:
        raise SerializationError(f"zkey {what}: expected {count} {'G2' if g2 else 'G1'} points")
    canon, bad = native.zkey_points(buf, g2=g2)
    if bad >= 0:  # the Python check of that point raises the usual error
        one = buf[bad * size : (bad + 1) * size]
        if g2:
            _g2_list(one, 1, what, subgroup=False, start=bad)
        else:
            _g1_list(one, 1, what, start=bad)
        raise SerializationError(f"zkey {what}[{bad}]: rejected by the native point check")
    return native.unpack_points(canon, g2=g2), canon


def expected_coefficients(r1cs: R1CS) -> list[tuple[int, int, int, int]]:
    """Section 4 as snarkjs writes it: per constraint A then B terms, then the rows
    ``A[m + s][s] = 1`` for s = 0..nPublic. Entries are (matrix, row, wire, value)."""
    out: list[tuple[int, int, int, int]] = []
    for i, con in enumerate(r1cs.constraints):
        out.extend((0, i, w, c) for w, c in con.a.items())
        out.extend((1, i, w, c) for w, c in con.b.items())
    m = r1cs.n_constraints
    out.extend((0, m + s, s, 1) for s in range(r1cs.n_public + 1))
    return out


def read_coefficients(f: BinFile) -> list[tuple[int, int, int, int]]:
    sec = bytes(f.section(4))
    if len(sec) < 4:
        raise SerializationError("zkey coefficient section has the wrong size")
    (count,) = struct.unpack_from("<I", sec, 0)
    if len(sec) != 4 + count * 44:
        raise SerializationError("zkey coefficient section has the wrong size")
    out = []
    for k in range(count):
        off = 4 + 44 * k
        mat, row, wire = struct.unpack_from("<III", sec, off)
        value = zkey_coef_value(int.from_bytes(sec[off + 12 : off + 44], "little"))
        out.append((mat, row, wire, value))
    return out


def check_coefficient_section(f: BinFile, r1cs: R1CS) -> None:
    """Section 4 of ``f`` must encode the A and B rows of ``r1cs`` (KeyMismatch otherwise)."""
    if native.NATIVE:
        sec = f.section(4)
        if len(sec) >= 4 and native.zkey_coefs_match(sec, r1cs):
            return
    _check_coefficients(read_coefficients(f), r1cs)


def _check_coefficients(coefs: Sequence[tuple[int, int, int, int]], r1cs: R1CS) -> None:
    """Compare as sorted multisets after merging duplicates (circom never emits duplicates,
    but the comparison should not depend on term order inside a linear combination)."""

    def canon(entries: Sequence[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
        merged: dict[tuple[int, int, int], int] = {}
        for mat, row, wire, v in entries:
            key = (mat, row, wire)
            merged[key] = (merged.get(key, 0) + v) % R
        return sorted((k[0], k[1], k[2], v) for k, v in merged.items() if v)

    if canon(coefs) != canon(expected_coefficients(r1cs)):
        raise KeyMismatch("zkey A/B coefficients do not match the given R1CS")


def read_zkey(path: str | os.PathLike[str], r1cs: R1CS) -> ProvingKey:
    """Load a snarkjs Groth16 ``.zkey`` as a :class:`ProvingKey` for ``r1cs`` (validated)."""
    f = read_binfile(path, "zkey", 1)
    proto = f.section(1)
    if len(proto) != 4 or struct.unpack_from("<I", proto, 0)[0] != 1:
        raise SerializationError("zkey is not a Groth16 key")
    h = bytes(f.section(2))
    try:
        n8q = struct.unpack_from("<I", h, 0)[0]
        q = int.from_bytes(h[4 : 4 + n8q], "little")
        pos = 4 + n8q
        n8r = struct.unpack_from("<I", h, pos)[0]
        r = int.from_bytes(h[pos + 4 : pos + 4 + n8r], "little")
        pos += 4 + n8r
        if (n8q, q, n8r, r) != (32, Q, 32, R):
            raise SerializationError("zkey is not over BN254")
        n_vars, n_public, domain = struct.unpack_from("<III", h, pos)
    except struct.error as exc:
        raise SerializationError("zkey header is truncated") from exc
    pos += 12
    if len(h) != pos + 3 * _G1_BYTES + 3 * _G2_BYTES:
        raise SerializationError("zkey header has the wrong size")
    mv = memoryview(h)
    alpha1 = _g1_list(mv[pos : pos + 64], 1, "alpha1")[0]
    beta1 = _g1_list(mv[pos + 64 : pos + 128], 1, "beta1")[0]
    beta2, gamma2 = _g2_list(mv[pos + 128 : pos + 384], 2, "beta2/gamma2", subgroup=True)
    delta1 = _g1_list(mv[pos + 384 : pos + 448], 1, "delta1")[0]
    delta2 = _g2_list(mv[pos + 448 : pos + 576], 1, "delta2", subgroup=True)[0]
    for name, p in (("alpha1", alpha1), ("beta1", beta1), ("delta1", delta1)):
        check_g1(p, f"zkey {name}")
    if (n_vars, n_public) != (r1cs.n_wires, r1cs.n_public):
        raise KeyMismatch(
            f"zkey is for {n_vars} wires / {n_public} public, circuit has {r1cs.n_wires} / {r1cs.n_public}"
        )
    if domain < r1cs.n_constraints + n_public + 1 or domain & (domain - 1):
        raise SerializationError("zkey domain size does not fit the circuit")
    check_coefficient_section(f, r1cs)
    ic, _ = _points(f.section(3), n_public + 1, "IC", g2=False)
    vk = VerifyingKey(alpha_g1=alpha1, beta_g2=beta2, gamma_g2=gamma2, delta_g2=delta2, ic=ic)
    a_query, a_raw = _points(f.section(5), n_vars, "A", g2=False)
    b1_query, b1_raw = _points(f.section(6), n_vars, "B1", g2=False)
    b2_query, b2_raw = _points(f.section(7), n_vars, "B2", g2=True)
    h_query, h_raw = _points(f.section(9), domain, "H", g2=False)
    l_query, l_raw = _points(f.section(8), n_vars - n_public - 1, "C", g2=False)
    pk = ProvingKey(
        vk=vk,
        beta_g1=beta1,
        delta_g1=delta1,
        a_query=a_query,
        b_g1_query=b1_query,
        b_g2_query=b2_query,
        h_query=h_query,
        l_query=l_query,
        n_public=n_public,
        n_wires=n_vars,
        n_constraints=r1cs.n_constraints,
        domain_size=domain,
        r1cs_digest=r1cs_digest(r1cs),
        h_form=H_ODD_LAGRANGE,
    )
    if a_raw is not None and b1_raw is not None and b2_raw is not None and h_raw is not None and l_raw is not None:
        # the MSM bases in the order prover.prove uses them, from the bytes already converted
        g1, g2 = native.pack_g1, native.pack_g2
        native.remember_packed_key(
            pk,
            native.PackedKey(
                a=g1([alpha1]) + a_raw + g1([delta1]),
                b1=g1([beta1]) + b1_raw + g1([delta1]),
                b2=g2([beta2]) + b2_raw + g2([delta2]),
                lh=l_raw + h_raw,
            ),
        )
    return pk


# ----------------------------------------------------------------------------- writing
def _g1_bytes(p: G1) -> bytes:
    if p == (0, 0):
        return bytes(64)
    return b"".join(to_montgomery_q(c).to_bytes(32, "little") for c in p)


def _g2_bytes(p: G2) -> bytes:
    if p == ((0, 0), (0, 0)):
        return bytes(128)
    (x0, x1), (y0, y1) = p
    return b"".join(to_montgomery_q(c).to_bytes(32, "little") for c in (x0, x1, y0, y1))


def zkey_bytes(pk: ProvingKey, r1cs: R1CS) -> bytes:
    """Serialise an odd-Lagrange key as a snarkjs-readable ``.zkey`` (no contribution history:
    section 10 holds a zero circuit hash and no contributions, so ``snarkjs zkey verify`` will
    not accept it, but ``groth16 prove`` / ``zkey export verificationkey`` do)."""
    if pk.h_form != H_ODD_LAGRANGE:
        raise KeyMismatch("only odd-Lagrange (snarkjs layout) keys can be written as .zkey")
    vk = pk.vk
    header = b"".join(
        [
            struct.pack("<I", 32),
            Q.to_bytes(32, "little"),
            struct.pack("<I", 32),
            R.to_bytes(32, "little"),
            struct.pack("<III", pk.n_wires, pk.n_public, pk.domain_size),
            _g1_bytes(vk.alpha_g1),
            _g1_bytes(pk.beta_g1),
            _g2_bytes(vk.beta_g2),
            _g2_bytes(vk.gamma_g2),
            _g1_bytes(pk.delta_g1),
            _g2_bytes(vk.delta_g2),
        ]
    )
    coefs = expected_coefficients(r1cs)
    r2 = pow(2, 512, R)
    coef_sec = struct.pack("<I", len(coefs)) + b"".join(
        struct.pack("<III", mat, row, wire) + (v * r2 % R).to_bytes(32, "little")
        for mat, row, wire, v in coefs
    )
    sections = [
        (1, struct.pack("<I", 1)),
        (2, header),
        (3, b"".join(_g1_bytes(p) for p in vk.ic)),
        (4, coef_sec),
        (5, b"".join(_g1_bytes(p) for p in pk.a_query)),
        (6, b"".join(_g1_bytes(p) for p in pk.b_g1_query)),
        (7, b"".join(_g2_bytes(p) for p in pk.b_g2_query)),
        (8, b"".join(_g1_bytes(p) for p in pk.l_query)),
        (9, b"".join(_g1_bytes(p) for p in pk.h_query)),
        (10, bytes(64) + struct.pack("<I", 0)),
    ]
    return build_binfile("zkey", 1, sections)
