"""The Aleo keystore (scrypt + AES-256-GCM, mode 600), the plaintext reader on hostile text and the statement
packing's pure-Python properties. Fast: no SDK, no network."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from eth_account import Account

from node.chains.adapter import Statement
from node.chains.aleo.errors import KeystoreError, PlaintextError
from node.chains.aleo.keystore import create_keystore, keystore_address, load_private_key
from node.chains.aleo.plaintext import parse
from node.chains.aleo.record import parse_attestation
from node.chains.aleo.statement import (
    ALEO_FIELD, PROGRAM_ID, attest_digest, mapping_key, proof_keccak, recover_signer, sign_digest, statement_id,
)

KEY = "APrivateKey1zkp8CZNn3yeCseEtxuVPbDCwSyhGW6yZKUYKfgXmcpoGPWH"
ADDR = "aleo1rhgdu77hgyqd3xjj8ucu3jj9r2krwz6mnzyd80gncr5fxcwlh5rsvzp9px"
N = 2**14


def test_keystore_round_trip_mode_600(tmp_path: Path) -> None:
    path = tmp_path / "aleo" / "key.json"
    assert create_keystore(path, "pw", KEY, ADDR, n=N) == ADDR
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KEY not in path.read_text()
    assert keystore_address(path) == ADDR
    assert load_private_key(path, "pw") == KEY
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        create_keystore(path, "pw", KEY, ADDR, n=N)


def test_keystore_refuses_wrong_password_and_tampering(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    create_keystore(path, "pw", KEY, ADDR, n=N)
    with pytest.raises(KeystoreError, match="wrong password"):
        load_private_key(path, "other")
    doc = json.loads(path.read_text())
    # the address is authenticated: a file pointing at another account does not decrypt
    swapped = dict(doc, address="aleo1" + "q" * 58)
    path.write_text(json.dumps(swapped))
    with pytest.raises(KeystoreError):
        load_private_key(path, "pw")
    flipped = dict(doc, ciphertext=("0" if doc["ciphertext"][0] != "0" else "1") + doc["ciphertext"][1:])
    path.write_text(json.dumps(flipped))
    with pytest.raises(KeystoreError):
        load_private_key(path, "pw")
    path.write_text(json.dumps(dict(doc, kdfparams=dict(doc["kdfparams"], n=2**30))))
    with pytest.raises(KeystoreError, match="unsupported"):
        load_private_key(path, "pw")
    path.write_text("not json")
    with pytest.raises(KeystoreError):
        load_private_key(path, "pw")
    with pytest.raises(KeystoreError):
        load_private_key(tmp_path / "missing.json", "pw")
    with pytest.raises(KeystoreError):
        create_keystore(tmp_path / "k2.json", "", KEY, ADDR, n=N)
    with pytest.raises(KeystoreError):
        create_keystore(tmp_path / "k3.json", "pw", "0x" + "11" * 32, ADDR, n=N)


@pytest.mark.parametrize("text", [
    "", "[", "[1u8,", "{ a: 1u8", "{ a 1u8 }", "[1u8 2u8]", "256u8", "-1u8", "1u8 2u8", "{ a: 1u8, a: 2u8 }",
    "[" * 40 + "]" * 40, "1x8", "\"s\"", "1u8;",
])
def test_plaintext_refuses_malformed_text(text: str) -> None:
    with pytest.raises(PlaintextError):
        parse(text)


def test_plaintext_values() -> None:
    assert parse("{\n a: [\n 1u8,\n 2u8\n ],\n b: true,\n c: aleo1xyz,\n d: 5field }") == {
        "a": [1, 2], "b": True, "c": "aleo1xyz", "d": 5}
    assert parse("[]") == []
    with pytest.raises(PlaintextError):
        parse_attestation("{ model_hash: [1u128, 2u128] }")


def test_statement_packing_properties() -> None:
    st = Statement(b"\x01" * 32, 2, 3, 4, 5)
    sid = statement_id(st)
    assert 0 <= mapping_key(sid) < ALEO_FIELD
    for other in (Statement(b"\x01" * 32, 2, 3, 5, 5), Statement(b"\x02" + b"\x01" * 31, 2, 3, 4, 5)):
        assert statement_id(other) != sid
    pk = proof_keccak(list(range(8)))
    d = attest_digest(PROGRAM_ID, "testnet", sid, pk)
    assert d != attest_digest(PROGRAM_ID, "mainnet", sid, pk) != attest_digest("other.aleo", "testnet", sid, pk)
    eth = Account.from_key("0x" + "22" * 32)
    sig = sign_digest(eth.key, d)
    assert sig[64] in (0, 1) and recover_signer(d, sig) == eth.address
    assert recover_signer(d, sig[:64] + bytes([sig[64] + 27])) is None  # the program reads v as 0/1
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = sig[:32] + (n - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big") + bytes([1 - sig[64]])
    assert recover_signer(d, high_s) is None
    with pytest.raises(ValueError):
        statement_id(Statement(b"\x01" * 32, 2, 3, 2**32, 5))
    with pytest.raises(ValueError):
        proof_keccak([1] * 7)


def test_aleo_package_stays_light(repo_root: Path) -> None:
    import subprocess
    import sys

    code = ("import sys, node.chains.aleo.adapter, node.chains.aleo.keystore; "
            "bad = [m for m in ('torch', 'aiohttp', 'web3', 'node.chain', 'node.chains.icp') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=repo_root, check=True)
