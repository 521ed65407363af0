"""The node's proven models: registering a model at level ``inference`` / ``explanation`` (quantize, build its
circuit, keys cached by R1CS digest, deploy its verifier and registry, record the row), attaching them again at
start, and finding the one a request is attested at.

A model that cannot be quantized raises ``UnsupportedModel`` naming the layer (HTTP 422, nothing stored): it can
still be registered at level ``commitment``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from explainers.errors import UnsupportedModel
from explainers.model import LoadedModel

from node.chains.adapter import PrimaryChain
from node.errors import BadRequest, NodeError
from node.pipeline.proven_keys import ProvenKeys, ensure_proven_keys, load_proven_keys
from node.store import db
from node.store.proven_registries import attach_level_registry, deploy_level_registry
from node.verify.levels import EXPLANATION, INFERENCE, PROVEN_LEVELS
from node.verify.trust import vk_sha256

log = logging.getLogger("zkxai.node")


@dataclass(frozen=True)
class ProvenModel:
    """A model at a proven level: its row, its keys and the chain adapter attesting in its registry."""

    row: db.ProvenModelRow
    keys: ProvenKeys
    chain: PrimaryChain

    def to_json(self) -> dict[str, Any]:
        r = self.row
        return {"model_hash": r.model_hash, "level": r.level, "method": r.method or None,
                "model_commitment": r.model_commitment, "registry": r.registry_address, "verifier": r.verifier,
                "vk_sha256": r.vk_sha256, "constraints": r.constraints, "r1cs_digest": r.r1cs_digest,
                "quantized_agreement": r.agreement}


def _vk_calldata(keys: ProvenKeys) -> Any:
    from prover.solidity import vk_calldata

    return vk_calldata(keys.vk)


def agreement(model: LoadedModel, qnet: dict[str, Any], probe: Any) -> float | None:
    """Top-1 agreement of the quantized model with the float model on ``probe`` inputs (None without a probe)."""
    if probe is None or len(probe) == 0:
        return None
    import numpy as np

    from circuits.qnet import QNet, first_argmax, forward
    from explainers.quantize import quantize_input

    net = QNet.from_json(qnet)
    floats = np.argmax(model.reference_logits(probe), axis=1)
    same = sum(first_argmax(forward(net, quantize_input(model, x)).scores) == int(f) for x, f in zip(probe, floats))
    return same / len(probe)


def _build(model: LoadedModel, level: str, method: str, keys_dir: Path, probe: Any) -> tuple[dict[str, Any], int,
                                                                                         ProvenKeys, float | None]:
    """Quantize, compile the circuit and set up (or load) its keys: CPU work, run in a thread."""
    from circuits.errors import QNetError
    from circuits.proven import proven_circuit
    from circuits.qnet import QNet, check_supported, model_commitment
    from explainers.quantize import quantize

    qnet = quantize(model)
    try:
        net = QNet.from_json(qnet)
        if level == EXPLANATION:
            check_supported(net, method)
    except QNetError as exc:  # a method or layer the circuits do not support: name it
        raise UnsupportedModel(str(exc)) from exc
    pc = proven_circuit(net, level, method or None, model.model_hash)
    keys = ensure_proven_keys(keys_dir, pc.circuit)
    return qnet, model_commitment(net), keys, agreement(model, qnet, probe)


class ProvenModels:
    """The proven models of this node on its primary chain, by (model hash, level, method)."""

    def __init__(self, engine: Engine, keys_dir: Path, primary: PrimaryChain) -> None:
        self.engine, self.keys_dir, self.primary = engine, keys_dir, primary
        self._by_key: dict[tuple[str, str, str], ProvenModel] = {}
        self._registering = asyncio.Lock()

    async def start(self) -> int:
        """Attach (or, on a fresh chain, deploy again) every recorded proven model of this chain."""
        for row in await asyncio.to_thread(db.list_proven, self.engine):
            if str(row.chain_id) != str(self.primary.network):
                continue
            keys = await asyncio.to_thread(load_proven_keys, self.keys_dir, row.r1cs_digest, row.constraints)
            if keys is None:
                log.warning("the keys of model %s at level %s are gone from %s: register it again", row.model_hash,
                            row.level, self.keys_dir)
                continue
            chain = await attach_level_registry(self.primary, self.engine, row, _vk_calldata(keys))
            self._by_key[(row.model_hash, row.level, row.method)] = ProvenModel(row, keys, chain)
        return len(self._by_key)

    def get(self, model_hash: str, level: str, method: str) -> ProvenModel | None:
        return self._by_key.get((model_hash.lower(), level, method if level == EXPLANATION else ""))

    def of_model(self, model_hash: str) -> list[ProvenModel]:
        """A model's proven levels, newest first."""
        found = [p for (h, _, _), p in self._by_key.items() if h == model_hash.lower()]
        return sorted(found, key=lambda p: p.row.created_at, reverse=True)

    def all(self) -> list[ProvenModel]:
        return list(self._by_key.values())

    async def register(self, model: LoadedModel, level: str, method: str | None, probe: Any = None) -> ProvenModel:
        """Register ``model`` at a proven level (idempotent: an existing registration is returned)."""
        if level not in PROVEN_LEVELS:
            raise BadRequest(f"not a proven level: {level}")
        if level == EXPLANATION and not method:
            raise BadRequest("level explanation needs method=<explanation method the circuit computes>")
        method = method if level == EXPLANATION else None
        model_hash = "0x" + model.model_hash.hex()
        async with self._registering:
            existing = self.get(model_hash, level, method or "")
            if existing is not None:
                return existing
            qnet, commitment, keys, agree = await asyncio.to_thread(_build, model, level, method or "", self.keys_dir,
                                                                    probe)
            chain, deployment = await deploy_level_registry(self.primary, _vk_calldata(keys))
            row = db.ProvenModelRow(
                model_hash=model_hash, level=level, method=method or "", qnet=json.dumps(qnet),
                model_commitment=str(commitment), r1cs_digest=keys.r1cs_digest, constraints=keys.constraints,
                chain_id=int(self.primary.network), registry_address=deployment.registry,
                verifier=deployment.verifier, vk_sha256=vk_sha256(_vk_calldata(keys)), agreement=agree,
                deploy_gas=sum(deployment.gas.values()) or None)
            row = await asyncio.to_thread(db.put, self.engine, row)  # type: ignore[assignment]
            proven = self._by_key[(model_hash, level, method or "")] = ProvenModel(row, keys, chain)
            log.info("model %s registered at level %s%s: %d constraints, registry %s (verifier %s)", model_hash,
                     level, f" ({method})" if method else "", keys.constraints, deployment.registry,
                     deployment.verifier)
            return proven

    def for_request(self, model_hash: str, level: str | None, method: str | None) -> ProvenModel | None:
        """The proven model a request is attested at: ``level`` as asked (must be registered, else BadRequest), or
        by default the model's newest proven registration (None: level commitment)."""
        if level == "commitment":
            return None
        if level is None:
            found = self.of_model(model_hash)
            if method is not None:
                found = [p for p in found if p.row.level == INFERENCE or p.row.method == method]
            return found[0] if found else None
        candidates = [p for p in self.of_model(model_hash) if p.row.level == level
                      and (method is None or level == INFERENCE or p.row.method == method)]
        if not candidates:
            raise LevelNotRegistered(f"model {model_hash} is not registered at level {level}"
                                     + (f" with method {method}" if method and level == EXPLANATION else "")
                                     + ": POST /v1/models?level=... first")
        return candidates[0]


class LevelNotRegistered(BadRequest):
    code = "level_not_registered"


__all__ = ["LevelNotRegistered", "NodeError", "ProvenModel", "ProvenModels", "agreement"]
