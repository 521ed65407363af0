"""ICP identity (Ed25519, RFC 8032 vector), its keystore at rest, and signed envelopes."""

from __future__ import annotations

import json
import os
import stat

import pytest

from node.chains.icp import cbor
from node.chains.icp.envelope import call_content, read_state_content, seal
from node.chains.icp.errors import IdentityError
from node.chains.icp.identity import (
    ED25519_DER_PREFIX,
    Ed25519Identity,
    create_keystore,
    load_keystore,
    self_authenticating,
    verify_ed25519,
)
from node.chains.icp.request_id import request_id, signable

# RFC 8032 section 7.1, TEST 1 (empty message)
SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe2"
    "4655141438e7a100b"
)
FAST = 2**12  # scrypt work factor for tests only


def test_rfc8032_vector_and_principal() -> None:
    identity = Ed25519Identity(SEED)
    assert identity.der_public_key == ED25519_DER_PREFIX + PUBLIC
    assert identity.sign(b"") == SIGNATURE
    assert verify_ed25519(identity.der_public_key, SIGNATURE, b"")
    assert not verify_ed25519(identity.der_public_key, SIGNATURE, b"x")
    raw = identity.principal.raw
    assert len(raw) == 29 and raw[-1] == 0x02 and identity.principal == self_authenticating(identity.der_public_key)


def test_keystore_round_trip_mode_600_and_refusals(tmp_path) -> None:
    path = tmp_path / "icp-key.json"
    identity = create_keystore(path, "s3cret", work_factor=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert SEED.hex() not in path.read_text() and identity.seed.hex() not in path.read_text()
    assert load_keystore(path, "s3cret").principal == identity.principal
    with pytest.raises(IdentityError, match="wrong password"):
        load_keystore(path, "guess")
    with pytest.raises(IdentityError, match="refusing to overwrite"):
        create_keystore(path, "s3cret", work_factor=FAST)
    os.chmod(path, 0o644)
    with pytest.raises(IdentityError, match="readable by other users"):
        load_keystore(path, "s3cret")
    os.chmod(path, 0o600)
    data = json.loads(path.read_text())
    data["zkxai"]["principal"] = Ed25519Identity.generate().principal.to_text()
    path.write_text(json.dumps(data))
    with pytest.raises(IdentityError, match="does not match"):
        load_keystore(path, "s3cret")
    with pytest.raises(IdentityError):
        create_keystore(tmp_path / "other.json", "")


def test_signed_and_anonymous_envelopes() -> None:
    identity = Ed25519Identity(SEED)
    content = call_content(identity, b"\x00" * 8 + b"\x01\x01", "attest", b"DIDL\x00\x00", clock=lambda: 10**18)
    assert content["ingress_expiry"] == 10**18 + 4 * 60 * 10**9 and len(content["nonce"]) == 16
    envelope = seal(content, identity)
    decoded = cbor.decode(envelope.body)
    assert envelope.body.startswith(b"\xd9\xd9\xf7") and decoded["content"] == content
    assert envelope.request_id == request_id(content)
    assert verify_ed25519(decoded["sender_pubkey"], decoded["sender_sig"], signable(content))
    assert signable(content) == b"\x0aic-request" + envelope.request_id
    anonymous = seal(read_state_content(None, [[b"time"]]), None)
    assert set(cbor.decode(anonymous.body)) == {"content"} and anonymous.content["sender"] == b"\x04"
