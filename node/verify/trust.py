"""Trust files: what a verifier pins, once, for the nodes it knows (light: stdlib tomllib + eth_utils).

A trust file lists known nodes; ``zkxai verify --trust FILE`` pins every entry::

    # zkxai trust file: what this verifier pins
    [[node]]
    name = "acme-digits"
    chain = "ethereum"               # optional, informative
    chain_id = 31337                 # optional: the RPC's chain id must equal it
    registry = "0x..."               # the AttestationRegistry the node attests in
    batch_registries = ["0x..."]     # optional: its BatchAttestationRegistry (one per batch size)
    attesters = ["0x..."]            # the node's signing address(es)
    vk_sha256 = "0x..."              # optional: digest of the registry verifier's key (see vk_sha256 below)
    batch_vk_sha256 = ["0x..."]      # optional: digests of the batch verifiers' keys
    level = "explanation"            # optional: what the registry's key proves (commitment when absent)
    method = "lrp_epsilon_0_1"       # level explanation: the attribution method its circuit computes

    [[node]]                         # a node attesting on a chain without an EVM
    name = "acme-aleo"
    chain = "aleo"                   # "aleo" | "icp": the entry applies only to that chain
    network = "testnet"              # optional: Aleo network name / ICP root key SHA-256 (hex)
    registry = "zkxai_registry_v1.aleo"   # Aleo program id / ICP canister id (principal text)
    attesters = ["0x..."]            # Aleo: the Ethereum attester address; ICP: the attester principal (text)
    vk_sha256 = "0x..."              # optional: digest of the published key (--vkey must be that key)

``chain`` other than "aleo" / "icp" is informative, as it always was (an EVM entry). Entries for Aleo and ICP take
no ``chain_id`` nor batch keys; ``network`` is only for them.

Parsing is strict: an unknown key, a wrong type or a malformed address / digest is a :class:`TrustError`
naming the entry and the key (``zkxai verify`` exits 2).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.errors import NodeError
from node.verify.levels import LEVELS


class TrustError(NodeError):
    """A trust file, or an anchor given on the command line, is unreadable or malformed."""

    status = 400
    code = "bad_trust_anchor"


@dataclass(frozen=True)
class TrustedNode:
    """One ``[[node]]`` entry: a node whose chain, registries, attesters and keys the verifier pins."""

    name: str
    registry: str | None
    attesters: tuple[str, ...]
    chain: str | None = None
    chain_id: int | None = None
    batch_registries: tuple[str, ...] = ()
    vk_sha256: str | None = None
    batch_vk_sha256: tuple[str, ...] = ()
    #: Where the entry was read from (for messages): ``file.toml#name``.
    source: str = ""
    #: Aleo: the network name; ICP: the hex SHA-256 of the root key (None: any).
    network: str | None = None
    #: What the registry's verifier key proves (node.verify.levels); an entry without one pins ``commitment``.
    level: str = "commitment"
    #: Level explanation: the attribution method of the circuit (None: not pinned).
    method: str | None = None

    @property
    def kind(self) -> str:
        """The chain kind the entry applies to: ``aleo`` or ``icp`` when ``chain`` says so, else ``ethereum``."""
        return self.chain if self.chain in NON_EVM_KINDS else "ethereum"


def vk_sha256(vk_words: Sequence[object]) -> str:
    """Digest of a verifying key: ``0x`` + SHA-256 of its words as compact JSON.

    The words are the verifier contract's ``verifyingKey()`` in EIP-197 order,
    ``[[ax, ay], [[bx_im, bx_re], [by_im, by_re]], gamma (as beta), delta (as beta), [[ic0x, ic0y], ...]]``,
    integers in decimal, serialized with ``json.dumps(words, separators=(",", ":"))``. It is the same digest a
    node records for its deployments (``node.store.deployments.vk_digest``) and publishes in ``/v1/info``.
    """
    from node.chains.ethereum.calldata import verifying_key_words

    words = verifying_key_words(vk_words)
    return "0x" + hashlib.sha256(json.dumps(words, separators=(",", ":")).encode()).hexdigest()


def vk_sha256_of(vk: Any) -> str:
    """:func:`vk_sha256` of a :class:`prover.keys.VerifyingKey`."""
    from prover.solidity import vk_calldata

    return vk_sha256(vk_calldata(vk))


def checksum_address(value: object, what: str) -> str:
    """EIP-55 form of an address given as 0x + 40 hex digits, else :class:`TrustError` naming ``what``."""
    from eth_utils import is_hex_address, to_checksum_address

    if not isinstance(value, str) or not is_hex_address(value):
        raise TrustError(f"{what} must be an address (0x followed by 40 hex digits), got {value!r}")
    return str(to_checksum_address(value))


def digest_value(value: object, what: str) -> str:
    """A SHA-256 digest as 0x + 64 lower-case hex digits (the 0x is optional on input)."""
    text = value.lower().removeprefix("0x") if isinstance(value, str) else None
    if text is None or len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise TrustError(f"{what} must be a SHA-256 digest (64 hex digits), got {value!r}")
    return "0x" + text


#: Chains without an EVM: their registry and attester identifiers are not (all) Ethereum addresses.
NON_EVM_KINDS = ("aleo", "icp")
_ALEO_PROGRAM = re.compile(r"[a-z][a-z0-9_]{0,63}\.aleo")


def registry_id(kind: str, value: object, what: str) -> str:
    """A registry identifier in canonical form for ``kind``: an EIP-55 address (ethereum), an Aleo program id, or
    an ICP canister id (principal text); :class:`TrustError` naming ``what`` otherwise."""
    if kind == "aleo":
        if not isinstance(value, str) or not _ALEO_PROGRAM.fullmatch(value):
            raise TrustError(f"{what} must be an Aleo program id (like zkxai_registry_v1.aleo), got {value!r}")
        return value
    if kind == "icp":
        return principal_text(value, what)
    return checksum_address(value, what)


def attester_id(kind: str, value: object, what: str) -> str:
    """An attester in canonical form: an EIP-55 address (ethereum, and aleo, whose attester is the Ethereum key
    the program checks the signature of), or principal text (icp)."""
    return principal_text(value, what) if kind == "icp" else checksum_address(value, what)


def principal_text(value: object, what: str) -> str:
    """An ICP principal in its canonical text form (checksum checked)."""
    from node.chains.icp.errors import PrincipalError
    from node.chains.icp.principal import Principal

    try:
        if not isinstance(value, str):
            raise PrincipalError("not a string")
        return Principal.from_text(value).to_text()
    except PrincipalError as exc:
        raise TrustError(f"{what} must be an ICP principal (text form with its checksum), got {value!r}: {exc}") \
            from None


def network_name(kind: str, value: object, what: str) -> str:
    """An Aleo network name (mainnet, testnet, canary) or an ICP network (hex SHA-256 of the root key)."""
    if kind == "aleo":
        from node.chains.aleo.statement import NETWORK_IDS

        if value not in NETWORK_IDS:
            raise TrustError(f"{what} must be an Aleo network ({', '.join(NETWORK_IDS)}), got {value!r}")
        return str(value)
    return digest_value(value, what)[2:]


_KEYS = {"name", "chain", "chain_id", "registry", "batch_registries", "attesters", "vk_sha256", "batch_vk_sha256",
         "network", "level", "method"}


def parse_trust(data: Mapping[str, Any], source: str) -> tuple[TrustedNode, ...]:
    """The entries of a parsed trust file (``{"node": [ {...}, ... ]}``)."""
    unknown = set(data) - {"node"}
    if unknown:
        raise TrustError(f"{source}: unknown top-level key(s) {', '.join(sorted(unknown))} (expected [[node]] tables)")
    entries = data.get("node")
    if not isinstance(entries, list) or not entries:
        raise TrustError(f"{source}: no [[node]] entry")
    return tuple(_entry(e, f"{source}: node[{i}]", source) for i, e in enumerate(entries))


def _entry(raw: object, where: str, source: str) -> TrustedNode:
    if not isinstance(raw, dict):
        raise TrustError(f"{where} must be a table")
    unknown = set(raw) - _KEYS
    if unknown:
        raise TrustError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise TrustError(f"{where}: 'name' must be a non-empty string")
    where = f"{source}: node {name!r}"

    def string(key: str) -> str | None:
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise TrustError(f"{where}: '{key}' must be a string, got {type(value).__name__}")
        return value

    def strings(key: str) -> list[object]:
        value = raw.get(key, [])
        if not isinstance(value, list):
            raise TrustError(f"{where}: '{key}' must be an array, got {type(value).__name__}")
        return value

    chain = string("chain")
    kind = chain if chain in NON_EVM_KINDS else "ethereum"
    if kind != "ethereum":
        extra = sorted({"chain_id", "batch_registries", "batch_vk_sha256"} & set(raw))
        if extra:
            raise TrustError(f"{where}: {', '.join(extra)} do(es) not apply to chain {kind!r}")
    elif "network" in raw:
        raise TrustError(f"{where}: 'network' applies only to chain \"aleo\" or \"icp\"")
    network = None if raw.get("network") is None else network_name(kind, raw["network"], f"{where}: 'network'")
    chain_id = raw.get("chain_id")
    if chain_id is not None and (isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id <= 0):
        raise TrustError(f"{where}: 'chain_id' must be a positive integer, got {chain_id!r}")
    registry = string("registry")
    batch_registries = tuple(checksum_address(a, f"{where}: 'batch_registries'") for a in strings("batch_registries"))
    if registry is None and not batch_registries:
        raise TrustError(f"{where}: give 'registry' and/or 'batch_registries' (what the node attests in)")
    attesters = tuple(attester_id(kind, a, f"{where}: 'attesters'") for a in strings("attesters"))
    if not attesters:
        raise TrustError(f"{where}: 'attesters' must name at least one address (who stands behind the records)")
    vk = string("vk_sha256")
    level, method = string("level") or "commitment", string("method")
    if level not in LEVELS:
        raise TrustError(f"{where}: 'level' must be one of {', '.join(LEVELS)}, got {level!r}")
    if method is not None and level != "explanation":
        raise TrustError(f"{where}: 'method' applies only to level \"explanation\"")
    if level != "commitment" and registry is None:
        raise TrustError(f"{where}: 'level' is the level of the entry's 'registry' (its verifier key): name it")
    return TrustedNode(
        name=name,
        chain=chain,
        chain_id=chain_id,
        registry=None if registry is None else registry_id(kind, registry, f"{where}: 'registry'"),
        batch_registries=batch_registries,
        attesters=attesters,
        vk_sha256=None if vk is None else digest_value(vk, f"{where}: 'vk_sha256'"),
        batch_vk_sha256=tuple(digest_value(d, f"{where}: 'batch_vk_sha256'") for d in strings("batch_vk_sha256")),
        source=f"{source}#{name}",
        network=network,
        level=level,
        method=method,
    )


#: A trust file lists a few nodes: anything larger is not one (read no further).
MAX_TRUST_FILE_BYTES = 1 << 20


def load_trust_file(path: Path) -> tuple[TrustedNode, ...]:
    try:
        with Path(path).open("rb") as fh:
            raw = fh.read(MAX_TRUST_FILE_BYTES + 1)
    except OSError as exc:
        raise TrustError(f"cannot read trust file {path}: {exc}") from exc
    if len(raw) > MAX_TRUST_FILE_BYTES:
        raise TrustError(f"trust file {path} is larger than {MAX_TRUST_FILE_BYTES} bytes")
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError) as exc:  # deep nesting: RecursionError
        raise TrustError(f"trust file {path} is not valid TOML: {type(exc).__name__}: {exc}") from exc
    return parse_trust(data, str(path))


def entry_from_info(info: Mapping[str, Any], name: str) -> TrustedNode:
    """The trust entry a node's ``/v1/info`` claims for itself (validated like a trust file entry)."""
    raw: dict[str, Any] = {"name": name, "chain_id": info.get("chain_id"), "registry": info.get("registry"),
                           "attesters": [info["attester"]] if info.get("attester") else [],
                           "vk_sha256": info.get("vk_sha256")}
    if info.get("batch_registry"):
        raw["batch_registries"] = [info["batch_registry"]]
    if info.get("batch_vk_sha256"):
        raw["batch_vk_sha256"] = [info["batch_vk_sha256"]]
    return _entry({k: v for k, v in raw.items() if v is not None}, f"/v1/info ({name})", "/v1/info")


