"""Trust anchors of ``zkxai verify`` and the checks against them: ``chain``, ``record``, ``attester``, ``vk``.

An anchor is something the *user* gave: ``--registry`` / ``--batch-registry``, ``--attester``, ``--vkey``,
``--chain-id`` or the entries of ``--trust`` files. Nothing read from the transaction or the bundle is an anchor:
a registry named only by the bundle or found in the transaction's logs is read and shown, but the check resting
on it is ``UNPINNED`` (exit code 11), never PASS.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.json_guard import load_file
from node.verify.trust import (
    TrustedNode,
    TrustError,
    attester_id,
    checksum_address,
    load_trust_file,
    network_name,
    registry_id,
    vk_sha256_of,
)
from node.verify.levels import COMMITMENT, Level, UnknownLevel, what_is_proven
from node.verify.report import Report

#: Printed when a check rests on nothing pinned: what the user can pin.
PIN_HINT = "pin what you trust: --registry (or --batch-registry), --attester, --vkey, or a --trust file"


#: Where a record is looked up: an EVM chain id, or (kind, network) for Aleo / ICP.
Scope = int | tuple[str, str]


@dataclass(frozen=True)
class Anchors:
    """What the user pinned (addresses in EIP-55 form; on Aleo / ICP: program id / canister id text, and the
    attester as an address (Aleo) or principal text (ICP)). ``kind`` is the chain the command verifies on."""

    registries: tuple[str, ...] = ()
    batch_registries: tuple[str, ...] = ()
    attesters: tuple[str, ...] = ()
    vkey: Any = None  # prover.keys.VerifyingKey from --vkey
    vkey_path: str | None = None
    chain_id: int | None = None
    nodes: tuple[TrustedNode, ...] = ()
    kind: str = "ethereum"
    #: --network (Aleo)
    network: str | None = None
    #: --level: what the pinned --registry / --vkey proves (node.verify.levels)
    level: Level | None = None

    @property
    def empty(self) -> bool:
        return not (self.registries or self.batch_registries or self.attesters or self.vkey is not None
                    or self.chain_id is not None or self.nodes or self.level is not None)

    def applicable(self, scope: Scope) -> tuple[TrustedNode, ...]:
        """Trust entries for this chain: on an EVM chain id, the EVM entries (one without chain_id applies to any);
        for (kind, network), the entries of that kind (one without network applies to any)."""
        if isinstance(scope, tuple):
            kind, network = scope
            return tuple(n for n in self.nodes if n.kind == kind and n.network in (None, network))
        return tuple(n for n in self.nodes if n.kind == "ethereum" and n.chain_id in (None, scope))


def anchors_from_args(args: argparse.Namespace, kind: str = "ethereum") -> Anchors:
    """The anchors on the command line (raises :class:`TrustError` for a malformed one: exit 2)."""
    nodes: list[TrustedNode] = []
    for path in getattr(args, "trust", None) or ():
        nodes.extend(load_trust_file(Path(path)))
    vkey = None
    if getattr(args, "vkey", None) is not None:
        from prover.errors import ProverError
        from prover.serialize import vk_from_snarkjs

        try:
            vkey = vk_from_snarkjs(load_file(args.vkey, what="verifying key"))
        except (OSError, ValueError, ProverError) as exc:
            raise TrustError(f"cannot load verifying key {args.vkey}: {exc}") from exc
    chain_id = getattr(args, "chain_id", None)
    if chain_id is not None and chain_id <= 0:
        raise TrustError(f"--chain-id must be positive, got {chain_id}")
    registry = getattr(args, "registry", None)
    batch_registry = getattr(args, "batch_registry", None)
    network = getattr(args, "network", None)
    level = getattr(args, "level", None)
    if level is not None:
        try:
            level = Level.parse(level)
        except UnknownLevel as exc:
            raise TrustError(str(exc)) from exc
        if registry is None and vkey is None:
            raise TrustError("--level says what a pinned key proves: give it with --registry or --vkey")
    return Anchors(
        registries=() if registry is None else (registry_id(kind, registry, "--registry"),),
        batch_registries=() if batch_registry is None else (checksum_address(batch_registry, "--batch-registry"),),
        attesters=tuple(attester_id(kind, a, "--attester") for a in getattr(args, "attester", None) or ()),
        vkey=vkey,
        vkey_path=None if vkey is None else str(args.vkey),
        chain_id=chain_id,
        nodes=tuple(nodes),
        kind=kind,
        network=None if network is None or kind != "aleo" else network_name(kind, network, "--network"),
        level=level,
    )


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def pinned_registries(anchors: Anchors, chain_id: Scope, batch: bool = False) -> dict[str, str]:
    """{registry address: who pinned it} for this chain."""
    out = {a: "--batch-registry" if batch else "--registry"
           for a in (anchors.batch_registries if batch else anchors.registries)}
    for node in anchors.applicable(chain_id):
        for address in (node.batch_registries if batch else ((node.registry,) if node.registry else ())):
            out.setdefault(address, f"trust entry {node.source}")
    return out


def nodes_for(anchors: Anchors, chain_id: Scope, registry: str, batch: bool = False) -> tuple[TrustedNode, ...]:
    """Trust entries for this chain that name ``registry``."""
    return tuple(n for n in anchors.applicable(chain_id)
                 if any(_same(registry, r) for r in (n.batch_registries if batch else (n.registry or "",))))


def check_chain(report: Report, anchors: Anchors, chain_id: int) -> None:
    """``chain``: when a chain id is pinned (--chain-id, trust entries), the RPC's must be it (exit 13)."""
    if anchors.chain_id is not None:
        report.add("chain", anchors.chain_id == chain_id, f"the RPC serves chain {chain_id}"
                   + (" (pinned by --chain-id)" if anchors.chain_id == chain_id else f", not the pinned {anchors.chain_id}"))
        return
    if not any(n.kind == "ethereum" for n in anchors.nodes):
        return
    named = {n.chain_id for n in anchors.nodes if n.chain_id is not None}
    if not anchors.applicable(chain_id):
        report.add("chain", False, f"the RPC serves chain {chain_id}; the trust file pins only chain(s) "
                   + ", ".join(str(c) for c in sorted(named)))
    elif chain_id in named:
        report.add("chain", True, f"the RPC serves chain {chain_id}, as the trust file pins")


