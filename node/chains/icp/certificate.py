"""Verification of IC certificates: the only way a certified answer from an IC node is trusted.

``verify_certificate`` follows the IC interface specification (Certification, Delegation):

1. parse the CBOR map ``{tree, signature, delegation?}`` (strict, bounded) and the hash tree;
2. freshness: ``/time`` (LEB128 nanoseconds) within ``[now - max_age, now + max_skew]`` of an injectable now;
3. delegation (when present): its certificate must carry no delegation of its own, must verify against
   the root key and be fresh within ``delegation_max_age`` (30 days by default, as agent-js); it must reveal ``/subnet/<subnet_id>/public_key`` (a DER BLS key) and canister ranges
   (``/canister_ranges/<subnet_id>/*`` shards or the older ``/subnet/<subnet_id>/canister_ranges``) that
   contain the canister the answer is about;
4. the BLS signature over ``0x0D "ic-state-root" || reconstruct(tree)`` under the subnet key (delegated) or
   the root key (no delegation).

Anything a hostile certificate can cause raises a :class:`CertificateError` subclass (the cause chained).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from node.chains.icp import (
    cbor,
    hashtree,
)
from node.chains.icp.bls import BlsBackend
from node.chains.icp.bls_backends import default_backend
from node.chains.icp.der import extract_bls_key
from node.chains.icp.errors import (
    BlsError,
    CanisterRangeError,
    CertificateFormatError,
    CborError,
    DelegationError,
    FreshnessError,
    HashTreeError,
    LebError,
    PrincipalError,
    RootKeyError,
    SignatureError,
)
from node.chains.icp.hashtree import (
    HashTree,
    Lookup,
    LookupStatus,
)
from node.chains.icp.leb128 import decode_uleb128
from node.chains.icp.principal import (
    MAX_PRINCIPAL_BYTES,
    CanisterRange,
    parse_canister_ranges,
)

STATE_ROOT_DOMAIN = b"\x0dic-state-root"
MAX_CERTIFICATE_BYTES = 2 * 1024 * 1024
MAX_CERTIFICATE_DEPTH = 96
DEFAULT_MAX_AGE_NS = 5 * 60 * 1_000_000_000
DEFAULT_MAX_SKEW_NS = 5 * 60 * 1_000_000_000
# replicas reuse a delegation for a long time; agent-js accepts 30 days, so do we
DEFAULT_DELEGATION_MAX_AGE_NS = 30 * 24 * 3600 * 1_000_000_000
_KEYS = frozenset({"tree", "signature", "delegation"})


@dataclass(frozen=True)
class VerifiedCertificate:
    tree: HashTree
    time_ns: int
    root_hash: bytes
    subnet_id: bytes | None  # the delegated subnet; None when the root key signed directly
    canister_ranges: tuple[CanisterRange, ...]  # the delegation's visible ranges; () without delegation

    def lookup(self, path: Sequence[bytes | str]) -> Lookup:
        return hashtree.lookup_path(path, self.tree)


@dataclass(frozen=True)
class _Parsed:
    tree: HashTree
    signature: bytes
    delegation: dict[str, Any] | None


def _parse(cert_bytes: bytes, what: str) -> _Parsed:
    try:
        value = cbor.decode(cert_bytes, max_size=MAX_CERTIFICATE_BYTES, max_depth=MAX_CERTIFICATE_DEPTH)
    except CborError as exc:
        raise CertificateFormatError(f"{what}: {exc}") from exc
    if not isinstance(value, dict):
        raise CertificateFormatError(f"{what} is not a CBOR map")
    unknown = set(value) - _KEYS
    if unknown:
        raise CertificateFormatError(f"{what} has unexpected fields {sorted(unknown)}")
    if "tree" not in value or not isinstance(value.get("signature"), bytes):
        raise CertificateFormatError(f"{what} needs a tree and a byte-string signature")
    try:
        tree = hashtree.from_cbor(value["tree"])
    except HashTreeError as exc:
        raise CertificateFormatError(f"{what}: {exc}") from exc
    delegation = value.get("delegation")
    if delegation is not None and not isinstance(delegation, dict):
        raise CertificateFormatError(f"{what}: delegation is not a map")
    return _Parsed(tree, value["signature"], delegation)


def _check_signature(parsed: _Parsed, key: bytes, backend: BlsBackend, what: str) -> bytes:
    root_hash = hashtree.reconstruct(parsed.tree)
    try:
        valid = backend.verify(key, parsed.signature, STATE_ROOT_DOMAIN + root_hash)
    except BlsError as exc:
        raise SignatureError(f"{what}: {exc}") from exc
    if not valid:
        raise SignatureError(f"{what}: BLS signature does not verify over the tree's root hash")
    return root_hash


def _ranges_of(tree: HashTree, subnet_id: bytes) -> tuple[CanisterRange, ...]:
    blobs = []
    shards = hashtree.lookup_subtree(["canister_ranges", subnet_id], tree)
    if shards.status is LookupStatus.FOUND:
        blobs.extend(value for _, value in hashtree.labeled_leaves(shards.subtree))  # type: ignore[arg-type]
    whole = hashtree.lookup_path(["subnet", subnet_id, "canister_ranges"], tree)
    if whole.status is LookupStatus.FOUND:
        blobs.append(whole.value)
    ranges: list[CanisterRange] = []
    for blob in blobs:
        try:
            ranges.extend(parse_canister_ranges(blob))
        except PrincipalError as exc:
            raise CanisterRangeError(f"delegation: malformed canister_ranges: {exc}") from exc
    return tuple(ranges)


def _delegated_key(
    delegation: dict[str, Any],
    root_key: bytes,
    canister_id: bytes | None,
    backend: BlsBackend,
    freshness: tuple[int, int, int],
) -> tuple[bytes, bytes, tuple[CanisterRange, ...]]:
    subnet_id, inner_bytes = delegation.get("subnet_id"), delegation.get("certificate")
    if set(delegation) != {"subnet_id", "certificate"} or not isinstance(inner_bytes, bytes):
        raise DelegationError("delegation must be exactly {subnet_id, certificate} (byte strings)")
    if not isinstance(subnet_id, bytes) or len(subnet_id) > MAX_PRINCIPAL_BYTES:
        raise DelegationError("delegation subnet_id is not a principal")
    try:
        inner = _parse(inner_bytes, "delegation certificate")
    except CertificateFormatError as exc:
        raise DelegationError(str(exc)) from exc
    if inner.delegation is not None:
        raise DelegationError("delegation certificate carries a delegation of its own (chains are refused)")
    try:
        _check_time(inner.tree, *freshness)
    except FreshnessError as exc:
        raise FreshnessError(f"delegation certificate: {exc}") from exc
    try:
        _check_signature(inner, root_key, backend, "delegation certificate")
    except SignatureError as exc:
        raise DelegationError(str(exc)) from exc
    found = hashtree.lookup_path(["subnet", subnet_id, "public_key"], inner.tree)
    if found.status is not LookupStatus.FOUND:
        raise DelegationError(f"delegation certificate does not reveal the subnet's public key ({found.status.value})")
    try:
        subnet_key = extract_bls_key(found.value)  # type: ignore[arg-type]
    except RootKeyError as exc:
        raise DelegationError(f"delegation: subnet public key: {exc}") from exc
    if canister_id is None:
        raise CanisterRangeError("a delegated certificate is only accepted for a named canister (scope check)")
    ranges = _ranges_of(inner.tree, subnet_id)
    if not any(canister_id in r for r in ranges):
        raise CanisterRangeError(
            f"canister {canister_id.hex()} is not in the delegation's canister ranges"
            + ("" if ranges else " (none visible)")
        )
    return subnet_key, subnet_id, ranges


def _check_time(tree: HashTree, now_ns: int, max_age_ns: int, max_skew_ns: int) -> int:
    found = hashtree.lookup_path(["time"], tree)
    if found.status is not LookupStatus.FOUND:
        raise FreshnessError(f"certificate has no /time ({found.status.value})")
    try:
        cert_time = decode_uleb128(found.value)  # type: ignore[arg-type]
    except LebError as exc:
        raise FreshnessError(f"certificate /time: {exc}") from exc
    if cert_time < now_ns - max_age_ns:
        raise FreshnessError(f"certificate time is {(now_ns - cert_time) / 1e9:.0f} s old (max {max_age_ns / 1e9:.0f} s)")
    if cert_time > now_ns + max_skew_ns:
        raise FreshnessError(f"certificate time is {(cert_time - now_ns) / 1e9:.0f} s in the future")
    return cert_time


def verify_certificate(
    cert_bytes: bytes,
    root_key_der: bytes,
    *,
    canister_id: bytes | None,
    now_ns: int | None = None,
    max_age_ns: int = DEFAULT_MAX_AGE_NS,
    max_skew_ns: int = DEFAULT_MAX_SKEW_NS,
    delegation_max_age_ns: int = DEFAULT_DELEGATION_MAX_AGE_NS,
    backend: BlsBackend | None = None,
) -> VerifiedCertificate:
    """Verify a certificate end to end; the returned tree is then trusted for lookups.

    ``canister_id`` (raw principal) is the canister the answer is about; it must lie in a delegation's
    canister ranges (``None`` is accepted only for certificates signed by the root key directly).
    ``now_ns`` defaults to the system clock; tests inject the time the fixtures were made.
    """
    root_key = extract_bls_key(root_key_der)  # a bad configured key is our error, not the certificate's
    if canister_id is not None and (not isinstance(canister_id, bytes) or len(canister_id) > MAX_PRINCIPAL_BYTES):
        raise PrincipalError("canister_id must be a raw principal (bytes, at most 29)")
    backend = backend or default_backend()
    now = time.time_ns() if now_ns is None else now_ns
    parsed = _parse(cert_bytes, "certificate")
    cert_time = _check_time(parsed.tree, now, max_age_ns, max_skew_ns)
    if parsed.delegation is None:
        key, subnet_id, ranges = root_key, None, ()
    else:
        freshness = (now, delegation_max_age_ns, max_skew_ns)
        key, subnet_id, ranges = _delegated_key(parsed.delegation, root_key, canister_id, backend, freshness)
    root_hash = _check_signature(parsed, key, backend, "certificate")
    return VerifiedCertificate(parsed.tree, cert_time, root_hash, subnet_id, ranges)
