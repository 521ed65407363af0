"""What the API answers about a request: its status and, once attested, a summary of the prediction with its
disclosure bundle."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from node.pipeline.targets import submission_json
from node.store import db
from node.verify.disclosure import Disclosure


def summary(disclosure: Disclosure, gas_used: int | None, timings: dict[str, float]) -> dict[str, Any]:
    d = disclosure
    return {
        "attestation_id": d.attestation_id,
        "model_hash": "0x" + d.model_hash.hex(),
        "predicted_class": d.predicted_class,
        "scores": [s / 65536 for s in d.scores[: d.num_classes]],
        "method": d.method,
        "digests": {"input": str(d.public_inputs[2]), "prediction": str(d.public_inputs[3]),
                    "explanation": str(d.public_inputs[5])},
        "tx_hash": d.chain.tx_hash if d.chain else None,
        "block_number": d.chain.block_number if d.chain else None,
        "gas_used": gas_used,
        "assessment": dict(d.assessment) if d.assessment is not None else None,
        "timings": {k: round(v, 4) for k, v in timings.items()},
    }


def result_json(row: db.AttestationRow, submissions: Sequence[db.SubmissionRow] = ()) -> dict[str, Any]:
    """The API's view of a request, with its records on the extra chains (``chains``) when there are any."""
    base: dict[str, Any] = {"request_id": row.request_id, "status": row.status}
    if row.status == "attested" and row.disclosure:
        d = Disclosure.from_json(json.loads(row.disclosure))
        base |= summary(d, row.gas_used, json.loads(row.timings or "{}"))
        base["registry"] = d.chain.registry if d.chain else None
        base["chain_id"] = d.chain.chain_id if d.chain else None
        if d.batch is not None:
            base["batch"] = d.batch.to_json()
        base["disclosure"] = d.to_json()
    else:
        if row.status == "submitted":  # mined, not yet final
            base |= {"attestation_id": row.attestation_id, "tx_hash": row.tx_hash, "block_number": row.block_number}
        if row.error:
            base["error"] = row.error
    if submissions:
        base["chains"] = [submission_json(s) for s in submissions]
    return base
