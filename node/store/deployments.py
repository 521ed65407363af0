"""The registries a node deployed, remembered per chain, so a restarted node attaches to them again.

At start, for each registry the node needs (the AttestationRegistry; in batch mode also a BatchAttestationRegistry
for the configured batch size), in this order:

1. a configured address (``chain.registry`` / ``chain.batch_registry``) always wins; a different recorded deployment
   for this chain is only reported (warning);
2. on an external chain, a deployment recorded for this chain id (and tree depth) is attached to after checking
   that it still exists: code at its address, the chain's genesis block unchanged (a reset chain, e.g. a fresh anvil,
   has another one), its verifier holding this node's key. When it does not exist any more the node stops with a
   :class:`ConfigError` saying what to do (``--redeploy``, or configure an address) instead of silently attesting to
   a new registry and splitting its history;
3. otherwise (no record, the embedded chain whose state is lost at exit, or ``--redeploy``) the node deploys and
   records the deployment at once (replacing an earlier record for the same chain, kind and depth).

Chains are reached only through the adapter contract's :class:`~node.chains.adapter.DeployingChain` (deploy, attach,
code present, genesis, verifier key); what is recorded is the :class:`~node.chains.adapter.RegistryDeployment` it
returns. The ``chain_id`` column holds the adapter's ``network`` (an EVM chain id).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from node.chains.adapter import DeployingChain, RegistryDeployment
from node.config import NodeConfig
from node.errors import ConfigError
from node.store import db
from node.verify.trust import vk_sha256

log = logging.getLogger("zkxai.node")

REGISTRY, BATCH_REGISTRY = "registry", "batch_registry"


@dataclass(frozen=True)
class Origin:
    """Where a registry came from: ``configured``, ``recorded`` (attached to this node's earlier deployment) or
    ``deployed`` (at this start)."""

    kind: str
    address: str
    origin: str


def vk_digest(vk_calldata: Sequence[object]) -> str:
    """0x + SHA-256 of a verifying key's words (alpha, beta, gamma, delta, ic), as the verifier contract holds them
    (the digest ``zkxai trust`` pins: :func:`node.verify.trust.vk_sha256`)."""
    return vk_sha256(vk_calldata)


async def check_onchain_key(chain: DeployingChain, verifier: str, vk_calldata: Sequence[object]) -> None:
    """Refuse to start against a registry whose verifier holds another key: every proof would be rejected."""
    if not await chain.holds_key(verifier, vk_calldata):
        raise ConfigError(f"the registry's verifier {verifier} holds a different verifying key than this node's keys; "
                          "use the keys it was deployed with, or deploy a new registry")


def _what(kind: str) -> str:
    return "batch registry" if kind == BATCH_REGISTRY else "registry"


def _option(kind: str) -> str:
    return "chain.batch_registry (--batch-registry)" if kind == BATCH_REGISTRY else "chain.registry (--registry)"


async def _check_recorded(chain: DeployingChain, record: db.DeploymentRow, digest: str) -> None:
    """The recorded deployment still exists on this chain and holds this node's key; ConfigError otherwise."""
    what = _what(record.kind)
    where = (f"the {what} {record.address} this node deployed on chain {record.chain_id} (block {record.block}, "
             f"recorded {record.created_at:%Y-%m-%d %H:%M} UTC)")
    remedy = (f"If the chain was reset, attestations recorded there are gone with it: start once with --redeploy to "
              f"deploy and record a new {what}, or set {_option(record.kind)} to a {what} that exists; if this is the "
              "wrong RPC endpoint, fix chain.rpc_url.")
    if record.vk_digest != digest:
        raise ConfigError(f"{where} was deployed for another verifying key than this node's keys (the keys in "
                          f"the data dir changed since). Restore the keys it was deployed with, or start once with "
                          f"--redeploy to deploy and record a new {what} for these keys.")
    if not await chain.registry_exists(record.address):
        raise ConfigError(f"{where} has no code on this chain any more. {remedy}")
    if record.genesis_hash is not None and await chain.genesis() != record.genesis_hash:
        raise ConfigError(f"{where} was deployed on a chain with another genesis block than this one (same chain "
                          f"id, different chain: reset or replaced). {remedy}")


async def _record(engine: Engine, chain: DeployingChain, deployment: RegistryDeployment, *, kind: str,
                  batch_size: int | None, digest: str) -> None:
    row = db.DeploymentRow(chain_id=int(chain.network), kind=kind, depth=deployment.depth, batch_size=batch_size,
                           address=deployment.registry, verifier=deployment.verifier, vk_digest=digest,
                           block=deployment.block, genesis_hash=await chain.genesis(), tx_hash=deployment.tx_id or None,
                           deployer=chain.attester, embedded=chain.embedded)
    await asyncio.to_thread(db.put, engine, row)


def _warn_configured(record: db.DeploymentRow | None, configured: str, kind: str) -> None:
    if record is not None and not record.embedded and record.address.lower() != configured.lower():
        log.warning("%s %s is configured; this node's database records %s %s deployed by it on chain %d at block %d "
                    "(the configured address wins; rows attested before point to the recorded one)", _option(kind),
                    configured, _what(kind), record.address, record.chain_id, record.block)


def _check_same_verifier(record: db.DeploymentRow, verifier: str) -> None:
    if verifier.lower() != record.verifier.lower():
        raise ConfigError(f"the {_what(record.kind)} {record.address} recorded for chain {record.chain_id} answers "
                          f"with verifier {verifier}, not the recorded {record.verifier}")


def _check_deployer(record: db.DeploymentRow, chain: DeployingChain) -> None:
    if record.deployer and record.deployer.lower() != chain.attester.lower():
        log.warning("the %s %s was deployed (and is owned) by %s; this node now signs as %s: owner-only calls such "
                    "as revoking a model will be refused", _what(record.kind), record.address, record.deployer,
                    chain.attester)


def _origin(deployment: RegistryDeployment, origin: str) -> RegistryDeployment:
    return dataclasses.replace(deployment, ref=dataclasses.replace(deployment.ref, origin=origin))


async def single_registry(chain: DeployingChain, engine: Engine, config: NodeConfig,
                          vk_calldata: Sequence[object]) -> tuple[RegistryDeployment, Origin]:
    """The AttestationRegistry to attest to: configured, recorded (checked) or newly deployed (and recorded)."""
    digest = vk_digest(vk_calldata)
    network = int(chain.network)
    record = await asyncio.to_thread(db.get_deployment, engine, network, REGISTRY, 0)
    if config.registry is not None:
        deployment = _origin(await chain.attach_registry(config.registry), "configured")
        await check_onchain_key(chain, deployment.verifier, vk_calldata)
        _warn_configured(record, deployment.registry, REGISTRY)
        log.info("attached to the configured registry %s (verifier %s)", deployment.registry, deployment.verifier)
        return deployment, Origin(REGISTRY, deployment.registry, "configured")
    if record is not None and not chain.embedded and not config.redeploy:
        await _check_recorded(chain, record, digest)
        deployment = _origin(await chain.attach_registry(record.address, block=record.block), "recorded")
        _check_same_verifier(record, deployment.verifier)
        await check_onchain_key(chain, deployment.verifier, vk_calldata)
        _check_deployer(record, chain)
        log.info("attached to registry %s deployed by this node on chain %d at block %d (recorded; set "
                 "chain.registry to use another)", deployment.registry, network, record.block)
        return deployment, Origin(REGISTRY, deployment.registry, "recorded")
    if record is not None and not chain.embedded:
        log.warning("--redeploy: replacing the recorded registry %s on chain %d with a new deployment", record.address,
                    network)
    deployment = await chain.deploy_registry(vk_calldata)
    await _record(engine, chain, deployment, kind=REGISTRY, batch_size=None, digest=digest)
    log.info("deployed registry %s (verifier %s) on chain %d at block %d and recorded it%s", deployment.registry,
             deployment.verifier, network, deployment.block,
             " (embedded chain: a new one at every start)" if chain.embedded else
             "; later starts attach to it")
    return deployment, Origin(REGISTRY, deployment.registry, "deployed")


async def batch_registry(chain: DeployingChain, engine: Engine, config: NodeConfig,
                         vk_calldata: Sequence[object]) -> tuple[RegistryDeployment, Origin]:
    """Batch mode: the BatchAttestationRegistry for the configured batch size (its tree depth), configured, recorded
    (checked) or newly deployed with its verifier and Poseidon hashers (and recorded)."""
    from circuits.merkle import tree_depth

    depth = tree_depth(config.batch_size)
    digest = vk_digest(vk_calldata)
    network = int(chain.network)
    record = await asyncio.to_thread(db.get_deployment, engine, network, BATCH_REGISTRY, depth)
    if config.batch_registry is not None:
        deployment = await chain.attach_registry(config.batch_registry, batch=True)
        origin = "configured"
        _warn_configured(record, deployment.registry, BATCH_REGISTRY)
    elif record is not None and not chain.embedded and not config.redeploy:
        await _check_recorded(chain, record, digest)
        deployment = await chain.attach_registry(record.address, batch=True, block=record.block)
        _check_same_verifier(record, deployment.verifier)
        _check_deployer(record, chain)
        origin = "recorded"
    else:
        if record is not None and not chain.embedded:
            log.warning("--redeploy: replacing the recorded batch registry %s (depth %d) on chain %d with a new "
                        "deployment", record.address, depth, network)
        deployment = await chain.deploy_registry(vk_calldata, config.batch_size)
        await _record(engine, chain, deployment, kind=BATCH_REGISTRY, batch_size=config.batch_size, digest=digest)
        log.info("deployed batch registry %s (depth %d, gas %s) and recorded it", deployment.registry, depth,
                 dict(deployment.gas))
        return deployment, Origin(BATCH_REGISTRY, deployment.registry, "deployed")
    if deployment.depth != depth:
        raise ConfigError(f"batch registry {deployment.registry} holds trees of depth {deployment.depth}, batch size "
                          f"{config.batch_size} needs {depth}")
    await check_onchain_key(chain, deployment.verifier, vk_calldata)
    log.info("attached to the %s batch registry %s (depth %d)", origin, deployment.registry, depth)
    return _origin(deployment, origin), Origin(BATCH_REGISTRY, deployment.registry, origin)
