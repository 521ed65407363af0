"""The node's use cases, independent of HTTP: register models, accept attestation requests, read results.

Handlers in :mod:`node.api.app` only parse requests and call these.
"""

from __future__ import annotations

import asyncio
import json
import math
import uuid
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine

from explainers.errors import ExplainerError
from explainers.methods import parse_method
from explainers.model import LoadedModel

from node.chains.adapter import AlreadyRevoked, BatchChain, BatchModelRevoking, ModelRevoking
from node.store import db
from node.config import NodeConfig
from node.verify.disclosure import Disclosure
from node.verify.levels import COMMITMENT, parse_level
from node.errors import (
    BadRequest,
    UnknownAttestation,
    UnknownModel,
)
from node.pipeline.engine import (
    ChainInfo,
    Pipeline,
    result_json,
)
from node.pipeline.model_formats import load_model, model_kind
from node.pipeline.targets import target_disclosure


class ModelStore:
    """Registered models: rows in the database, loaded models cached in memory."""

    def __init__(self, engine: Engine, circuit_classes: int) -> None:
        self.engine = engine
        self.circuit_classes = circuit_classes
        self._loaded: dict[str, LoadedModel] = {}
        self._calibrations: dict[str, Any] = {}

    async def load(self, data: bytes) -> LoadedModel:
        """Check and load a model upload (nothing stored)."""
        if not data:
            raise BadRequest("empty model body: POST the ONNX file or the torch.export .pt2 program")
        return await asyncio.to_thread(load_model, data)

    async def register(self, data: bytes, name: str) -> dict[str, Any]:
        model = await self.load(data)
        if model.num_classes > self.circuit_classes:
            raise BadRequest(f"model has {model.num_classes} classes; this node's commitment circuit holds at most "
                             f"{self.circuit_classes}")
        key = "0x" + model.model_hash.hex()
        row = db.ModelRow(model_hash=key, name=name, kind=model_kind(data), data=data,
                          input_shape=json.dumps(list(model.input_shape)), num_classes=model.num_classes)
        await asyncio.to_thread(db.put, self.engine, row)
        self._loaded[key] = model
        return model_json(row)

    async def get(self, model_hash: str) -> LoadedModel:
        key = model_hash.lower()
        if key not in self._loaded:
            row = await asyncio.to_thread(db.get_model, self.engine, key)
            if row is None:
                raise UnknownModel(f"no model registered with hash {model_hash}")
            self._loaded[key] = await asyncio.to_thread(load_model, row.data)
        return self._loaded[key]

    async def calibration(self, model_hash: str) -> Any:
        """The model's OOD calibration, or None when none was fitted."""
        key = model_hash.lower()
        if key not in self._calibrations:
            from node.pipeline.assessment import calibration_from_bytes

            row = await asyncio.to_thread(db.get_calibration, self.engine, key)
            self._calibrations[key] = calibration_from_bytes(row.data) if row is not None else None
        return self._calibrations[key]

    async def calibrate(self, model_hash: str, body: Any) -> dict[str, Any]:
        """Fit the OOD calibration on reference (training) inputs: {"inputs": [[...], ...], "labels": [...]?}."""
        from node.pipeline.assessment import (
            calibration_to_bytes,
            fit_calibration,
        )

        model = await self.get(model_hash)
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or len(body["inputs"]) < 20:
            raise BadRequest('body must be {"inputs": [<at least 20 reference inputs>], "labels": [...] (optional)}')
        x = np.stack([to_input_array(v, model.input_shape) for v in body["inputs"]])
        model.batch(x)
        labels = body.get("labels")
        y = None
        if labels is not None:
            if not isinstance(labels, list) or len(labels) != len(x) or not all(
                    isinstance(v, int) and not isinstance(v, bool) and 0 <= v < model.num_classes for v in labels):
                raise BadRequest(f"labels must be {len(x)} class indices in 0..{model.num_classes - 1}")
            y = np.asarray(labels)
        cal = await asyncio.to_thread(fit_calibration, model, x, y)
        row = db.CalibrationRow(model_hash=model_hash.lower(), data=calibration_to_bytes(cal), samples=len(x))
        await asyncio.to_thread(db.put, self.engine, row)
        self._calibrations[model_hash.lower()] = cal
        return {"model_hash": model_hash.lower(), "samples": len(x), "status": "calibrated"}

    async def evaluate(self, model_hash: str, body: Any) -> dict[str, Any]:
        """Batch explanation-quality evaluation: {"inputs": [...], "method": "..."}."""
        from node.pipeline.assessment import evaluate

        model = await self.get(model_hash)
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list) or not 1 <= len(body["inputs"]) <= 256:
            raise BadRequest('body must be {"inputs": [1..256 inputs], "method": "<name>"}')
        method = body.get("method", "lrp_epsilon_0_1")
        if not isinstance(method, str):
            raise BadRequest("method must be a string")
        parse_method(method)
        x = np.stack([to_input_array(v, model.input_shape) for v in body["inputs"]])
        return await asyncio.to_thread(evaluate, model, x, method)

    async def list(self) -> list[dict[str, Any]]:
        return [model_json(r) for r in await asyncio.to_thread(db.list_models, self.engine)]