def proven_entries_from_info(info: Mapping[str, Any], name: str) -> tuple[TrustedNode, ...]:
    """The entries a node's ``/v1/info`` claims for its proven-level registries (``info["proven"]``): one per model,
    level and method, each pinning that registry with its ``level``, ``method`` and ``vk_sha256`` (the key of its
    verifier), named ``<name>-<level>[-<method>]-<model hash prefix>``."""
    proven = info.get("proven") or []
    if not isinstance(proven, list):
        raise TrustError(f"/v1/info ({name}): 'proven' must be a list")
    out = []
    for i, p in enumerate(proven):
        if not isinstance(p, Mapping) or not isinstance(p.get("model_hash"), str):
            raise TrustError(f"/v1/info ({name}): proven[{i}] must describe a model's level registry")
        label = "-".join(str(v) for v in (name, p.get("level"), p.get("method"), p["model_hash"][2:10]) if v)
        raw: dict[str, Any] = {"name": label, "chain_id": info.get("chain_id"), "registry": p.get("registry"),
                               "attesters": [info["attester"]] if info.get("attester") else [],
                               "vk_sha256": p.get("vk_sha256"), "level": p.get("level"), "method": p.get("method")}
        out.append(_entry({k: v for k, v in raw.items() if v is not None}, f"/v1/info ({name}): proven[{i}]",
                          "/v1/info"))
    return tuple(out)


