"""Node configuration: a frozen dataclass validated at start, with clear messages.

Sources, later ones winning: built-in defaults < TOML config file < ``ZKXAI_*`` environment variables <
command-line flags (see :mod:`node.settings`). Secrets (keystore password, API keys) come from a separate
secrets file or the environment, never from the main config file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.errors import ConfigError

#: The chains a node can record on (``[chains] targets``; node.chains has one subpackage each).
CHAIN_KINDS: tuple[str, ...] = ("ethereum", "aleo", "icp")

#: Class slots of the commitment circuit; models with fewer classes are padded (see node.pipeline.prepared).
DEFAULT_CIRCUIT_CLASSES = 10
#: ``pipeline.attestation_mode`` values: one proof + one transaction per prediction, or per batch of predictions.
ATTESTATION_MODES = ("single", "batch")
#: ``prover.backend`` values: local spawned processes (default), threads in the node, or a Ray cluster.
PROVER_BACKENDS = ("processes", "threads", "ray")
#: Largest batch circuit the node builds (circuits.batch.MAX_BATCH_SIZE).
MAX_BATCH_SIZE = 64


@dataclass(frozen=True)
class NodeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = field(default_factory=lambda: Path("var/node"))
    database_url: str | None = None
    #: None = embedded in-process EVM (eth-tester / py-evm); else any Ethereum JSON-RPC URL.
    rpc_url: str | None = None
    private_key: str | None = field(default=None, repr=False)
    #: Existing registry to attest to; None = the one this node deployed on this chain earlier (remembered in the
    #: database, see node.store.deployments), else deploy a verifier + registry at start and remember it.
    registry: str | None = None
    #: Batch mode: existing BatchAttestationRegistry; None = the one this node deployed on this chain for this batch
    #: size earlier, else deploy one (verifier + Poseidon hashers) and remember it.
    batch_registry: str | None = None
    #: One-shot (command line ``--redeploy`` only): deploy new registries even though deployments are recorded for
    #: this chain (after a chain reset), replacing the records. A configured address still wins.
    redeploy: bool = False
    confirmations: int = 1
    #: Fee bumping of stuck transactions (see node.chains.ethereum.txmanager.FeePolicy).
    fee_bump_after_s: float = 15.0
    max_fee_gwei: float = 100.0
    #: EIP-1559 fees from eth_feeHistory (node.chains.ethereum.fees): the tip is this percentile of recent tips,
    #: clamped to [min_tip_gwei, max_tip_gwei]; the max fee is base_fee_headroom x the next base fee + the tip.
    tip_percentile: float = 50.0
    base_fee_headroom: float = 2.0
    min_tip_gwei: float = 1.0
    max_tip_gwei: float = 5.0
    #: More JSON-RPC endpoints of the same chain, tried in order when chain.rpc_url fails (node.chains.ethereum.provider).
    rpc_fallback_urls: tuple[str, ...] = ()
    #: Seconds one JSON-RPC request may take; attempts per call (429 / 5xx / timeouts back off and fail over).
    rpc_request_timeout_s: float = 30.0
    rpc_max_attempts: int = 8
    #: First eth_getLogs window in blocks (it shrinks on a provider's range / result cap and grows when cheap).
    logs_window_blocks: int = 2_000
    #: Single mode: attestation transactions in flight at once (nonces sent before the earlier ones are mined).
    max_in_flight: int = 1
    #: The network preset this config was written for (zkxai node init --network); informational, and the explorer
    #: base URL for transaction links in logs.
    network: str = "local"
    explorer_url: str = ""
    #: The chain id every RPC endpoint must answer (None: whatever chain.rpc_url is on).
    chain_id: int | None = None
    circuit_classes: int = DEFAULT_CIRCUIT_CLASSES
    prover_workers: int = 1
    #: Where proofs run: "processes" (default: spawned worker processes, one proving key each) or "threads" (in this
    #: process; the native prover releases the GIL: the embedded SDK node uses it, so a user's unguarded script is
    #: not re-run by ``spawn``).
    prover_backend: str = "processes"
    #: ``prover_backend = "ray"``: the Ray cluster's address (``host:port`` of ``ray start --head``, or "auto");
    #: None = a Ray local to this process (development).
    ray_address: str | None = None
    #: Cluster mode (node.pipeline.cluster): several replicas on one database (PostgreSQL) and one chain RPC; rows
    #: are claimed per replica and one replica per chain signs. Off = a single node (the default).
    cluster_enabled: bool = False
    #: This replica's name in row claims and leases; None = ``<hostname>:<port>``. Keep it stable across restarts.
    replica_id: str | None = None
    #: Lease length: a dead replica's claims and submitter lease pass to another replica after about this long.
    cluster_lease_s: float = 5.0
    #: A snarkjs ceremony ``.zkey`` of the commitment circuit, imported at start when the node has no keys yet;
    #: None = a development setup (see node.pipeline.proving).
    prover_zkey: Path | None = None
    #: Inference stage: up to this many requests share one model call, waiting at most batch_latency_ms.
    inference_batch_size: int = 16
    inference_batch_latency_ms: int = 20
    #: "single": one Groth16 proof + one registry transaction per prediction; "batch": up to ``batch_size``
    #: predictions share one batch proof + one ``attestBatch`` transaction (see node.pipeline.batch_stage).
    attestation_mode: str = "single"
    #: Batch mode: slots of the batch circuit (a power of two, 2..64) ...
    batch_size: int = 8
    #: ... and how long the first prepared prediction waits for company before a partial batch is proven.
    batch_latency_ms: int = 5000
    #: Requests accepted but not yet finished; beyond this the API answers 503 with Retry-After.
    queue_size: int = 64
    max_body_bytes: int = 4 * 1024 * 1024
    #: A model upload (``POST /v1/models``, admin only) may be larger: a ResNet-50 program is ~100 MB.
    max_model_bytes: int = 256 * 1024 * 1024
    #: A connection must deliver a request's headers within this many seconds of opening (and of its previous
    #: response, when kept alive), else it is closed; a request body must arrive within body_timeout_s (408).
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    #: Open connections served at once; beyond this a new connection gets 503 and is closed. Listen backlog.
    max_connections: int = 256
    backlog: int = 128
    #: /rpc (embedded chain only): gas per eth_call / eth_estimateGas execution, seconds a call may take before
    #: the client gets an error, and a token bucket per client IP (requests per second, burst).
    rpc_gas_cap: int = 1_000_000
    rpc_timeout_s: float = 5.0
    rpc_rate_per_s: float = 20.0
    rpc_burst: int = 60
    #: Chains every prediction is recorded on: "ethereum" (the registry above, always first) and any of "aleo",
    #: "icp", each with its own section ([aleo], [icp]) and its own persisted rows (node.pipeline.targets).
    chain_targets: tuple[str, ...] = ("ethereum",)
    #: The [aleo] / [icp] sections as given (checked when the node opens the chain: node.api.chain_targets).
    aleo_settings: dict[str, Any] | None = None
    icp_settings: dict[str, Any] | None = None
    #: Aleo account key (secrets ``aleo_private_key`` / ZKXAI_ALEO_PRIVATE_KEY), or [aleo] keystore + the password.
    aleo_private_key: str | None = field(default=None, repr=False)
    #: The password of the Aleo keystore and of the ICP identity keystore (secrets ``keystore_password``).
    keystore_password: str | None = field(default=None, repr=False)
    max_input_values: int = 1 << 20
    default_method: str = "lrp_epsilon_0_1"
    #: Submitter keys (Bearer tokens) for /v1 writes; empty = open (development only, logged at start).
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    admin_key: str | None = field(default=None, repr=False)
    wait_timeout_s: float = 900.0

    def __post_init__(self) -> None:
        if not 0 <= self.port < 65536:
            raise ConfigError(f"node.port must be in 1..65535 (or 0 for any free port), got {self.port}")
        if self.rpc_url is not None and not self.rpc_url.startswith(("http://", "https://")):
            raise ConfigError(f"chain.rpc_url must be an http(s) URL, got {self.rpc_url!r}")
        if self.rpc_url is not None and not self.private_key:
            raise ConfigError(
                "a signing key is required with chain.rpc_url: set chain.keystore (+ keystore_password in the secrets "
                "file or ZKXAI_KEYSTORE_PASSWORD), or ZKXAI_PRIVATE_KEY"
            )
        targets = tuple(self.chain_targets)
        if not targets or targets[0] != "ethereum" or len(set(targets)) != len(targets) or not set(targets) <= set(
                CHAIN_KINDS):
            raise ConfigError(f"chains.targets must start with \"ethereum\" and name each of {', '.join(CHAIN_KINDS)} "
                              f"at most once, got {list(targets)}")
        object.__setattr__(self, "chain_targets", targets)
        for kind in targets[1:]:
            if getattr(self, f"{kind}_settings") is None:
                raise ConfigError(f"chains.targets names {kind}: configure its [{kind}] section")
        if not 2 <= self.circuit_classes <= 14:
            raise ConfigError(f"prover.circuit_classes must be in 2..14, got {self.circuit_classes}")
        if self.prover_workers < 1:
            raise ConfigError("prover.workers must be >= 1")
        if self.prover_backend not in PROVER_BACKENDS:
            raise ConfigError(f'prover.backend must be one of {", ".join(PROVER_BACKENDS)}, got {self.prover_backend!r}')
        if self.ray_address is not None and self.prover_backend != "ray":
            raise ConfigError('prover.ray_address is set but prover.backend is not "ray"')
        if self.cluster_enabled:
            if self.rpc_url is None:
                raise ConfigError("cluster.enabled needs chain.rpc_url: replicas share one chain, not an embedded one")
            if self.attestation_mode != "single" or self.chain_targets != ("ethereum",):
                raise ConfigError('cluster.enabled supports pipeline.attestation_mode = "single" and chains.targets = '
                                  '["ethereum"] only')
            if not 1.0 <= self.cluster_lease_s <= 300.0:
                raise ConfigError(f"cluster.lease_s must be in 1..300, got {self.cluster_lease_s}")
        if self.confirmations < 1:
            raise ConfigError("chain.confirmations must be >= 1 (1 = the including block)")
        if self.fee_bump_after_s <= 0 or self.max_fee_gwei <= 0:
            raise ConfigError("chain.fee_bump_after_s and chain.max_fee_gwei must be > 0")
        if not 0 <= self.tip_percentile <= 100 or self.base_fee_headroom < 1:
            raise ConfigError("chain.tip_percentile must be in 0..100 and chain.base_fee_headroom >= 1")
        if not 0 <= self.min_tip_gwei <= self.max_tip_gwei <= self.max_fee_gwei:
            raise ConfigError("chain: 0 <= min_tip_gwei <= max_tip_gwei <= max_fee_gwei")
        object.__setattr__(self, "rpc_fallback_urls", tuple(self.rpc_fallback_urls))
        for url in self.rpc_fallback_urls:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"chain.rpc_fallback_urls must be http(s) URLs, got {url!r}")
        if self.rpc_request_timeout_s <= 0 or self.rpc_max_attempts < 1:
            raise ConfigError("chain.rpc_request_timeout_s must be > 0 and chain.rpc_max_attempts >= 1")
        if not 1 <= self.logs_window_blocks <= 100_000:
            raise ConfigError("chain.logs_window_blocks must be in 1..100000")
        if not 1 <= self.max_in_flight <= 64:
            raise ConfigError("chain.max_in_flight must be in 1..64")
        if not 1 <= self.inference_batch_size <= 1024:
            raise ConfigError("pipeline.inference_batch_size must be in 1..1024")
        if self.inference_batch_latency_ms < 0:
            raise ConfigError("pipeline.inference_batch_latency_ms must be >= 0")
        if self.attestation_mode not in ATTESTATION_MODES:
            raise ConfigError(f"pipeline.attestation_mode must be one of {ATTESTATION_MODES}, got {self.attestation_mode!r}")
        if not 2 <= self.batch_size <= MAX_BATCH_SIZE or self.batch_size & (self.batch_size - 1):
            raise ConfigError(f"pipeline.batch_size must be a power of two in 2..{MAX_BATCH_SIZE}, got {self.batch_size}")
        if self.batch_latency_ms < 0:
            raise ConfigError("pipeline.batch_latency_ms must be >= 0")
        if self.queue_size < 1:
            raise ConfigError("pipeline.queue_size must be >= 1")
        if self.max_body_bytes < 1024:
            raise ConfigError("api.max_body_bytes must be at least 1024")
        if self.max_model_bytes < self.max_body_bytes:
            raise ConfigError("api.max_model_bytes must be at least api.max_body_bytes")
        if self.header_timeout_s <= 0 or self.body_timeout_s <= 0:
            raise ConfigError("api.header_timeout_s and api.body_timeout_s must be > 0")
        if self.max_connections < 1 or self.backlog < 1:
            raise ConfigError("api.max_connections and api.backlog must be >= 1")
        if not 21_000 <= self.rpc_gas_cap <= 100_000_000:
            raise ConfigError(f"rpc.gas_cap must be in 21000..100000000, got {self.rpc_gas_cap}")
        if self.rpc_timeout_s <= 0 or self.rpc_rate_per_s <= 0 or self.rpc_burst < 1:
            raise ConfigError("rpc.timeout_s and rpc.rate_per_s must be > 0, rpc.burst >= 1")
        for key in (*self.api_keys, *([self.admin_key] if self.admin_key else [])):
            if len(key) < 16:
                raise ConfigError("API keys must be at least 16 characters")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'zkxai.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


def private_key_from_env() -> str | None:
    return os.environ.get("ZKXAI_PRIVATE_KEY") or None
