"""Loading the node's configuration: TOML file + secrets file + ``ZKXAI_*`` environment overrides.

Every key is checked: an unknown section or key, or a value of the wrong type, stops the node at start
with a message naming it. ``zkxai node init`` writes :data:`DEFAULT_TOML` (commented) and a secrets file.
"""

from __future__ import annotations

import os
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from node.config import NodeConfig
from node.errors import ConfigError
from node.keystore import (
    create_keystore,
    load_private_key,
)

#: (section, key) -> (NodeConfig field, type)
SCHEMA: dict[tuple[str, str], tuple[str, type]] = {
    ("node", "host"): ("host", str),
    ("node", "port"): ("port", int),
    ("node", "data_dir"): ("data_dir", str),
    ("database", "url"): ("database_url", str),
    ("chain", "rpc_url"): ("rpc_url", str),
    ("chain", "registry"): ("registry", str),
    ("chain", "batch_registry"): ("batch_registry", str),
    ("chain", "confirmations"): ("confirmations", int),
    ("chain", "fee_bump_after_s"): ("fee_bump_after_s", float),
    ("chain", "max_fee_gwei"): ("max_fee_gwei", float),
    ("chain", "tip_percentile"): ("tip_percentile", float),
    ("chain", "base_fee_headroom"): ("base_fee_headroom", float),
    ("chain", "min_tip_gwei"): ("min_tip_gwei", float),
    ("chain", "max_tip_gwei"): ("max_tip_gwei", float),
    ("chain", "rpc_fallback_urls"): ("rpc_fallback_urls", list),
    ("chain", "rpc_request_timeout_s"): ("rpc_request_timeout_s", float),
    ("chain", "rpc_max_attempts"): ("rpc_max_attempts", int),
    ("chain", "logs_window_blocks"): ("logs_window_blocks", int),
    ("chain", "max_in_flight"): ("max_in_flight", int),
    ("chain", "network"): ("network", str),
    ("chain", "chain_id"): ("chain_id", int),
    ("chain", "explorer_url"): ("explorer_url", str),
    ("chain", "keystore"): ("", str),
    ("prover", "workers"): ("prover_workers", int),
    ("prover", "backend"): ("prover_backend", str),
    ("prover", "circuit_classes"): ("circuit_classes", int),
    ("prover", "zkey"): ("prover_zkey", str),
    ("prover", "ray_address"): ("ray_address", str),
    ("cluster", "enabled"): ("cluster_enabled", bool),
    ("cluster", "replica_id"): ("replica_id", str),
    ("cluster", "lease_s"): ("cluster_lease_s", float),
    ("pipeline", "inference_batch_size"): ("inference_batch_size", int),
    ("pipeline", "inference_batch_latency_ms"): ("inference_batch_latency_ms", int),
    ("pipeline", "attestation_mode"): ("attestation_mode", str),
    ("pipeline", "batch_size"): ("batch_size", int),
    ("pipeline", "batch_latency_ms"): ("batch_latency_ms", int),
    ("pipeline", "queue_size"): ("queue_size", int),
    ("pipeline", "wait_timeout_s"): ("wait_timeout_s", float),
    ("api", "max_body_bytes"): ("max_body_bytes", int),
    ("api", "max_model_bytes"): ("max_model_bytes", int),
    ("api", "default_method"): ("default_method", str),
    ("api", "header_timeout_s"): ("header_timeout_s", float),
    ("api", "body_timeout_s"): ("body_timeout_s", float),
    ("api", "max_connections"): ("max_connections", int),
    ("api", "backlog"): ("backlog", int),
    ("rpc", "gas_cap"): ("rpc_gas_cap", int),
    ("rpc", "timeout_s"): ("rpc_timeout_s", float),
    ("rpc", "rate_per_s"): ("rpc_rate_per_s", float),
    ("rpc", "burst"): ("rpc_burst", int),
    ("chains", "targets"): ("chain_targets", list),
}
#: Sections handed whole to a chain's own settings (checked when the node opens that chain).
CHAIN_SECTIONS = ("aleo", "icp")
SECRET_KEYS = {"keystore_password": str, "api_keys": list, "admin_key": str, "private_key": str,
               "aleo_private_key": str}

