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
from prover_samples import twist_point_outside_subgroup

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


# ----------------------------------------------------------------------------- native and Python loaders
# With the C extension, .r1cs parsing, the zkey point sections and the coefficient check run in C
# (prover.native); whatever they do not accept goes to the Python checks. Every case below is read
# on both paths: same key / circuit, or the same exception type and message.


def _outcome(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - the type and message are what is compared
        return (type(exc), str(exc))


def _both(monkeypatch: pytest.MonkeyPatch, fn, *args):  # type: ignore[no-untyped-def]
    """fn(*args) on the Python path, then (when the extension is built) on the native one."""
    from prover import native

    monkeypatch.setattr(native, "NATIVE", False)
    slow = _outcome(fn, *args)
    if native.AVAILABLE:
        monkeypatch.setattr(native, "NATIVE", True)
        fast = _outcome(fn, *args)
        assert fast == slow
    return slow


def _zkey_sections(data: bytes) -> list[tuple[int, bytes]]:
    f = parse_binfile(data, "zkey", 1)
    return [(k, bytes(v)) for k, v in f.sections.items()]


def _rebuild(sections: list[tuple[int, bytes]], kind: int, payload: bytes) -> bytes:
    return build_binfile("zkey", 1, [(k, payload if k == kind else v) for k, v in sections])


def _mont_g2(p: tuple[tuple[int, int], tuple[int, int]]) -> bytes:
    (x0, x1), (y0, y1) = p
    return b"".join(to_montgomery_q(c).to_bytes(32, "little") for c in (x0, x1, y0, y1))


def test_r1cs_reader_same_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from prover import native

    path = tmp_path / "c.r1cs"
    cases = [
        r1cs_file(),
        r1cs_file(terms=[([(2, 1), (2, 4)], [(3, 1)], [(1, 5)])]),  # a repeated wire is merged
        r1cs_file(terms=[([(2, 1), (2, R - 1)], [(3, 0)], [(1, 5)])]),  # ... to nothing; zero terms dropped
        r1cs_file(terms=[([(3, 7), (0, 2), (2, 1)], [], [(1, R - 1)])]),  # unsorted wires keep file order
        r1cs_file(prime=Q),
        r1cs_file(terms=[([(9, 1)], [], [])]),  # wire out of range
        r1cs_file(terms=[([(2, R)], [], [])]),  # coefficient >= r
        r1cs_file(extra=b"\0"),  # trailing bytes
        r1cs_file(n_wires=1),
    ]
    good = r1cs_file()
    body = bytes(parse_binfile(good, "r1cs", 1).section(2))
    header = bytes(parse_binfile(good, "r1cs", 1).section(1))
    cases.append(build_binfile("r1cs", 1, [(1, header), (2, body[:-5])]))  # truncated constraints
    more = header[:-4] + struct.pack("<I", 3)  # declares 3 constraints, holds 2
    cases.append(build_binfile("r1cs", 1, [(1, more), (2, body)]))
    outcomes = []
    for data in cases:
        path.write_bytes(data)
        outcomes.append(_both(monkeypatch, read_r1cs, path))
    assert [o[0] for o in outcomes] == ["ok"] * 4 + [SerializationError] * 7
    merged = outcomes[1][1].constraints[0]
    assert merged.a == {2: 5} and outcomes[2][1].constraints[0].a == {} and outcomes[2][1].constraints[0].b == {}
    assert list(outcomes[3][1].constraints[0].a) == [3, 0, 2]
    if native.AVAILABLE:  # the CSR the native reader leaves behind is what packing the circuit gives
        monkeypatch.setattr(native, "NATIVE", True)
        for data in cases[:4]:
            path.write_bytes(data)
            r1 = read_r1cs(path)
            assert native.packed_r1cs(r1) == native._pack_r1cs(r1)


def test_zkey_reader_same_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key, and every way of spoiling it: truncated, a point off the curve or with a coordinate
    >= q, a vk G2 point outside the subgroup, a coefficient changed or >= r, another circuit."""
    from prover import native

    path = tmp_path / "c.r1cs"
    path.write_bytes(r1cs_file())
    r1 = read_r1cs(path)
    pk, _ = setup(r1)
    fake = replace(pk, h_form=H_ODD_LAGRANGE, h_query=(*pk.h_query, pk.h_query[0]))
    a_query = list(fake.a_query)
    a_query[3] = (0, 0)  # an identity in a query section is allowed
    fake = replace(fake, a_query=tuple(a_query))
    data = zkey_bytes(fake, r1)
    zp = tmp_path / "k.zkey"

    def read(blob: bytes, circuit=r1):  # type: ignore[no-untyped-def]
        zp.write_bytes(blob)
        return read_zkey(zp, circuit)

    assert _both(monkeypatch, read, data) == ("ok", fake)
    if native.AVAILABLE:  # the packed MSM bases kept by the native reader equal packing the key
        monkeypatch.setattr(native, "NATIVE", True)
        got = read(data)
        assert native.packed_key(got) == native._pack_key(got)

    secs = _zkey_sections(data)
    sec = dict(secs)
    coefs = sec[4]
    (count,) = struct.unpack_from("<I", coefs, 0)
    entries = [coefs[4 + 44 * k : 48 + 44 * k] for k in range(count)]
    # the same coefficients in another order (within a row, and across rows) are the same key
    swapped = entries[:2] + [entries[3], entries[2]] + entries[4:]  # constraint 1's two A terms
    assert _both(monkeypatch, read, _rebuild(secs, 4, coefs[:4] + b"".join(entries[::-1]))) == ("ok", fake)
    assert _both(monkeypatch, read, _rebuild(secs, 4, coefs[:4] + b"".join(swapped))) == ("ok", fake)

    def entry_value(k: int, value: int) -> bytes:
        e = entries[:]
        e[k] = e[k][:12] + value.to_bytes(32, "little")
        return coefs[:4] + b"".join(e)

    v0 = int.from_bytes(entries[0][12:], "little")
    a_sec = bytearray(sec[5])
    y2 = int.from_bytes(a_sec[2 * 64 + 32 : 2 * 64 + 64], "little")
    a_sec[2 * 64 + 32 : 2 * 64 + 64] = ((y2 + 1) % Q).to_bytes(32, "little")
    b2_sec = bytearray(sec[7])
    b2_sec[128 : 128 + 32] = Q.to_bytes(32, "little")
    h_sec = bytearray(sec[9])
    h_sec[-32:] = (Q + 5).to_bytes(32, "little")
    header = bytearray(sec[2])
    gamma_at = len(header) - (3 * 64 + 3 * 128) + 2 * 64 + 128
    header[gamma_at : gamma_at + 128] = _mont_g2(twist_point_outside_subgroup())
    cases = [
        (data[:-10], SerializationError),  # truncated file
        (_rebuild(secs, 5, sec[5][:-64]), SerializationError),  # A one point short
        (_rebuild(secs, 5, bytes(a_sec)), MalformedProof),  # A[2] off the curve (InvalidPoint)
        (_rebuild(secs, 7, bytes(b2_sec)), SerializationError),  # B2[1] coordinate = q
        (_rebuild(secs, 9, bytes(h_sec)), SerializationError),  # last H point coordinate >= q
        (_rebuild(secs, 2, bytes(header)), MalformedProof),  # gamma2 outside the subgroup
        (_rebuild(secs, 4, entry_value(0, (v0 + 1) % R)), KeyMismatch),  # coefficient changed
        (_rebuild(secs, 4, entry_value(1, R)), SerializationError),  # coefficient >= r
        (_rebuild(secs, 4, coefs[:-1]), SerializationError),  # coefficient section size
        (_rebuild(secs, 4, b"\0\0"), SerializationError),  # no count
        (_rebuild(secs, 2, sec[2][:30]), SerializationError),  # header cut short
        (_rebuild(secs, 4, coefs[:4] + b"".join(entries[1:] + entries[:1])), "ok"),  # rotated
    ]
    for blob, expected in cases:
        got = _both(monkeypatch, read, blob)
        if expected == "ok":
            assert got == ("ok", fake)
        else:
            assert isinstance(got[0], type) and issubclass(got[0], expected), (got, expected)
    assert "A[2]" in _both(monkeypatch, read, cases[2][0])[1]
    assert "subgroup" in _both(monkeypatch, read, cases[5][0])[1]
    # a key for another circuit: constraints reordered, or another wire count
    other = replace(r1, constraints=r1.constraints[::-1])
    assert _both(monkeypatch, read, data, other)[0] is KeyMismatch
    wider = replace(r1, n_wires=5)
    assert _both(monkeypatch, read, data, wider)[0] is KeyMismatch