def model_json(row: db.ModelRow) -> dict[str, Any]:
    return {"model_hash": row.model_hash, "name": row.name, "kind": row.kind,
            "input_shape": json.loads(row.input_shape), "num_classes": row.num_classes}


class NodeService:
    def __init__(self, config: NodeConfig, engine: Engine, models: ModelStore, pipeline: Pipeline,
                 chain: ChainInfo) -> None:
        self.config, self.engine, self.models, self.pipeline, self.chain = config, engine, models, pipeline, chain

    async def register_model(self, data: bytes, name: str, level: str, method: str | None) -> dict[str, Any]:
        """Register a model at ``level``: commitment (today's behaviour), or a proven level (quantized, its circuit,
        keys, verifier and registry: :mod:`node.pipeline.levels`; UnsupportedModel -> 422 naming the layer, nothing
        stored: the model can still be registered at level commitment)."""
        level = parse_level(level)
        if level == COMMITMENT:
            return await self.models.register(data, name) | {"level": COMMITMENT}
        if self.pipeline.proven is None:
            raise BadRequest("this node does not attest at proven levels")
        if method is not None:
            parse_method(method)
        model = await self.models.load(data)
        proven = await self.pipeline.proven.register(model, level, method)
        return await self.models.register(data, name) | {"level": level, "proven": proven.to_json()}

    async def attest(self, body: Any, *, wait: bool, request_id: str | None = None) -> tuple[int, dict[str, Any]]:
        """Validate, store and queue one request. 202 + request id, or with ``wait`` 201 + the result."""
        model_hash, raw_input, method, want_quality = parse_attest_body(body, self.config)
        model = await self.models.get(model_hash)
        x = to_input_array(raw_input, model.input_shape)
        model.batch(x)  # token ids: whole numbers within the vocabulary (InvalidInput -> 400), before anything is stored
        asked = body.get("level")
        if asked is not None:
            parse_level(asked)
        proven = (self.pipeline.proven.for_request(model_hash, asked, body.get("method"))
                  if self.pipeline.proven is not None else None)
        if proven is None and asked not in (None, COMMITMENT):
            raise BadRequest(f"this node does not attest at level {asked}")
        level = COMMITMENT
        if proven is not None:
            if self.pipeline.batches is not None:
                raise BadRequest(f"batch mode attests at level commitment only: model {model_hash} is registered at "
                                 f"level {proven.row.level}; send \"level\": \"commitment\" or run the node in "
                                 "single mode")
            level, method = proven.row.level, proven.row.method or method
        row = db.AttestationRow(request_id=request_id or str(uuid.uuid4()), model_hash=model_hash.lower(),
                                method=method, input_json=json.dumps({"x": x.tolist(), "quality": want_quality}),
                                level=level)
        waiter = self.pipeline.waiters.add(row.request_id) if wait else None
        row = await self.pipeline.accept(row)
        if waiter is None:
            return 202, {"request_id": row.request_id, "status": row.status,
                         "links": {"self": f"/v1/attestations/{row.request_id}"}}
        try:
            result = await asyncio.wait_for(asyncio.shield(waiter), self.config.wait_timeout_s)
        except asyncio.TimeoutError:
            return 202, {"request_id": row.request_id, "status": "pending",
                         "links": {"self": f"/v1/attestations/{row.request_id}"}}
        return (201 if result["status"] == "attested" else 422), result

    async def attestation(self, key: str) -> dict[str, Any]:
        row = await self._row(key)
        out = result_json(row, await asyncio.to_thread(db.submissions_of, self.engine, row.request_id))
        out.pop("disclosure", None)
        return out | {"model_hash": row.model_hash, "method": row.method, "level": row.level or COMMITMENT,
                      "created_at": row.created_at.isoformat()}

    async def revoke(self, key: str, body: Any) -> dict[str, Any]:
        """Revoke an attestation on chain (e.g. its input was found invalid); verifiers and consumers see it.

        A batched prediction is revoked in the batch registry: its slot (``revokeLeaf``), or with
        ``{"scope": "batch"}`` its whole batch (``revokeBatch``, every member row becomes ``revoked``)."""
        reason = _reason(body)
        scope = _scope(body)
        row = await self._row(key)
        if row.status != "attested" or row.attestation_id is None:
            raise BadRequest(f"request {key} is not attested (status {row.status}); nothing to revoke")
        if row.batch_key is not None:
            return await self._revoke_batched(row, reason, scope)
        if scope != "leaf":
            raise BadRequest(f'request {key} was not attested in a batch: "scope" must be "leaf" (or absent)')
        chain, registry = self.pipeline.record_chain(row)  # a proven level: the model's own registry
        recorded = Disclosure.from_json(json.loads(row.disclosure)).chain if row.disclosure else None
        if recorded is not None and recorded.registry.lower() != registry.lower():
            raise RecordElsewhere(f"request {key} was attested in registry {recorded.registry}; this node now attests "
                                  f"its {row.level or COMMITMENT}-level records in {registry} (redeployed): the old "
                                  "record cannot be revoked from here")
        revocation = await chain.revoke(row.attestation_id, reason)
        db.touch(row, status="revoked", error=f"revoked on chain, reason code {reason}")
        await asyncio.to_thread(db.put, self.engine, row)
        return {"attestation_id": row.attestation_id, "status": "revoked", "reason": reason,
                "tx_hash": revocation.tx_id, "gas_used": revocation.cost}

    async def _revoke_batched(self, row: db.AttestationRow, reason: int, scope: str) -> dict[str, Any]:
        batches = self._batch_chain()
        if row.disclosure is None:
            raise BadRequest(f"request {row.request_id} has no batch record yet; nothing to revoke")
        ref = Disclosure.from_json(json.loads(row.disclosure)).batch
        if ref is None:
            raise BadRequest(f"request {row.request_id} has no batch section; cannot locate its slot")
        registry = batches.batch_ref.registry
        if ref.registry.lower() != registry.lower():
            raise BadRequest(f"request {row.request_id} was attested in batch registry {ref.registry}, this node uses "
                             f"{registry}")
        if scope == "batch":
            revocation = await batches.revoke_batch(ref.root, reason)
            rows = [r for r in await asyncio.to_thread(db.batch_members, self.engine, row.batch_key)
                    if r.status == "attested"]
        else:
            revocation = await batches.revoke_leaf(ref.root, ref.index, reason)
            rows = [row]
        for r in rows:
            db.touch(r, status="revoked", error=f"revoked on chain ({scope} of batch {ref.batch_id}), "
                                                f"reason code {reason}")
        await asyncio.to_thread(db.put_all, self.engine, rows)
        return {"attestation_id": row.attestation_id, "status": "revoked", "reason": reason, "scope": scope,
                "batch_id": ref.batch_id, "index": ref.index, "revoked": sorted(r.request_id for r in rows),
                "tx_hash": revocation.tx_id, "gas_used": revocation.cost}

    async def revoke_model(self, model_hash: str, body: Any) -> dict[str, Any]:
        """Revoke every attestation of a model, past and future (registry owner only), in every registry that records
        it: the primary one, in batch mode the batch registry, and the registry of each of its proven levels (a
        registry where it already is revoked is skipped; AlreadyRevoked only when it is in all of them)."""
        reason = _reason(body, default=1)
        await self.models.get(model_hash)
        model = bytes.fromhex(model_hash[2:])
        target = self.pipeline.target
        if not isinstance(target, ModelRevoking):
            raise BadRequest(f"the {target.kind} chain has no model revocation")
        batches = self.pipeline.batches.chain if self.pipeline.batches is not None else None
        if batches is not None and not isinstance(batches, BatchModelRevoking):
            raise BadRequest(f"the {batches.kind} chain has no model revocation in its batch registry")
        proven = self.pipeline.proven.of_model(model_hash) if self.pipeline.proven is not None else []
        out: dict[str, Any] = {"model_hash": model_hash.lower(), "status": "revoked", "reason": reason,
                               "tx_hash": None, "gas_used": 0}
        registries, already = 1 + (batches is not None) + len(proven), 0
        try:
            single = await target.revoke_model(model, reason)
            out |= {"tx_hash": single.tx_id, "gas_used": single.cost}
        except AlreadyRevoked:
            already += 1
        if batches is not None:
            try:
                batch = await batches.revoke_batched_model(model, reason)
                out["batch_registry"] = {"tx_hash": batch.tx_id, "gas_used": batch.cost}
            except AlreadyRevoked:
                already += 1
        if proven:
            out["proven"] = []
        for p in proven:
            entry: dict[str, Any] = {"level": p.row.level, "method": p.row.method or None,
                                     "registry": p.row.registry_address}
            chain = p.chain
            if not isinstance(chain, ModelRevoking):  # pragma: no cover - a sibling of the primary, which revokes
                raise BadRequest(f"the {chain.kind} chain has no model revocation")
            try:
                done = await chain.revoke_model(model, reason)
                entry |= {"tx_hash": done.tx_id, "gas_used": done.cost}
            except AlreadyRevoked:
                already += 1
                entry["already_revoked"] = True
            out["proven"].append(entry)
        if already == registries:
            raise AlreadyRevoked(f"model {model_hash.lower()} is already revoked in every registry of this node")
        return out

    def _batch_chain(self) -> BatchChain:
        if self.pipeline.batches is None:
            raise BadRequest("this prediction was attested in a batch, but this node does not run in batch mode: "
                             "restart it with attestation_mode batch to revoke it")
        return self.pipeline.batches.chain

    async def disclosure(self, key: str, chain: str | None = None) -> dict[str, Any]:
        """The disclosure bundle of the primary (Ethereum) record, or of the record on ``chain``."""
        row = await self._row(key)
        if chain is not None and chain != "ethereum":
            sub = await asyncio.to_thread(db.get_submission, self.engine, row.request_id, chain)
            if sub is None:
                raise UnknownAttestation(f"request {row.request_id} is not recorded on {chain}")
            if sub.status != "attested":
                raise UnknownAttestation(f"request {row.request_id} is not attested on {chain} yet (status {sub.status})")
            return target_disclosure(row, sub).to_json()
        if row.disclosure is None:
            raise UnknownAttestation(f"attestation {key} has no disclosure yet (status {row.status})")
        return Disclosure.from_json(json.loads(row.disclosure)).to_json()

    async def _row(self, key: str) -> db.AttestationRow:
        row = await asyncio.to_thread(db.get_attestation, self.engine, key.lower() if key.startswith("0x") else key)
        if row is None:
            raise UnknownAttestation(f"no attestation or request {key}")
        return row