def entry_toml(node: TrustedNode) -> str:
    """A ``[[node]]`` table for ``node``, in the trust-file format :func:`parse_trust` reads."""
    lines = ["[[node]]", f"name = {json.dumps(node.name)}"]
    if node.chain is not None:
        lines.append(f"chain = {json.dumps(node.chain)}")
    if node.network is not None:
        lines.append(f"network = {json.dumps(node.network)}")
    if node.chain_id is not None:
        lines.append(f"chain_id = {node.chain_id}")
    if node.registry is not None:
        lines.append(f'registry = "{node.registry}"')
    if node.batch_registries:
        lines.append("batch_registries = [" + ", ".join(f'"{a}"' for a in node.batch_registries) + "]")
    lines.append("attesters = [" + ", ".join(f'"{a}"' for a in node.attesters) + "]")
    if node.vk_sha256 is not None:
        lines.append(f'vk_sha256 = "{node.vk_sha256}"')
    if node.batch_vk_sha256:
        lines.append("batch_vk_sha256 = [" + ", ".join(f'"{d}"' for d in node.batch_vk_sha256) + "]")
    if node.level != "commitment":
        lines.append(f"level = {json.dumps(node.level)}")
    if node.method is not None:
        lines.append(f"method = {json.dumps(node.method)}")
    return "\n".join(lines) + "\n"


__all__ = ["NON_EVM_KINDS", "TrustError", "TrustedNode", "attester_id", "checksum_address", "network_name",
           "principal_text", "registry_id", "entry_from_info", "entry_toml", "load_trust_file", "proven_entries_from_info",
           "parse_trust", "vk_sha256", "vk_sha256_of"]
