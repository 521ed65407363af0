"""Read-only queries behind the operator console (``/console``): queues, recent requests, failures, gas, throughput."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from node.store.db import AttestationRow, BatchRow, DeploymentRow, ProvenModelRow, SubmissionRow

#: Statuses an attestation row passes through, in order (the console's stage columns).
STAGES = ("received", "prepared", "proved", "submitted", "batched", "attested", "failed", "rejected", "revoked")


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.replace(tzinfo=t.tzinfo or timezone.utc).isoformat()


def _timings(raw: str | None) -> dict[str, Any]:
    try:
        out = json.loads(raw or "{}")
    except ValueError:
        return {}
    return out if isinstance(out, dict) else {}


def queues(engine: Engine) -> dict[str, Any]:
    """Rows per stage: attestation requests, batches (batch mode) and per extra chain target."""
    with Session(engine) as s:
        requests = {st: int(n) for st, n in s.exec(select(AttestationRow.status, func.count()).group_by(AttestationRow.status))}  # type: ignore[call-overload]
        batches = {st: int(n) for st, n in s.exec(select(BatchRow.status, func.count()).group_by(BatchRow.status))}  # type: ignore[call-overload]
        targets: dict[str, dict[str, int]] = {}
        for chain, st, n in s.exec(select(SubmissionRow.chain, SubmissionRow.status, func.count())  # type: ignore[call-overload]
                                   .group_by(SubmissionRow.chain, SubmissionRow.status)):
            targets.setdefault(chain, {})[st] = int(n)
    return {"requests": requests, "batches": batches, "targets": targets}


def request_json(row: AttestationRow) -> dict[str, Any]:
    """One request as the console lists it (no disclosed data, no salts)."""
    return {"request_id": row.request_id, "attestation_id": row.attestation_id, "status": row.status,
            "model_hash": row.model_hash, "method": row.method, "level": row.level or "commitment",
            "predicted_class": row.predicted_class, "tx_hash": row.tx_hash, "block_number": row.block_number,
            "gas_used": row.gas_used, "attempts": row.attempts, "error": row.error, "timings": _timings(row.timings),
            "created_at": _iso(row.created_at), "updated_at": _iso(row.updated_at)}


def recent(engine: Engine, limit: int = 25) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.exec(select(AttestationRow).order_by(AttestationRow.id.desc()).limit(limit))  # type: ignore[union-attr]
        return [request_json(r) for r in rows]


def failures(engine: Engine, limit: int = 10) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.exec(select(AttestationRow).where(AttestationRow.status.in_(("failed", "rejected")))  # type: ignore[attr-defined]
                      .order_by(AttestationRow.id.desc()).limit(limit))  # type: ignore[union-attr]
        return [request_json(r) for r in rows]


def gas_and_throughput(engine: Engine, window_s: int = 600) -> dict[str, Any]:
    """Gas spent (total, and per attested request in the window) and proofs made in the last ``window_s`` seconds."""
    since = datetime.now(timezone.utc) - timedelta(seconds=window_s)
    with Session(engine) as s:
        total = s.exec(select(func.coalesce(func.sum(AttestationRow.gas_used), 0))).one()  # type: ignore[call-overload]
        batch_total = s.exec(select(func.coalesce(func.sum(BatchRow.gas_used), 0))).one()  # type: ignore[call-overload]
        rows = list(s.exec(select(AttestationRow).where(AttestationRow.updated_at >= since)
                           .where(AttestationRow.status.in_(("proved", "submitted", "batched", "attested", "revoked")))))  # type: ignore[attr-defined]
    proofs = [t["prove_s"] for t in (_timings(r.timings) for r in rows) if isinstance(t.get("prove_s"), (int, float))]
    series = sorted(((_iso(r.updated_at), r.gas_used) for r in rows if r.gas_used), key=lambda x: x[0] or "")
    return {"gas_total": int(total) + int(batch_total), "gas_series": [{"at": a, "gas": g} for a, g in series[-50:]],
            "proofs_in_window": len(proofs), "window_s": window_s,
            "proofs_per_min": round(len(proofs) * 60 / window_s, 2),
            "mean_prove_s": round(sum(proofs) / len(proofs), 3) if proofs else None}


def deployments(engine: Engine) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = list(s.exec(select(DeploymentRow)))
        proven = list(s.exec(select(ProvenModelRow)))
    return ([{"kind": d.kind, "chain_id": d.chain_id, "address": d.address, "verifier": d.verifier,
              "vk_sha256": d.vk_digest, "block": d.block, "embedded": d.embedded, "batch_size": d.batch_size}
             for d in rows]
            + [{"kind": f"proven:{p.level}" + (f":{p.method}" if p.method else ""), "chain_id": p.chain_id,
                "address": p.registry_address, "verifier": p.verifier, "vk_sha256": p.vk_sha256,
                "model_hash": p.model_hash, "embedded": False} for p in proven])


def find_public(engine: Engine, key: str) -> AttestationRow | None:
    """The row of an on-chain attestation id or of the transaction that made it (never by request id: request ids
    are the submitter's)."""
    with Session(engine, expire_on_commit=False) as s:
        return s.exec(select(AttestationRow).where((AttestationRow.attestation_id == key) | (AttestationRow.tx_hash == key))
                      .order_by(AttestationRow.id.desc())).first()  # type: ignore[union-attr]
