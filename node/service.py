"""The node's use cases, independent of HTTP: register a model, attest a prediction, read results.

Handlers in :mod:`node.app` only parse requests and call these.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from explainers.attribution import available_methods
from explainers.errors import ExplainerError
from explainers.model import LoadedModel, load_onnx

from . import db
from .config import NodeConfig
from .disclosure import Disclosure
from .errors import BadRequest, UnknownAttestation, UnknownModel
from .pipeline import Attester, summary


@dataclass(frozen=True)
class ChainInfo:
    chain_id: int
    registry: str
    verifier: str
    embedded: bool


class NodeService:
    def __init__(self, config: NodeConfig, engine: Engine, attester: Attester, chain: ChainInfo) -> None:
        self.config = config
        self.engine = engine
        self.attester = attester
        self.chain = chain
        self._models: dict[str, LoadedModel] = {}

    # -- models -------------------------------------------------------------------------------
    async def register_model(self, data: bytes, name: str) -> dict[str, Any]:
        if not data:
            raise BadRequest("empty model body: POST the ONNX file bytes")
        model = await asyncio.to_thread(load_onnx, data)
        if model.num_classes > self.config.circuit_classes:
            raise BadRequest(
                f"model has {model.num_classes} classes; this node's commitment circuit holds at most "
                f"{self.config.circuit_classes}"
            )
        key = "0x" + model.model_hash.hex()
        row = db.ModelRow(model_hash=key, name=name, kind="onnx", data=data,
                          input_shape=json.dumps(list(model.input_shape)), num_classes=model.num_classes)
        await asyncio.to_thread(db.put, self.engine, row)
        self._models[key] = model
        return self._model_json(row)

    async def model(self, model_hash: str) -> LoadedModel:
        key = model_hash.lower()
        if key in self._models:
            return self._models[key]
        row = await asyncio.to_thread(db.get_model, self.engine, key)
        if row is None:
            raise UnknownModel(f"no model registered with hash {model_hash}")
        model = await asyncio.to_thread(load_onnx, row.data)
        self._models[key] = model
        return model

    async def list_models(self) -> list[dict[str, Any]]:
        rows = await asyncio.to_thread(db.list_models, self.engine)
        return [self._model_json(r) for r in rows]

    @staticmethod
    def _model_json(row: db.ModelRow) -> dict[str, Any]:
        return {"model_hash": row.model_hash, "name": row.name, "kind": row.kind,
                "input_shape": json.loads(row.input_shape), "num_classes": row.num_classes}

    # -- attestations -------------------------------------------------------------------------
    async def attest(self, body: Any) -> dict[str, Any]:
        model_hash, raw_input, method = parse_attest_body(body, self.config)
        model = await self.model(model_hash)
        x = to_input_array(raw_input, model.input_shape)
        row = db.AttestationRow(request_id=str(uuid.uuid4()), model_hash=model_hash.lower(), method=method)
        row = await asyncio.to_thread(db.put, self.engine, row)  # stored before any work is done
        try:
            outcome = await self.attester.attest(model, x, method)
        except ExplainerError:
            await asyncio.to_thread(db.put, self.engine, db.touch(row, status="rejected", error="invalid request"))
            raise
        except Exception as exc:
            await asyncio.to_thread(db.put, self.engine, db.touch(row, status="failed", error=f"{type(exc).__name__}: {exc}"))
            raise
        d = outcome.disclosure
        row = db.touch(
            row, status="attested", attestation_id=d.attestation_id, predicted_class=d.predicted_class,
            tx_hash=d.chain.tx_hash if d.chain else None, block_number=d.chain.block_number if d.chain else None,
            gas_used=outcome.gas_used, disclosure=json.dumps(d.to_json()), timings=json.dumps(outcome.timings),
        )
        await asyncio.to_thread(db.put, self.engine, row)
        return {"request_id": row.request_id, "status": "attested", **summary(outcome),
                "registry": self.chain.registry, "chain_id": self.chain.chain_id, "disclosure": d.to_json()}

    async def attestation(self, key: str) -> dict[str, Any]:
        row = await self._row(key)
        return {"request_id": row.request_id, "status": row.status, "attestation_id": row.attestation_id,
                "model_hash": row.model_hash, "method": row.method, "predicted_class": row.predicted_class,
                "tx_hash": row.tx_hash, "block_number": row.block_number, "gas_used": row.gas_used,
                "error": row.error, "timings": json.loads(row.timings) if row.timings else None}

    async def disclosure(self, key: str) -> dict[str, Any]:
        row = await self._row(key)
        if row.disclosure is None:
            raise UnknownAttestation(f"attestation {key} has no disclosure (status {row.status})")
        return Disclosure.from_json(json.loads(row.disclosure)).to_json()

    async def _row(self, key: str) -> db.AttestationRow:
        row = await asyncio.to_thread(db.get_attestation, self.engine, key.lower() if key.startswith("0x") else key)
        if row is None:
            raise UnknownAttestation(f"no attestation or request {key}")
        return row


def parse_attest_body(body: Any, config: NodeConfig) -> tuple[str, Any, str]:
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object: {\"model_hash\": \"0x..\", \"input\": [...], \"method\": \"...\"}")
    unknown = set(body) - {"model_hash", "input", "method"}
    if unknown:
        raise BadRequest(f"unknown fields: {sorted(unknown)}")
    model_hash = body.get("model_hash")
    if not isinstance(model_hash, str) or len(model_hash) != 66 or not model_hash.startswith("0x"):
        raise BadRequest("model_hash must be 0x followed by 64 hex digits")
    try:
        bytes.fromhex(model_hash[2:])
    except ValueError:
        raise BadRequest("model_hash must be hex") from None
    method = body.get("method", config.default_method)
    if not isinstance(method, str) or not method:
        raise BadRequest(f"method must be a non-empty string; available: {available_methods()}")
    if "input" not in body:
        raise BadRequest("missing field: input")
    return model_hash, body["input"], method


def to_input_array(raw: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Validate a JSON input against the model's per-sample shape: numbers only, finite, exact shape."""
    try:
        x = np.asarray(raw, dtype=np.float64)
    except (ValueError, TypeError):
        raise BadRequest("input must be a (nested) list of numbers") from None
    if x.dtype == object or x.size == 0:
        raise BadRequest("input must be a non-empty (nested) list of numbers")
    if tuple(x.shape) != tuple(shape):
        if x.size == math.prod(shape) and x.ndim == 1:
            x = x.reshape(shape)
        else:
            raise BadRequest(f"input has shape {list(x.shape)}, the model expects {list(shape)}")
    if not np.all(np.isfinite(x)):
        raise BadRequest("input holds NaN or infinite values")
    return x.astype(np.float32)