DEFAULT_TOML = """\
# zkxai node configuration. Every key can be overridden by an environment variable
# ZKXAI_<SECTION>_<KEY> (e.g. ZKXAI_CHAIN_RPC_URL) and by the matching command-line flag.
# Secrets never go here: they live in the secrets file (see --secrets, default secrets.toml beside this file).

[node]
host = "127.0.0.1"          # listen address; put a TLS reverse proxy in front for anything but loopback
port = 8080
data_dir = "{data_dir}"     # SQLite database, circuit keys, logs

[database]
# url = "postgresql+psycopg://zkxai@localhost/zkxai"   # default: SQLite in data_dir

[chain]
# rpc_url = "http://127.0.0.1:8545"     # default: an embedded in-process EVM (development only)
# registry = "0x..."                    # attach to a deployed registry; default: the one this node deployed on
                                        # this chain before (remembered in its database, checked at start), else
                                        # deploy one and remember it (`zkxai node --redeploy` after a chain reset)
# batch_registry = "0x..."              # batch mode: attach to a deployed BatchAttestationRegistry (its
                                        # verifier must hold this node's batch key); default: as for registry,
                                        # one per batch size
keystore = "{keystore}"                 # eth-account keystore (scrypt); password in the secrets file
confirmations = 1                       # blocks an attestation must be deep before it is final (status attested);
                                        # until then it is "submitted", and re-submitted if a reorg drops it
fee_bump_after_s = 15.0                 # a transaction without receipt this long is re-sent with fees +12.5%
max_fee_gwei = 100.0                    # ... up to this max fee per gas

[prover]
workers = 1                  # prover processes; proving is CPU-bound, use cores - 1
circuit_classes = 10         # class slots of the commitment circuit (models with fewer classes are padded)
# zkey = "ceremony/commitment_final.zkey"  # a snarkjs ceremony key for the commitment circuit (zkxai keys
                             # export-r1cs gives the circuit), imported at the first start; default: a
                             # development setup whose toxic waste this node generated (not for production)
# backend = "processes"      # or "threads", or "ray": proofs on a Ray cluster (pip install zkxai[cluster])
# ray_address = "127.0.0.1:6379"  # with backend = "ray": the head (`ray start --head`); default: a local Ray

# [cluster]                  # several replicas on one PostgreSQL ([database] url) and one chain RPC
# enabled = true             # rows are claimed per replica; one replica per chain signs (a lease in the database)
# replica_id = "node-a"      # stable per replica (a restart takes its own rows back at once); default host:port
# lease_s = 5.0              # a dead replica's rows and submitter lease move to another after this long

[pipeline]
inference_batch_size = 16    # requests that share one model call ...
inference_batch_latency_ms = 20  # ... waiting at most this long for company
attestation_mode = "single"  # "single": one proof + one transaction per prediction;
                             # "batch": up to batch_size predictions share one proof + one attestBatch transaction
                             # (~320k gas per batch instead of ~346k per prediction), each keeping its Merkle path
batch_size = 8               # batch mode: slots of the batch circuit, a power of two in 2..64 (8: ~20k constraints)
batch_latency_ms = 5000      # batch mode: the first waiting prediction waits at most this long for company
queue_size = 64              # accepted-but-unfinished requests; beyond it the API answers 503 + Retry-After
wait_timeout_s = 900.0       # how long ?wait=true holds a request open

[api]
max_body_bytes = 4194304
max_model_bytes = 268435456
default_method = "lrp_epsilon_0_1"
header_timeout_s = 10.0      # a connection that has not sent a request's headers this long is closed
body_timeout_s = 30.0        # a request body not received within this is refused (408) and the connection closed
max_connections = 256        # connections served at once; more get 503 and are closed
backlog = 128                # listen backlog

[rpc]                        # /rpc: read-only JSON-RPC of the embedded chain (mounted in embedded mode only)
gas_cap = 1000000            # gas of one eth_call / eth_estimateGas execution (an endless loop stops here)
timeout_s = 5.0              # a call not answered within this gets an error
rate_per_s = 20.0            # token bucket per client IP: requests per second ...
burst = 60                   # ... and burst; beyond it 429 + Retry-After

[chains]
targets = ["ethereum"]       # also record every prediction on "aleo" and/or "icp" (each configured below); each
                             # chain gets its own proof (bound to that chain) and its own persisted, retried rows

# [aleo]                     # the registry program contracts/aleo/zkxai_registry.aleo, deployed beforehand
# endpoint = "https://api.explorer.provable.com"   # a snarkOS REST v2 base (routes /v2/{{network}}/...)
# network = "testnet"
# prover_url = "https://..." # delegated prover (POST {{prover_url}}/{{network}}/prove); prover_token = "<JWT>"
# keystore = "aleo-key.json" # the Aleo account paying the fees (or secrets aleo_private_key); the records are
                             # signed by this node's Ethereum attester key, checked by the program

# [icp]                      # the registry canister contracts/icp/build/registry.wasm, deployed with dfx
# url = "https://icp-api.io"
# canister = "xxxxx-xxxxx-xxxxx-xxxxx-cai"
# root_key = "308182..."     # the replica's root key (DER hex): the IC mainnet key, or `dfx ping`'s locally
# identity = "icp-identity.json"  # Ed25519 identity keystore (its principal is the attester)
"""

