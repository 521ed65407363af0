"""Prometheus metrics of one node (a registry per app, so tests and several apps in one process don't clash).

Chain metrics carry a ``chain`` label (``ethereum``, ``aleo``, ``icp``: the adapter's ``kind``): attestations, gas /
fees, failures and stage latencies. Stages that involve no chain (inference, total; failures at intake or
inference) have ``chain=""``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

STAGES = ("inference", "prove", "submit", "total")
_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 300)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.requests = Counter("zkxai_requests", "Attestation requests accepted", registry=r)
        self.rejected = Counter("zkxai_requests_rejected", "Requests refused", ["reason"], registry=r)
        self.attested = Counter("zkxai_attestations", "Predictions attested, per chain", ["chain"], registry=r)
        self.failures = Counter("zkxai_failures", "Pipeline failures", ["stage", "chain"], registry=r)
        self.proofs = Counter("zkxai_proofs", "Groth16 proofs generated", registry=r)
        self.gas = Counter("zkxai_gas_used", "Gas (the chain's fee unit) spent by attestation transactions, per chain",
                           ["chain"], registry=r)
        self.queue = Gauge("zkxai_queue_depth", "Requests waiting per stage", ["stage"], registry=r)
        self.latency = Histogram("zkxai_stage_seconds", "Stage latency", ["stage", "chain"], buckets=_BUCKETS,
                                 registry=r)
        self.signer_funded = Gauge("zkxai_signer_funded", "1 while the chain's signer can pay for its next transaction "
                                   "at current fees, 0 while submission is stopped for lack of funds", ["chain"],
                                   registry=r)
        self.batch = Histogram("zkxai_inference_batch_size", "Requests per model call",
                               buckets=(1, 2, 4, 8, 16, 32, 64), registry=r)

    def failure(self, stage: str, chain: str = "") -> None:
        """Count one failure (or retry) at ``stage`` on ``chain`` ("" when no chain is involved)."""
        self.failures.labels(stage, chain).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
