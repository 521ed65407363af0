"""Node configuration: a frozen dataclass validated at start, with clear messages."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

#: Class slots of the commitment circuit; models with fewer classes are padded (see node.pipeline).
DEFAULT_CIRCUIT_CLASSES = 10


@dataclass(frozen=True)
class NodeConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = field(default_factory=lambda: Path("var"))
    database_url: str | None = None
    #: None = embedded in-process EVM (eth-tester / py-evm); else any Ethereum JSON-RPC URL.
    rpc_url: str | None = None
    private_key: str | None = None
    #: Existing registry to attest to; None = deploy a verifier + registry at start.
    registry: str | None = None
    circuit_classes: int = DEFAULT_CIRCUIT_CLASSES
    prover_workers: int = 1
    max_body_bytes: int = 4 * 1024 * 1024
    max_input_values: int = 1 << 20
    default_method: str = "lrp_epsilon_0_1"

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536 and self.port != 0:
            raise ConfigError(f"port must be in 1..65535 (or 0 for any free port), got {self.port}")
        if self.rpc_url is not None and not self.rpc_url.startswith(("http://", "https://")):
            raise ConfigError(f"--rpc-url must be an http(s) URL, got {self.rpc_url!r}")
        if self.rpc_url is not None and not self.private_key:
            raise ConfigError("a private key is required with --rpc-url (set ZKXAI_PRIVATE_KEY)")
        if not 2 <= self.circuit_classes <= 14:
            raise ConfigError(f"circuit_classes must be in 2..14, got {self.circuit_classes}")
        if self.prover_workers < 1:
            raise ConfigError("prover_workers must be >= 1")
        if self.max_body_bytes < 1024:
            raise ConfigError("max_body_bytes must be at least 1024")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'zkxai.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


def private_key_from_env() -> str | None:
    return os.environ.get("ZKXAI_PRIVATE_KEY") or None