def candidate_registries(pinned: dict[str, str], named: str | None) -> list[str]:
    """Registries to look the attestation up in: the pinned ones (the bundle's first if pinned), else the
    bundle's (its record check is then UNPINNED)."""
    if not pinned:
        return [named] if named else []
    first = [a for a in pinned if named and _same(a, named)]
    return first + [a for a in pinned if a not in first]


def check_registry(report: Report, registry: str, pinned: dict[str, str], found_by: str, detail: str) -> bool:
    """``record``: the record was read from a pinned registry (PASS) or from one only ``found_by`` named."""
    who = next((w for a, w in pinned.items() if _same(a, registry)), None)
    if who is not None:
        return report.add("record", True, f"{detail}; in registry {registry}, pinned by {who}")
    report.add_unpinned("record", f"{detail}; in registry {registry}, named by {found_by} only: not pinned")
    return True


def pinned_attesters(anchors: Anchors, chain_id: Scope, registry: str, batch: bool = False) -> dict[str, str]:
    out = {a: "--attester" for a in anchors.attesters}
    for node in nodes_for(anchors, chain_id, registry, batch):
        for a in node.attesters:
            out.setdefault(a, f"trust entry {node.source}")
    return out


def check_attester(report: Report, attester: str, pinned: dict[str, str]) -> bool:
    """``attester``: who signed the record is one of the pinned attesters (exit 12 otherwise)."""
    if not pinned:
        report.add_unpinned("attester", f"attested by {attester}: no attester pinned (--attester or --trust)")
        return True
    who = next((w for a, w in pinned.items() if _same(a, attester)), None)
    if who is not None:
        return report.add("attester", True, f"attested by {attester}, pinned by {who}")
    return report.add("attester", False, f"attested by {attester}, NOT one of the pinned attesters "
                      + ", ".join(pinned))


def check_vk(report: Report, onchain: Any, anchors: Anchors, digests: dict[str, str], registry_pinned: bool,
             where: str) -> bool:
    """``vk``: the key of the record's verifier equals the pinned one (--vkey and/or trust digests, exit 7);
    with no key pinned, PASS only if read from a pinned registry's verifier; else UNPINNED."""
    inputs = f"{len(onchain.ic) - 1} public inputs"
    if anchors.vkey is not None and anchors.vkey != onchain:
        return report.add("vk", False, f"the key of {where} differs from the pinned {anchors.vkey_path}")
    digest = vk_sha256_of(onchain)
    if digests and digest not in digests:
        return report.add("vk", False, f"the key of {where} has vk_sha256 {digest}, not the pinned "
                          + ", ".join(f"{d} ({w})" for d, w in digests.items()))
    pins = ([f"--vkey {anchors.vkey_path}"] if anchors.vkey is not None else []) + ([digests[digest]] if digests else [])
    if pins:
        return report.add("vk", True, f"the key of {where} ({inputs}) equals the one pinned by {' and '.join(pins)}")
    if registry_pinned:
        return report.add("vk", True, f"read from the pinned registry's verifier ({inputs}, vk_sha256 {digest})")
    report.add_unpinned("vk", f"read from {where} ({inputs}, vk_sha256 {digest}): neither the key nor the registry "
                    "is pinned")
    return True


