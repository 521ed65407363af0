"""An Ed25519 identity for IC requests: the key, its DER public key, its self-authenticating principal, and a
keystore at rest (Web3 Secret Storage JSON: scrypt KDF + AES-128-CTR + MAC, via eth-keyfile; file mode 600).

Ed25519 is pycryptodome's (C code; installed with eth-account through eth-keyfile): about 0.8 ms to sign.
The self-authenticating principal is ``SHA-224(DER public key) || 0x02`` (interface spec, "Principals").
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import eth_keyfile
from Crypto.PublicKey import ECC
from Crypto.Signature import eddsa

from node.chains.icp.errors import IdentityError
from node.chains.icp.principal import Principal

#: DER SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410): SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING }
ED25519_DER_PREFIX = bytes.fromhex("302a300506032b6570032100")
KEYSTORE_KIND = "icp-ed25519"


def self_authenticating(der_public_key: bytes) -> Principal:
    return Principal(hashlib.sha224(der_public_key).digest() + b"\x02")


def ed25519_raw_key(der_public_key: bytes) -> bytes:
    """The 32-byte Ed25519 key inside its DER envelope (strict: exactly the RFC 8410 prefix)."""
    if len(der_public_key) != len(ED25519_DER_PREFIX) + 32 or not der_public_key.startswith(ED25519_DER_PREFIX):
        raise IdentityError("not a DER-encoded Ed25519 public key")
    return der_public_key[len(ED25519_DER_PREFIX):]


def verify_ed25519(der_public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True iff ``signature`` is the Ed25519 (RFC 8032) signature of ``message`` under the DER key."""
    try:
        ed25519_raw_key(der_public_key)  # the exact RFC 8410 envelope, nothing else pycryptodome would accept
        key = ECC.import_key(der_public_key)
        eddsa.new(key, "rfc8032").verify(message, signature)
    except (ValueError, TypeError):
        return False
    return True


@dataclass(frozen=True)
class Ed25519Identity:
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.seed, bytes) or len(self.seed) != 32:
            raise IdentityError("an Ed25519 seed is 32 bytes")

    @classmethod
    def generate(cls) -> Ed25519Identity:
        return cls(os.urandom(32))

    def _key(self) -> ECC.EccKey:
        return ECC.construct(curve="Ed25519", seed=self.seed)

    @property
    def der_public_key(self) -> bytes:
        return ED25519_DER_PREFIX + self._key().public_key().export_key(format="raw")

    @property
    def principal(self) -> Principal:
        return self_authenticating(self.der_public_key)

    def sign(self, message: bytes) -> bytes:
        return eddsa.new(self._key(), "rfc8032").sign(message)


def create_keystore(path: Path, password: str, identity: Ed25519Identity | None = None, *,
                    work_factor: int = 2**18) -> Ed25519Identity:
    """Write ``identity`` (a new one by default) encrypted with ``password`` (scrypt N = ``work_factor``);
    mode 600; never overwrites."""
    if not password:
        raise IdentityError("a keystore password must not be empty")
    identity = identity or Ed25519Identity.generate()
    data = eth_keyfile.create_keyfile_json(identity.seed, password.encode(), kdf="scrypt", iterations=work_factor)
    data.pop("address", None)  # an Ethereum address derived from the seed would mean nothing here
    data["zkxai"] = {"kind": KEYSTORE_KIND, "principal": identity.principal.to_text()}
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise IdentityError(f"keystore {path} already exists; refusing to overwrite a key") from None
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return identity


def load_keystore(path: Path, password: str) -> Ed25519Identity:
    """Decrypt the keystore at ``path``: refused when other users can read it, on a wrong password, or when the
    decrypted key does not give the principal recorded in the file."""
    try:
        mode = path.stat().st_mode
        raw = path.read_text()
    except OSError as exc:
        raise IdentityError(f"cannot read keystore {path}: {exc.strerror}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise IdentityError(f"keystore {path} is readable by other users (mode {oct(mode & 0o777)}); chmod 600 it")
    try:
        data = json.loads(raw)
        meta = data["zkxai"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise IdentityError(f"keystore {path} is not a zkxai ICP keystore") from None
    if not isinstance(meta, dict) or meta.get("kind") != KEYSTORE_KIND:
        raise IdentityError(f"keystore {path} is not a zkxai ICP keystore")
    try:
        seed = eth_keyfile.decode_keyfile_json(data, password.encode())
    except Exception:  # eth-keyfile raises ValueError kinds for a MAC mismatch and malformed fields
        raise IdentityError(f"cannot decrypt keystore {path}: wrong password or corrupted file") from None
    identity = Ed25519Identity(bytes(seed))
    if identity.principal.to_text() != meta.get("principal"):
        raise IdentityError(f"keystore {path}: the key does not match its recorded principal")
    return identity
