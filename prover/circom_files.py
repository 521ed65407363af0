"""Readers/writers for circom's ``.r1cs`` and ``.wtns`` (iden3 binary formats, version 1/2).

``.r1cs`` header (section 1): n8, prime, nWires, nPubOut, nPubIn, nPrvIn, nLabels (u64),
nConstraints; section 2 holds each constraint as three linear combinations
``u32 count, (u32 wire, n8-byte LE coefficient)*``. circom orders wires as ours do: 0 = one,
then public outputs, public inputs, private. ``.wtns``: section 1 = n8, prime, nWitness;
section 2 = the values (plain little-endian, not Montgomery).

:func:`r1cs_bytes` / :func:`write_r1cs` go the other way, so one of our circuits can be handed to a
snarkjs ceremony (``snarkjs groth16 setup``): version 1, sections 1 (header), 2 (constraints, terms
sorted by wire, coefficients plain little-endian) and 3 (wire -> label map, the identity). The format
has no room for names (circom keeps those in ``.sym``), and our R1CS does not tell private inputs
from intermediate wires, so nPrvIn is 0 (snarkjs uses it for display only) and reading the file back
gives the same wires and constraints with generic public names.

With the native extension, section 2 of a ``.r1cs`` is parsed in C (``prover._native.parse_r1cs``),
which also leaves the circuit's CSR rows in :func:`prover.native.packed_r1cs`'s cache; a file it
does not accept as it is (malformed, or a wire repeated within a linear combination) goes to the
Python parser, which merges repeats and raises the usual errors.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path

from circuits.r1cs import R1CS, Constraint

from . import native
from .binfile import BinFile, build_binfile, le_ints, parse_binfile, read_binfile
from .errors import SerializationError
from .fields import R


def _check_prime(n8: int, prime: int, what: str) -> None:
    if n8 != 32 or prime != R:
        raise SerializationError(f"{what} is not over the BN254 scalar field")


def read_r1cs(path: str | os.PathLike[str]) -> R1CS:
    """Parse a circom ``.r1cs`` into :class:`circuits.r1cs.R1CS` (custom gates are rejected)."""
    return _r1cs_from(read_binfile(path, "r1cs", 1))


def parse_r1cs(data: bytes) -> R1CS:
    """:func:`read_r1cs` for an in-memory file."""
    return _r1cs_from(parse_binfile(data, "r1cs", 1))


def _r1cs_from(f: BinFile) -> R1CS:
    if 4 in f.sections or 5 in f.sections:
        raise SerializationError(".r1cs with custom gates (PLONK only) cannot be used with Groth16")
    h = f.section(1)
    if len(h) < 4:
        raise SerializationError("truncated .r1cs header")
    n8 = struct.unpack_from("<I", h, 0)[0]
    prime = int.from_bytes(h[4 : 4 + n8], "little")
    _check_prime(n8, prime, ".r1cs")
    n_wires, n_out, n_pub_in, _n_prv, _n_labels, n_cons = struct.unpack_from("<IIIIQI", h, 4 + n8)
    n_public = n_out + n_pub_in
    if n_wires < n_public + 1:
        raise SerializationError(".r1cs declares more public signals than wires")
    names = tuple(f"public_{i}" for i in range(n_public))
    if native.NATIVE:
        parsed = native.module().parse_r1cs(f.section(2), n_cons, n_wires, n_public, Constraint)
        if parsed is not None:  # None: malformed (or repeated wires): the Python parser says why
            cons_t, (a, b, c) = parsed
            r1cs = R1CS(n_wires=n_wires, n_public=n_public, constraints=cons_t, public_names=names, wire_names={})
            native.remember_packed_r1cs(r1cs, native.PackedR1CS(a=a, b=b, c=c))
            return r1cs
    return _parse_constraints(bytes(f.section(2)), n8, n_cons, n_wires, n_public, names)


def _parse_constraints(
    data: bytes, n8: int, n_cons: int, n_wires: int, n_public: int, names: tuple[str, ...]
) -> R1CS:
    pos = 0
    cons: list[Constraint] = []
    try:
        for _ in range(n_cons):
            lcs = []
            for _ in range(3):
                (count,) = struct.unpack_from("<I", data, pos)
                pos += 4
                lc: dict[int, int] = {}
                for _ in range(count):
                    (wire,) = struct.unpack_from("<I", data, pos)
                    coef = int.from_bytes(data[pos + 4 : pos + 4 + n8], "little")
                    pos += 4 + n8
                    if wire >= n_wires or coef >= R:
                        raise SerializationError(".r1cs term has a wire or coefficient out of range")
                    if coef:
                        lc[wire] = (lc.get(wire, 0) + coef) % R
                lcs.append({w: c for w, c in lc.items() if c})
            cons.append(Constraint(lcs[0], lcs[1], lcs[2]))
    except struct.error as exc:
        raise SerializationError("truncated .r1cs constraint section") from exc
    if pos != len(data):
        raise SerializationError(".r1cs constraint section has trailing bytes")
    return R1CS(n_wires=n_wires, n_public=n_public, constraints=tuple(cons), public_names=names, wire_names={})


def _lc_bytes(lc: Mapping[int, int], n_wires: int) -> bytes:
    terms = sorted((w, c % R) for w, c in lc.items() if c % R)
    out = [struct.pack("<I", len(terms))]
    for wire, coef in terms:
        if not 0 <= wire < n_wires:
            raise SerializationError(f"constraint term on wire {wire}, the circuit has {n_wires} wires")
        out.append(struct.pack("<I", wire) + coef.to_bytes(32, "little"))
    return b"".join(out)


def r1cs_bytes(r1cs: R1CS) -> bytes:
    """Serialise ``r1cs`` as an iden3 ``.r1cs`` (version 1) that circom/snarkjs tools read."""
    n_private = r1cs.n_wires - 1 - r1cs.n_public
    if r1cs.n_public < 0 or n_private < 0 or r1cs.n_wires >= 1 << 32:
        raise SerializationError("R1CS wire counts do not fit the .r1cs header")
    header = (
        struct.pack("<I", 32)
        + R.to_bytes(32, "little")
        # nWires, nPubOut, nPubIn, nPrvIn, nLabels (u64), nConstraints
        + struct.pack("<IIIIQI", r1cs.n_wires, 0, r1cs.n_public, 0, r1cs.n_wires, r1cs.n_constraints)
    )
    body = b"".join(
        _lc_bytes(lc, r1cs.n_wires) for con in r1cs.constraints for lc in (con.a, con.b, con.c)
    )
    labels = b"".join(struct.pack("<Q", i) for i in range(r1cs.n_wires))
    return build_binfile("r1cs", 1, [(1, header), (2, body), (3, labels)])


def write_r1cs(r1cs: R1CS, path: str | os.PathLike[str]) -> Path:
    """Write :func:`r1cs_bytes` to ``path`` (via a temporary file, renamed into place)."""
    out = Path(path)
    data = r1cs_bytes(r1cs)
    tmp = out.with_name(out.name + ".tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, out)
    except OSError as exc:
        raise SerializationError(f"cannot write {out}: {exc}") from exc
    return out


def read_wtns(path: str | os.PathLike[str]) -> list[int]:
    """Parse a ``.wtns`` file into the full witness (wire 0 must be 1, values < r)."""
    f = read_binfile(path, "wtns", 2)
    h = f.section(1)
    n8 = struct.unpack_from("<I", h, 0)[0]
    prime = int.from_bytes(h[4 : 4 + n8], "little")
    _check_prime(n8, prime, ".wtns")
    (n,) = struct.unpack_from("<I", h, 4 + n8)
    values = le_ints(f.section(2), n8, n)
    if len(f.section(2)) != n8 * n:
        raise SerializationError(".wtns value section size does not match nWitness")
    if any(v >= R for v in values):
        raise SerializationError(".wtns value >= r")
    if not values or values[0] != 1:
        raise SerializationError(".wtns wire 0 must be 1")
    return values


def wtns_bytes(witness: Sequence[int]) -> bytes:
    """Serialise a witness as a version-2 ``.wtns`` file."""
    header = struct.pack("<I", 32) + R.to_bytes(32, "little") + struct.pack("<I", len(witness))
    body = b"".join((v % R).to_bytes(32, "little") for v in witness)
    return build_binfile("wtns", 2, [(1, header), (2, body)])