def pinned_digests(anchors: Anchors, nodes: tuple[TrustedNode, ...], batch: bool = False) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in nodes:
        for d in node.batch_vk_sha256 if batch else ((node.vk_sha256,) if node.vk_sha256 else ()):
            out.setdefault(d, f"trust entry {node.source}")
    return out


__all__ = ["Anchors", "Scope", "check_level", "pinned_levels", "candidate_registries", "NOTHING_PINNED", "NOT_CHECKED_OFFLINE", "PIN_HINT", "offline_vk_check", "anchors_from_args", "check_attester", "check_chain", "check_registry",
           "check_vk", "nodes_for", "pinned_attesters", "pinned_digests", "pinned_registries"]


#: Offline (no RPC), the bundle's record and attester are not checked; said in the report, not a failure.
NOT_CHECKED_OFFLINE = ("offline: record and attester not checked (no chain consulted); the proof and the disclosure "
                       "are checked against the pinned --vkey")
#: Said when the user gave no anchor at all.
NOTHING_PINNED = f"nothing pinned: every check rests only on what the transaction or the bundle says; {PIN_HINT}"


def offline_vk_check(report: Report, anchors: Anchors, vk: Any, batch: bool) -> bool:
    """Offline ``vk``: the --vkey is the anchor; trust entries with key digests must name it."""
    digests = pinned_digests(anchors, anchors.nodes, batch)
    inputs = f"{len(vk.ic) - 1} public inputs"
    digest = vk_sha256_of(vk)
    if digests and digest not in digests:
        return report.add("vk", False, f"--vkey {anchors.vkey_path} has vk_sha256 {digest}, not one the trust file "
                          "pins: " + ", ".join(digests))
    return report.add("vk", True, f"pinned key {anchors.vkey_path} ({inputs}"
                      + (f", named by {digests[digest]}" if digests else "") + "); no chain consulted")


def pinned_levels(anchors: Anchors, nodes: tuple[TrustedNode, ...], *, registry_pinned_by_flag: bool,
                  vk_digest: str | None) -> dict[Level, str]:
    """{level: who pinned it} for the record's registry / key: ``--level`` (qualifying the pinned ``--registry`` the
    record is in, or the ``--vkey``), and trust entries naming the registry (online) or the key's digest (offline;
    ``vk_digest`` given). An entry without ``level`` pins ``commitment``."""
    out: dict[Level, str] = {}
    if anchors.level is not None and (registry_pinned_by_flag or anchors.vkey is not None):
        out[anchors.level] = "--level"
    for node in nodes:
        if vk_digest is None or node.vk_sha256 == vk_digest:
            out.setdefault(Level(node.level, node.method), f"trust entry {node.source}")
    return out


def check_level(report: Report, claimed: str, method: str, pinned: dict[Level, str]) -> bool:
    """``level``: the level the bundle claims is the one pinned for the record's registry or key (exit 14). A claim
    of ``commitment`` needs no pin (every level proves at least that); a proven level no one pinned is UNPINNED."""
    if not pinned:
        if claimed == COMMITMENT:
            return report.add("level", True, what_is_proven(claimed, method))
        report.add_unpinned("level", f"the bundle claims level {claimed}; the level is a property of the registry's "
                            "verifier key and nothing you pinned names it (pin --level with --registry or --vkey, or a "
                            "trust entry's level)")
        return True
    for level, who in pinned.items():
        if level.name == claimed and (level.method is None or level.method == method):
            return report.add("level", True, f"{what_is_proven(claimed, method)}; level pinned by {who}")
    pins = ", ".join(f"{level} ({who})" for level, who in pinned.items())
    return report.add("level", False, f"the bundle claims level {claimed}"
                      + (f" ({method})" if claimed == "explanation" else "") + f", but the record's key is pinned "
                      f"at {pins}")
