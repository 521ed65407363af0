"""Parsers of the iden3 binary formats (.r1cs / .wtns / .zkey containers) on hand-built files:
round trips and every rejection path. (Real circom/snarkjs files: tests/test_prover_circom.py.)"""

from __future__ import annotations

import struct
from dataclasses import replace
from pathlib import Path

import pytest

from prover import MalformedProof, SerializationError, prove, setup, verify
from prover.binfile import build_binfile, from_montgomery_q, parse_binfile, to_montgomery_q, zkey_coef_value
from prover.circom_files import read_r1cs, read_wtns, wtns_bytes
from prover.errors import KeyMismatch
from prover.keys import H_ODD_LAGRANGE
from prover.fields import Q, R
from prover.zkey import read_zkey, zkey_bytes

# x * y = z (z public) in circom layout: wires 0 one, 1 z, 2 x, 3 y
TERMS = [([(2, 1)], [(3, 1)], [(1, 1)]), ([(2, 1), (0, 5)], [(0, 1)], [(2, 1), (0, 5)])]


def r1cs_file(terms: list = TERMS, prime: int = R, n_wires: int = 4, extra: bytes = b"") -> bytes:  # type: ignore[type-arg]
    header = struct.pack("<I", 32) + prime.to_bytes(32, "little") + struct.pack("<IIIIQI", n_wires, 1, 0, 2, 4, len(terms))
    body = b""
    for con in terms:
        for lc in con:
            body += struct.pack("<I", len(lc)) + b"".join(struct.pack("<I", w) + c.to_bytes(32, "little") for w, c in lc)
    return build_binfile("r1cs", 1, [(1, header), (2, body + extra)])


def test_container_round_trip_and_rejections() -> None:
    data = build_binfile("abcd", 2, [(1, b"xy"), (7, b"")])
    f = parse_binfile(data, "abcd", 2)
    assert (f.version, bytes(f.section(1)), bytes(f.section(7))) == (2, b"xy", b"")
    with pytest.raises(SerializationError):
        f.section(3)
    for bad in (data[:-1], data + b"\0", b"zzzz" + data[4:], data[:10]):
        with pytest.raises(SerializationError):
            parse_binfile(bad, "abcd", 2)
    with pytest.raises(SerializationError):
        parse_binfile(data, "abcd", 1)  # version too new
    dup = build_binfile("abcd", 1, [(1, b""), (1, b"")])
    with pytest.raises(SerializationError):
        parse_binfile(dup, "abcd", 1)
    assert from_montgomery_q(to_montgomery_q(12345)) == 12345
    with pytest.raises(SerializationError):
        from_montgomery_q(Q)
    assert zkey_coef_value(7 * pow(2, 512, R) % R) == 7


def test_r1cs_and_wtns(tmp_path: Path) -> None:
    path = tmp_path / "c.r1cs"
    path.write_bytes(r1cs_file())
    r1 = read_r1cs(path)
    assert (r1.n_wires, r1.n_public, r1.n_constraints) == (4, 1, 2)
    assert r1.constraints[0].a == {2: 1} and r1.constraints[1].c == {2: 1, 0: 5}
    w = [1, 35, 5, 7]
    r1.check(w)
    wp = tmp_path / "w.wtns"
    wp.write_bytes(wtns_bytes(w))
    assert read_wtns(wp) == w
    for bad in (
        r1cs_file(prime=Q),
        r1cs_file(terms=[([(9, 1)], [], [])]),  # wire out of range
        r1cs_file(terms=[([(2, R)], [], [])]),  # coefficient >= r
        r1cs_file(extra=b"\0"),
        r1cs_file(n_wires=1),
    ):
        path.write_bytes(bad)
        with pytest.raises(SerializationError):
            read_r1cs(path)
    wp.write_bytes(wtns_bytes([2, 3]))
    with pytest.raises(SerializationError):
        read_wtns(wp)  # wire 0 must be 1
    with pytest.raises(SerializationError):
        read_wtns(tmp_path / "missing.wtns")


def test_zkey_writer_reader_round_trip(tmp_path: Path) -> None:
    """Our own setup keys use the coset H layout and cannot be written as .zkey; a key read from
    a .zkey proves and round-trips (the snarkjs-produced case is in test_prover_circom)."""
    path = tmp_path / "c.r1cs"
    path.write_bytes(r1cs_file())
    r1 = read_r1cs(path)
    pk, vk = setup(r1)
    with pytest.raises(KeyMismatch):
        zkey_bytes(pk, r1)
    fake = replace(pk, h_form=H_ODD_LAGRANGE, h_query=(*pk.h_query, pk.h_query[0]))
    zp = tmp_path / "k.zkey"
    zp.write_bytes(zkey_bytes(fake, r1))
    assert read_zkey(zp, r1) == fake
    other = replace(r1, constraints=r1.constraints[::-1])
    with pytest.raises(KeyMismatch):
        read_zkey(zp, other)
    raw = bytearray(zp.read_bytes())
    raw[200] ^= 0xFF  # inside the header points: coordinate off curve or >= q
    zp.write_bytes(bytes(raw))
    with pytest.raises(MalformedProof):  # InvalidPoint or SerializationError
        read_zkey(zp, r1)
    assert verify(vk, [35], prove(pk, r1, [1, 35, 5, 7]))


def test_odd_lagrange_key_survives_the_json_key_file(tmp_path: Path) -> None:
    from prover.serialize import load_proving_key, save_proving_key

    path = tmp_path / "c.r1cs"
    path.write_bytes(r1cs_file())
    r1 = read_r1cs(path)
    pk, _ = setup(r1)
    fake = replace(pk, h_form=H_ODD_LAGRANGE, h_query=(*pk.h_query, pk.h_query[0]))
    save_proving_key(fake, tmp_path / "pk.json")
    assert load_proving_key(tmp_path / "pk.json") == fake
    save_proving_key(pk, tmp_path / "pk2.json")
    assert load_proving_key(tmp_path / "pk2.json") == pk