class RecordElsewhere(BadRequest):
    """The record is in a registry this node no longer attests in (its level registry was deployed again)."""

    status = 409
    code = "record_in_another_registry"


def _reason(body: Any, default: int = 0) -> int:
    reason = body.get("reason", default) if isinstance(body, dict) else None
    if isinstance(reason, bool) or not isinstance(reason, int) or not 0 <= reason < 2**16:
        raise BadRequest('body must be {"reason": <0..65535>} (1 model faulty, 2 input invalid, 3 key compromised, '
                         '4 superseded)')
    return reason


def _scope(body: Any) -> str:
    scope = body.get("scope", "leaf") if isinstance(body, dict) else "leaf"
    if scope not in ("leaf", "batch"):
        raise BadRequest('"scope" must be "leaf" (this prediction) or "batch" (its whole batch; batch mode only)')
    return str(scope)


def parse_attest_body(body: Any, config: NodeConfig) -> tuple[str, Any, str, bool]:
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object: {\"model_hash\": \"0x..\", \"input\": [...], \"method\": \"...\"}")
    unknown = set(body) - {"model_hash", "input", "method", "quality", "level"}
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
        raise BadRequest("method must be a non-empty string")
    parse_method(method)  # UnknownMethod -> 400 before anything is stored
    if "input" not in body:
        raise BadRequest("missing field: input")
    want_quality = body.get("quality", False)
    if not isinstance(want_quality, bool):
        raise BadRequest("quality must be true or false")
    return model_hash, body["input"], method, want_quality


