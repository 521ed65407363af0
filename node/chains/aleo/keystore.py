"""The node's Aleo account key at rest: scrypt + AES-256-GCM, file mode 600.

The Aleo account only pays fees and signs the transition (it is ``self.signer``, recorded as ``caller``); the
attester of a record is the node's Ethereum key, whose signature the program checks. The private key
(``APrivateKey1...``) is held in memory only while the node runs; it is never logged nor written in clear.

Format (JSON): ``{"kind": "zkxai-aleo-keystore", "version": 1, "address", "kdf": "scrypt", "kdfparams": {n, r, p,
salt}, "cipher": "aes-256-gcm", "nonce", "ciphertext"}``; the address and the KDF parameters are authenticated as
associated data, so a file whose address was swapped does not decrypt.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES

from .errors import KeystoreError

KIND = "zkxai-aleo-keystore"
PRIVATE_KEY = re.compile(r"^APrivateKey1[1-9A-HJ-NP-Za-km-z]{47}$")
ADDRESS = re.compile(r"^aleo1[02-9ac-hj-np-z]{58}$")
DEFAULT_N = 2**17
MAX_N = 2**20


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024 + 128 * r * n)


def _aad(address: str, params: dict[str, Any]) -> bytes:
    return json.dumps({"address": address, "kdfparams": params}, sort_keys=True).encode()


def create_keystore(path: Path, password: str, private_key: str, address: str, n: int = DEFAULT_N) -> str:
    """Write ``private_key`` encrypted with ``password``; returns ``address``. Refuses to overwrite a file."""
    if not password:
        raise KeystoreError("an Aleo keystore password must not be empty")
    if not PRIVATE_KEY.match(private_key) or not ADDRESS.match(address):
        raise KeystoreError("not an Aleo private key / address pair (APrivateKey1..., aleo1...)")
    if n < 2**14 or n > MAX_N or n & (n - 1):
        raise KeystoreError("scrypt n must be a power of two in 2^14..2^20")
    params = {"n": n, "r": 8, "p": 1, "salt": secrets.token_hex(16)}
    key = _derive(password, bytes.fromhex(params["salt"]), n, 8, 1)
    nonce = secrets.token_bytes(12)
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    cipher.update(_aad(address, params))
    ciphertext, tag = cipher.encrypt_and_digest(private_key.encode())
    doc = {"kind": KIND, "version": 1, "address": address, "kdf": "scrypt", "kdfparams": params,
           "cipher": "aes-256-gcm", "nonce": nonce.hex(), "ciphertext": (ciphertext + tag).hex()}
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeystoreError(f"keystore {path} already exists; refusing to overwrite a key") from None
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh)
    return address


def _read(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > 64 * 1024:
            raise KeystoreError(f"{path} is too large to be an Aleo keystore")
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise KeystoreError(f"cannot read Aleo keystore {path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise KeystoreError(f"Aleo keystore {path} is not JSON") from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND or doc.get("version") != 1:
        raise KeystoreError(f"{path} is not a zkxai Aleo keystore (version 1)")
    return doc


def keystore_address(path: Path) -> str:
    address = _read(path).get("address")
    if not isinstance(address, str) or not ADDRESS.match(address):
        raise KeystoreError(f"{path} has no valid Aleo address")
    return address


def load_private_key(path: Path, password: str) -> str:
    """Decrypt the keystore at ``path``: a clear error for a missing file, a wrong password or a tampered file."""
    doc = _read(path)
    try:
        params = doc["kdfparams"]
        n, r, p, salt = int(params["n"]), int(params["r"]), int(params["p"]), bytes.fromhex(params["salt"])
        nonce, blob = bytes.fromhex(doc["nonce"]), bytes.fromhex(doc["ciphertext"])
        address = str(doc["address"])
    except (KeyError, TypeError, ValueError):
        raise KeystoreError(f"Aleo keystore {path} is malformed") from None
    if doc.get("kdf") != "scrypt" or doc.get("cipher") != "aes-256-gcm" or not (
        2**14 <= n <= MAX_N and n & (n - 1) == 0 and 1 <= r <= 16 and 1 <= p <= 4 and len(salt) >= 16
        and len(nonce) == 12 and len(blob) > 16
    ):
        raise KeystoreError(f"Aleo keystore {path} has unsupported parameters")
    key = _derive(password, salt, n, r, p)
    cipher = AES.new(key, AES.MODE_GCM, nonce=nonce)
    cipher.update(_aad(address, params))
    try:
        clear = cipher.decrypt_and_verify(blob[:-16], blob[-16:]).decode()
    except (ValueError, UnicodeDecodeError):
        raise KeystoreError(f"cannot decrypt Aleo keystore {path}: wrong password or corrupt file") from None
    if not PRIVATE_KEY.match(clear):
        raise KeystoreError(f"Aleo keystore {path} does not hold an Aleo private key")
    return clear
