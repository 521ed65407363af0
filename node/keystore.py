"""Signing keys at rest: eth-account's encrypted JSON keystore (scrypt KDF, AES-128-CTR).

The private key is only ever held in memory; it is never logged nor written in clear.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from eth_account import Account

from node.errors import ConfigError


def create_keystore(path: Path, password: str) -> str:
    """Write a new random key encrypted with ``password`` (scrypt); returns its address. Refuses to overwrite."""
    if not password:
        raise ConfigError("a keystore password must not be empty")
    if path.exists():
        raise ConfigError(f"keystore {path} already exists; refusing to overwrite a key")
    account = Account.create(secrets.token_hex(32))
    encrypted = Account.encrypt(account.key, password, kdf="scrypt")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(encrypted, fh)
    return str(account.address)


def load_private_key(path: Path, password: str) -> str:
    """Decrypt the keystore at ``path``; a clear error for a missing file or a wrong password."""
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read keystore {path}: {exc.strerror}") from None
    except json.JSONDecodeError:
        raise ConfigError(f"keystore {path} is not JSON") from None
    try:
        return "0x" + bytes(Account.decrypt(data, password)).hex()
    except ValueError:
        raise ConfigError(f"cannot decrypt keystore {path}: wrong password or corrupt file") from None


def keystore_address(path: Path) -> str:
    try:
        return "0x" + str(json.loads(path.read_text())["address"]).removeprefix("0x")
    except (OSError, KeyError, json.JSONDecodeError):
        raise ConfigError(f"{path} is not a keystore file") from None