SECRETS_TOML = """\
# zkxai node secrets: keep this file private (chmod 600), out of version control.
keystore_password = "{password}"
api_keys = ["{api_key}"]     # submitters send: Authorization: Bearer <key>
admin_key = "{admin_key}"    # for admin endpoints (/metrics, node status details)
"""


def write_default_config(directory: Path, network: str = "local") -> tuple[Path, Path, str]:
    """``zkxai node init``: config, secrets and a fresh encrypted keystore. Refuses to overwrite. ``network``: a
    preset of :mod:`node.networks` whose [chain] keys are written (chain id, confirmations, fees,
    explorer)."""
    from node.networks import preset

    try:
        chosen = preset(network)
    except KeyError as exc:
        raise ConfigError(str(exc.args[0])) from None
    directory = directory.resolve()
    config_path, secrets_path = directory / "zkxai.toml", directory / "secrets.toml"
    for path in (config_path, secrets_path):
        if path.exists():
            raise ConfigError(f"{path} already exists; refusing to overwrite")
    directory.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    keystore = directory / "keystore.json"
    address = create_keystore(keystore, password)
    text = DEFAULT_TOML.format(data_dir=directory / "data", keystore=keystore)
    for key in ("confirmations", "max_fee_gwei"):  # set by the preset below
        text = re.sub(rf"^({key} = .*)$", r"# \1", text, count=1, flags=re.M)
    lines = [f"# network preset: {chosen.name} (zkxai node init --network; review before use)", *chosen.toml_lines()]
    text = text.replace("[chain]\n", "[chain]\n" + "\n".join(lines) + "\n", 1)
    config_path.write_text(text)
    fd = os.open(secrets_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(SECRETS_TOML.format(password=password, api_key=secrets.token_urlsafe(24),
                                     admin_key=secrets.token_urlsafe(24)))
    return config_path, secrets_path, address


def _read_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from None


def _typed(value: Any, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ConfigError(f"{where} must be a {kind.__name__}, got {value!r}")
    return value


def _from_env(env: Mapping[str, str], section: str, key: str, kind: type) -> Any:
    raw = env.get(f"ZKXAI_{section.upper()}_{key.upper()}")
    if raw is None:
        return None
    if kind is list:  # e.g. ZKXAI_CHAINS_TARGETS=ethereum,icp
        return [item.strip() for item in raw.split(",") if item.strip()]
    if kind is bool:  # e.g. ZKXAI_CLUSTER_ENABLED=1
        if raw.strip().lower() not in ("1", "true", "yes", "0", "false", "no"):
            raise ConfigError(f"ZKXAI_{section.upper()}_{key.upper()} must be 1/true/yes or 0/false/no, got {raw!r}")
        return raw.strip().lower() in ("1", "true", "yes")
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"ZKXAI_{section.upper()}_{key.upper()} must be a {kind.__name__}, got {raw!r}") from None


def load_config(config_path: Path | None = None, secrets_path: Path | None = None,
                overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> NodeConfig:
    env = os.environ if env is None else env
    data = _read_toml(config_path, "config file") if config_path else {}
    values: dict[str, Any] = {}
    keystore: str | None = None
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError(f"config: [{section}] must be a table")
        if section in CHAIN_SECTIONS:
            chain_table = dict(table)
            for key in ("keystore", "identity"):  # key files: relative to the config file, like chain.keystore
                if isinstance(chain_table.get(key), str) and not Path(chain_table[key]).is_absolute():
                    chain_table[key] = str(config_path.parent / chain_table[key]) if config_path else chain_table[key]
            values[f"{section}_settings"] = chain_table
            continue
        for key, value in table.items():
            if (section, key) not in SCHEMA:
                raise ConfigError(f"config: unknown key {section}.{key} in {config_path}")
            field_name, kind = SCHEMA[(section, key)]
            value = _typed(value, kind, f"{section}.{key}")
            if field_name:
                values[field_name] = value
            else:
                keystore = value
    for (section, key), (field_name, kind) in SCHEMA.items():
        value = _from_env(env, section, key, kind)
        if value is not None:
            if field_name:
                values[field_name] = value
            else:
                keystore = value
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = value
    if "data_dir" in values:
        values["data_dir"] = Path(values["data_dir"])
    if "prover_zkey" in values:  # an empty value (e.g. ZKXAI_PROVER_ZKEY="") means no zkey
        values["prover_zkey"] = Path(values["prover_zkey"]) if values["prover_zkey"] else None

    if secrets_path is None and config_path is not None and (config_path.parent / "secrets.toml").exists():
        secrets_path = config_path.parent / "secrets.toml"
    secret = _read_toml(secrets_path, "secrets file") if secrets_path else {}
    for key, value in secret.items():
        if key not in SECRET_KEYS:
            raise ConfigError(f"secrets: unknown key {key}")
        _typed(value, SECRET_KEYS[key], f"secrets.{key}")
    api_keys = env.get("ZKXAI_API_KEYS")
    values["api_keys"] = tuple(api_keys.split(",")) if api_keys else tuple(secret.get("api_keys", ()))
    values["admin_key"] = env.get("ZKXAI_ADMIN_KEY") or secret.get("admin_key")
    private_key = env.get("ZKXAI_PRIVATE_KEY") or secret.get("private_key")
    if private_key is None and keystore and values.get("rpc_url"):
        password = env.get("ZKXAI_KEYSTORE_PASSWORD") or secret.get("keystore_password")
        if not password:
            raise ConfigError("chain.keystore is set but no keystore_password (secrets file or ZKXAI_KEYSTORE_PASSWORD)")
        base = config_path.parent if config_path else Path.cwd()
        path = Path(keystore) if Path(keystore).is_absolute() else base / keystore
        private_key = load_private_key(path if path.exists() else Path(keystore), password)
    values["private_key"] = private_key
    values["aleo_private_key"] = env.get("ZKXAI_ALEO_PRIVATE_KEY") or secret.get("aleo_private_key")
    values["keystore_password"] = env.get("ZKXAI_KEYSTORE_PASSWORD") or secret.get("keystore_password")
    if "chain_targets" in values:
        values["chain_targets"] = tuple(values["chain_targets"])
    return NodeConfig(**values)
