"""The verifier + AttestationRegistry of each model's proven level (one verifying key per model, level and method),
deployed through a sibling of the primary chain (same account, one nonce counter) and remembered in
:class:`node.store.db.ProvenModelRow`.

At start a recorded registry is attached to after checking it still exists and its verifier holds the model's key;
on the embedded chain (its state is lost at exit), or when the registry is gone from a reset chain, it is deployed
again and the row updated (attestations recorded there are gone with the chain).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy.engine import Engine

from node.chains.adapter import PrimaryChain, RegistryDeployment, registry_family
from node.store import db

log = logging.getLogger("zkxai.node")


async def deploy_level_registry(primary: object, vk_calldata: Sequence[object]) -> tuple[PrimaryChain, RegistryDeployment]:
    """A new Groth16Verifier holding ``vk_calldata`` and an AttestationRegistry on it, through a sibling of
    ``primary``; returns the sibling (attesting there from then on) and the deployment."""
    chain = registry_family(primary).sibling()
    deployment = await chain.deploy_registry(vk_calldata)
    return chain, deployment


async def attach_level_registry(primary: PrimaryChain, engine: Engine, row: db.ProvenModelRow,
                                vk_calldata: Sequence[object]) -> PrimaryChain:
    """The sibling chain attesting in ``row``'s registry: attached when it is still there with this key, else (the
    embedded chain, a reset chain) deployed again and ``row`` updated."""
    chain = registry_family(primary).sibling()
    if not primary.embedded and await chain.registry_exists(row.registry_address):
        deployment = await chain.attach_registry(row.registry_address)
        if await chain.holds_key(deployment.verifier, vk_calldata):
            return chain
        log.warning("the %s-level registry %s of model %s holds another key: deploying a new one", row.level,
                    row.registry_address, row.model_hash)
    chain, deployment = await deploy_level_registry(primary, vk_calldata)
    log.info("deployed the %s-level registry %s (verifier %s) of model %s again", row.level, deployment.registry,
             deployment.verifier, row.model_hash)
    row.registry_address, row.verifier = deployment.registry, deployment.verifier
    await asyncio.to_thread(db.put, engine, row)
    return chain
