"""Recording one proven statement on one chain through the adapter contract, shared by the single-attestation stage
(:mod:`node.pipeline.engine`) and the extra chain targets (:mod:`node.pipeline.targets`).

``find`` first (a record this attester made before a crash or a lost receipt is adopted, another attester's is
reported), then ``submit``; an unreachable chain is waited for however long, other chain errors are retried up to
:data:`MAX_SUBMIT_ATTEMPTS` times (every retry counts), a refusal or another attester's record is final.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from prover.serialize import proof_from_snarkjs

from node.chains.adapter import (
    ChainAdapter,
    ChainAdapterError,
    ChainUnavailable,
    ForeignRecord,
    SignerUnfunded,
    Statement,
    StatementRejected,
    Submitted,
    proof_words,
)
from node.errors import NodeError
from node.pipeline.prepared import Prepared

log = logging.getLogger("zkxai.submit")

#: Submission attempts (retries of any kind) after which a chain error other than an unreachable chain is final.
MAX_SUBMIT_ATTEMPTS = 5
#: Re-submissions after reorgs dropped a record before it was final.
MAX_REORG_RESUBMITS = 5
#: Seconds between balance checks while the signer cannot pay (submission stopped, see ``record``).
UNFUNDED_RECHECK_S = 15.0


class RecordFailed(NodeError):
    """The statement will not be recorded (refused, recorded by another attester, or too many failed attempts)."""

    code = "submit_failed"

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass(frozen=True)
class Recorded:
    """A statement on chain: the record, whether an earlier send made it (``resumed``), the attempts counted."""

    submitted: Submitted
    resumed: bool
    attempts: int


def statement_and_proof(prepared: Prepared, proof_json: str | None) -> tuple[Statement, tuple[int, ...]]:
    """The statement of a prepared prediction and the eight words of its stored snarkjs proof."""
    public = prepared.statement()
    statement = Statement(bytes.fromhex(prepared.model_hash[2:]), public[2], public[3], public[4], public[5])
    proof = proof_from_snarkjs(json.loads(proof_json or "{}"))
    return statement, proof_words(proof)


async def record(target: ChainAdapter, statement: Statement, words: tuple[int, ...], metrics: Any, what: str,
                 attempts: int = 0) -> Recorded:
    """Record ``statement`` on ``target`` (see the module docstring); raises :class:`RecordFailed` when final."""
    delay = 0.5
    unfunded = False
    while True:
        try:
            found = await target.find(statement)
            if found is not None:
                log.info("%s already recorded on %s in %s (resumed)", what, target.kind, found.tx_id)
                return Recorded(found, True, attempts)
            submitted = await target.submit(statement, words)
            if unfunded:
                metrics.signer_funded.labels(target.kind).set(1)
                log.warning("the %s signer can pay again: submission resumed", target.kind)
            return Recorded(submitted, False, attempts)
        except SignerUnfunded as exc:  # a stop, not a failure: nothing was sent, the row stays proved
            metrics.signer_funded.labels(target.kind).set(0)
            if not unfunded:
                metrics.failure("signer_unfunded", target.kind)
                log.error("submission to %s STOPPED: %s (rechecking every %.0f s; /readyz reports it)", target.kind,
                          exc, UNFUNDED_RECHECK_S)
            unfunded = True
            await asyncio.sleep(UNFUNDED_RECHECK_S)
            continue
        except ForeignRecord as exc:
            metrics.failure("foreign_record", target.kind)
            log.error("%s: %s", what, exc)
            raise RecordFailed(str(exc), attempts) from exc
        except StatementRejected as exc:
            raise RecordFailed(str(exc), attempts) from exc
        except ChainUnavailable as exc:  # wait for the chain, however long; the row stays stored as proved
            attempts += 1
            metrics.failure("submit_retry", target.kind)
            log.warning("chain unreachable (%s: %s); retrying in %.1f s", target.kind, exc, delay)
        except ChainAdapterError as exc:  # e.g. no receipt in time: retried a bounded number of times
            attempts += 1
            metrics.failure("submit_retry", target.kind)
            if attempts >= MAX_SUBMIT_ATTEMPTS:
                raise RecordFailed(f"giving up after {attempts} attempts: {exc}", attempts) from exc
            log.warning("%s: submission to %s failed (%s); retrying in %.1f s", what, target.kind, exc, delay)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