#: Largest magnitude of an input value: float32's maximum (the model runs in float32).
FLOAT32_MAX = float(np.finfo(np.float32).max)


def to_input_array(raw: Any, shape: tuple[int, ...]) -> np.ndarray:
    """Validate a JSON input against the model's per-sample shape: numbers only (JSON numbers, never ``true`` /
    ``false``), finite, within float32's range (huge integers included), exact shape."""
    if not isinstance(raw, list):
        raise BadRequest("input must be a (nested) list of numbers")
    try:
        cells = np.asarray(raw, dtype=object)
    except ValueError:
        raise BadRequest("input must be a (nested) list of numbers with a regular shape") from None
    kinds = set(map(type, cells.ravel().tolist()))
    if not kinds <= {int, float}:
        found = sorted(k.__name__ for k in kinds - {int, float})
        raise BadRequest(f"input must hold numbers only (JSON numbers; true / false are not numbers), found {', '.join(found)}")
    try:
        x = cells.astype(np.float64)
    except OverflowError:
        raise BadRequest(f"input holds a number beyond float32's range (|x| <= {FLOAT32_MAX:.7g})") from None
    if x.size == 0:
        raise BadRequest("input must not be empty")
    if tuple(x.shape) != tuple(shape):
        if x.ndim == 1 and x.size == math.prod(shape):
            x = x.reshape(shape)
        else:
            raise BadRequest(f"input has shape {list(x.shape)}, the model expects {list(shape)}")
    if not np.all(np.isfinite(x)):
        raise BadRequest("input holds NaN or infinite values")
    if np.any(np.abs(x) > FLOAT32_MAX):
        raise BadRequest(f"input holds a number beyond float32's range (|x| <= {FLOAT32_MAX:.7g})")
    return x.astype(np.float32)


__all__ = ["ExplainerError", "ModelStore", "NodeService", "ChainInfo"]
