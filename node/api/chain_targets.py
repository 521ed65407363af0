"""The one factory of chain adapters: the only module outside ``node/chains/<chain>/`` that names a concrete chain
(enforced by ``tests/test_node_layout.py``). Everything else in the node holds a
:class:`~node.chains.adapter.ChainAdapter` (and its optional capabilities) built here.

The primary chain (``[chains] targets[0]``, ethereum): :func:`open_primary`, the embedded in-process EVM when no
``chain.rpc_url`` is set, else the RPC endpoint with the node's key and fee policy; in batch mode it must support
batches (:func:`~node.chains.adapter.batch_chain`: a ConfigError naming the chain otherwise). Its embedded JSON-RPC
bridge (``POST /rpc``) is :func:`serve_rpc`.

The extra chains a node records on (``[chains] targets`` beyond ethereum): each chain's adapter built from its section
of zkxai.toml and the node's secrets, attached to its registry (checked), ready for the pipeline. In batch mode they
still record every prediction singly (batch mode is the primary chain's), so they need no batch support.

``[aleo]``: the keys of :class:`node.chains.aleo.adapter.AleoConfig` (endpoint, network, program_id, prover_url, ...)
plus ``keystore`` (an Aleo keystore file; or secrets ``aleo_private_key`` / ZKXAI_ALEO_PRIVATE_KEY). The Aleo program
checks a signature by the node's Ethereum attester key, so both chains name the same attester.

``[icp]``: ``url`` (replica), ``canister`` (the registry canister id), ``root_key`` (the replica's root key, DER hex:
the IC mainnet key, or a local replica's from ``dfx ping``), ``identity`` (an Ed25519 identity keystore; its principal is the attester).
Keystores are opened with the secrets' ``keystore_password``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import contracts

from node.chains.adapter import BatchesUnsupported, ChainAdapter, PrimaryChain, RegistryRef, batch_chain
from node.config import NodeConfig
from node.errors import ConfigError

log = logging.getLogger("zkxai.node")

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


async def open_primary(config: NodeConfig) -> PrimaryChain:
    """The primary chain's adapter (no registry yet: :mod:`node.store.deployments` deploys or attaches it)."""
    from node.chains.ethereum.adapter import EthereumAdapter
    from node.chains.ethereum.chain import EthereumChain
    from node.chains.ethereum.fees import GWEI, FeeConfig
    from node.chains.ethereum.logscan import WindowPolicy
    from node.chains.ethereum.provider import ProviderPolicy
    from node.chains.ethereum.txmanager import FeePolicy

    if config.chain_targets[0] != "ethereum":  # NodeConfig refuses it too
        raise ConfigError(f"the primary chain must be ethereum, got {config.chain_targets[0]}")
    if config.rpc_url is None:
        adapter = await EthereumAdapter.in_process()
        log.warning("embedded in-process EVM: development only, its state is lost at exit")
    else:
        assert config.private_key is not None
        fees = FeePolicy(bump_after_s=config.fee_bump_after_s, max_fee_wei=int(config.max_fee_gwei * 10**9))
        fee_config = FeeConfig(tip_percentile=config.tip_percentile, base_fee_headroom=config.base_fee_headroom,
                               min_tip_wei=int(config.min_tip_gwei * GWEI), max_tip_wei=int(config.max_tip_gwei * GWEI))
        adapter = await EthereumAdapter.connect(
            [config.rpc_url, *config.rpc_fallback_urls], config.private_key, fees=fees, fee_config=fee_config,
            provider=ProviderPolicy(timeout_s=config.rpc_request_timeout_s, max_attempts=config.rpc_max_attempts),
            logs=WindowPolicy(initial=config.logs_window_blocks, maximum=max(100_000, config.logs_window_blocks)),
            deploy_confirmations=config.confirmations, chain_id=config.chain_id)
    chain = EthereumChain(adapter)
    if config.attestation_mode == "batch":
        try:
            batch_chain(chain)
        except BatchesUnsupported as exc:
            await chain.close()
            raise ConfigError(f"chains.targets[0] = {chain.kind}: {exc}") from exc
    return chain


async def serve_rpc(primary: ChainAdapter, payload: object, gas_cap: int, timeout_s: float) -> dict[str, Any]:
    """Answer one read-only JSON-RPC request from the primary chain when it is the embedded EVM (``POST /rpc``)."""
    from node.chains.ethereum.chain import EthereumChain
    from node.chains.ethereum.rpc_bridge import RpcLimits, handle_rpc_request

    if not isinstance(primary, EthereumChain):
        raise ConfigError(f"/rpc serves an embedded EVM, not the {primary.kind} chain")
    return await handle_rpc_request(primary.adapter, payload, RpcLimits(gas_cap=gas_cap, timeout_s=timeout_s))


def _signing_key(primary: ChainAdapter) -> str:
    """The primary chain's signing key (the Aleo program checks a signature by the Ethereum attester key)."""
    from node.chains.ethereum.chain import EthereumChain

    if not isinstance(primary, EthereumChain):
        raise ConfigError(f"extra chain targets sign with the ethereum attester key; the primary is {primary.kind}")
    return str(primary.adapter.account.key.hex())


async def open_targets(config: NodeConfig, primary: ChainAdapter, base: Path) -> list[tuple[ChainAdapter, RegistryRef]]:
    """The extra targets, opened in ``config.chain_targets`` order; relative paths are taken from ``base``."""
    eth_private_key = _signing_key(primary) if len(config.chain_targets) > 1 else ""
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

