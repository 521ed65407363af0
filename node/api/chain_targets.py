"""Opening the extra chains a node records on (``[chains] targets`` beyond ethereum): each chain's adapter built from
its section of zkxai.toml and the node's secrets, attached to its registry (checked), ready for the pipeline.

``[aleo]``: the keys of :class:`node.chains.aleo.adapter.AleoConfig` (endpoint, network, program_id, prover_url, ...)
plus ``keystore`` (an Aleo keystore file; or secrets ``aleo_private_key`` / ZKXAI_ALEO_PRIVATE_KEY). The Aleo program
checks a signature by the node's Ethereum attester key, so both chains name the same attester.

``[icp]``: ``url`` (replica), ``canister`` (the registry canister id), ``root_key`` (the replica's root key, DER hex:
the IC mainnet key, or a local replica's from ``dfx ping``), ``identity`` (an Ed25519 identity keystore; its principal is the attester).
Keystores are opened with the secrets' ``keystore_password``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import contracts

from node.chains.adapter import ChainAdapter, RegistryRef
from node.config import NodeConfig
from node.errors import ConfigError

#: [icp] keys.
ICP_KEYS = ("url", "canister", "root_key", "identity")


def _path(value: Any, base: Path, what: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what} must be a file path")
    path = Path(value)
    return path if path.is_absolute() else base / path


def _password(config: NodeConfig, what: str) -> str:
    if not config.keystore_password:
        raise ConfigError(f"{what} is a keystore: set keystore_password in the secrets file (or ZKXAI_KEYSTORE_PASSWORD)")
    return config.keystore_password


async def open_aleo(config: NodeConfig, settings: Mapping[str, Any], eth_private_key: str,
                    base: Path) -> tuple[ChainAdapter, RegistryRef]:
    from node.chains.aleo.adapter import AleoAdapter, AleoConfig
    from node.chains.aleo.keystore import load_private_key

    values = dict(settings)
    keystore = values.pop("keystore", None)
    try:
        aleo = AleoConfig.from_mapping(values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[aleo]: {exc}") from exc
    key = config.aleo_private_key
    if key is None:
        if keystore is None:
            raise ConfigError("[aleo] needs keystore (or secrets aleo_private_key / ZKXAI_ALEO_PRIVATE_KEY)")
        key = load_private_key(_path(keystore, base, "aleo.keystore"), _password(config, "aleo.keystore"))
    adapter = AleoAdapter(aleo, key, eth_private_key)
    return adapter, await adapter.attach_or_deploy(aleo.program_id)


async def open_icp(config: NodeConfig, settings: Mapping[str, Any], base: Path) -> tuple[ChainAdapter, RegistryRef]:
    from node.chains.icp.adapter import IcpAdapter
    from node.chains.icp.agent import IcAgent
    from node.chains.icp.identity import load_keystore

    unknown = set(settings) - set(ICP_KEYS)
    if unknown:
        raise ConfigError(f"[icp]: unknown settings {sorted(unknown)} (known: {', '.join(ICP_KEYS)})")
    for key in ICP_KEYS:
        if not isinstance(settings.get(key), str) or not settings[key]:
            raise ConfigError(f"[icp] {key} is required")
    try:
        root_key = bytes.fromhex(settings["root_key"])
    except (TypeError, ValueError):
        raise ConfigError("[icp] root_key must be the replica's root key, DER in hex") from None
    identity = load_keystore(_path(settings["identity"], base, "icp.identity"), _password(config, "icp.identity"))
    wasm_sha = json.loads((Path(contracts.__file__).resolve().parent / "icp" / "build" / "registry.json").read_text())
    adapter = IcpAdapter(IcAgent(settings["url"], root_key, identity), expected_module_hash=bytes.fromhex(
        str(wasm_sha["wasm_sha256"]).removeprefix("0x")))
    return adapter, await adapter.attach_or_deploy(settings["canister"])


async def open_targets(config: NodeConfig, eth_private_key: str, base: Path) -> list[tuple[ChainAdapter, RegistryRef]]:
    """The extra targets, opened in ``config.chain_targets`` order; relative paths are taken from ``base``."""
    opened: list[tuple[ChainAdapter, RegistryRef]] = []
    try:
        for kind in config.chain_targets[1:]:
            if kind == "aleo":
                opened.append(await open_aleo(config, config.aleo_settings or {}, eth_private_key, base))
            elif kind == "icp":
                opened.append(await open_icp(config, config.icp_settings or {}, base))
    except BaseException:
        for adapter, _ in opened:
            await adapter.close()
        raise
    return opened

