"""Certificate verification against real mainnet certificates (accept) and mutations of them (reject).

One suite over every installed BLS backend: the fast ones (blst, arkworks) run every case; the pure-Python
py_ecc backend (about a second per certificate) runs a few cases unmarked and a few more marked ``slow``, and
every case when no fast backend is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node.chains.icp import (
    cbor,
    hashtree,
)
from node.chains.icp.bls import G2_GENERATOR
from node.chains.icp.bls_backends import available_backends, backend_by_name
from node.chains.icp.certificate import (
    DEFAULT_MAX_AGE_NS,
    DEFAULT_MAX_SKEW_NS,
    verify_certificate,
)
from node.chains.icp.der import wrap_bls_key
from node.chains.icp.errors import (
    CanisterRangeError,
    CborError,
    CertificateError,
    CertificateFormatError,
    DelegationError,
    FreshnessError,
    RootKeyError,
    SignatureError,
)
from node.chains.icp.hashtree import LookupStatus
from node.chains.icp.leb128 import decode_uleb128
from node.chains.icp.principal import Principal

DATA = Path(__file__).parent / "data" / "icp"


def _vector(name: str) -> bytes:
    return bytes.fromhex((DATA / f"{name}.hex").read_text().strip())


ROOT_KEY_DER = _vector("ic_root_key_der")
SAMPLE = _vector("agentjs_sample_cert")  # delegated from the root subnet to subnet qxesv-...
GOLDEN = {name: _vector(name) for name in ("golden_mainnetSystem", "golden_localSystem")}  # root-signed
IN_RANGE = Principal.from_text("jrlun-jiaaa-aaaab-aaaaa-cai").raw  # low end of the sample's delegated range
IN_RANGE_HIGH = Principal.from_text("v2nog-2aaaa-aaaab-p777q-cai").raw  # its high end
LEDGER = Principal.from_text("ryjl3-tyaaa-aaaaa-aaaba-cai").raw  # an NNS canister, outside that range

FAST = [b.name for b in available_backends() if b.name != "py_ecc"]
ALL = FAST + ["py_ecc"]  # the few cases py_ecc always runs
ALL_SLOW = FAST + [pytest.param("py_ecc", marks=pytest.mark.slow)]  # more py_ecc cases, marked slow
MUTATIONS = FAST or ["py_ecc"]


def _time_of(raw: bytes) -> int:
    tree = hashtree.from_cbor(cbor.decode(raw)["tree"])
    return decode_uleb128(hashtree.lookup_path(["time"], tree).value)


def _verify(raw: bytes, backend: str, *, canister_id: bytes | None = IN_RANGE, root: bytes = ROOT_KEY_DER,
            now_ns: int | None = None, **kwargs: Any):
    now = _time_of(SAMPLE) if now_ns is None else now_ns
    return verify_certificate(raw, root, canister_id=canister_id, now_ns=now, backend=backend_by_name(backend),
                              **kwargs)


def _edit(raw: bytes, change) -> bytes:
    value = cbor.decode(raw)
    change(value)
    return cbor.encode(value)


def _edit_delegation(raw: bytes, change) -> bytes:
    def inner(value: dict) -> None:
        value["delegation"]["certificate"] = _edit(value["delegation"]["certificate"], change)

    return _edit(raw, inner)


def _map_leaf(node: list, path: list[bytes], fn) -> list:
    """The CBOR form of a tree with the leaf at ``path`` replaced by ``fn(leaf)``."""
    if node[0] == 1:
        return [1, _map_leaf(node[1], path, fn), _map_leaf(node[2], path, fn)]
    if node[0] == 2 and path and node[1] == path[0]:
        return [2, node[1], _map_leaf(node[2], path[1:], fn)]
    if node[0] == 3 and not path:
        return [3, fn(node[1])]
    return node


def _prune(node: list, path: list[bytes]) -> list:
    """The CBOR form of a tree with the labeled node at ``path`` pruned (the root hash is unchanged)."""
    if node[0] == 1:
        return [1, _prune(node[1], path), _prune(node[2], path)]
    if node[0] == 2 and node[1] == path[0]:
        if len(path) == 1:
            return [4, hashtree.reconstruct(hashtree.from_cbor(node))]
        return [2, node[1], _prune(node[2], path[1:])]
    return node


def _delegation_subnet() -> bytes:
    return cbor.decode(SAMPLE)["delegation"]["subnet_id"]


def _golden_subnets() -> list[tuple[bytes, bytes]]:
    """(subnet id, first canister of its range) for each subnet the root-signed golden certificate lists."""
    tree = hashtree.from_cbor(cbor.decode(GOLDEN["golden_mainnetSystem"])["tree"])
    subnets = hashtree.lookup_subtree(["subnet"], tree).subtree
    out = []
    for node in hashtree.flatten_forks(subnets):
        ranges = hashtree.lookup_path([node.label, "canister_ranges"], subnets)
        if ranges.status is LookupStatus.FOUND:
            out.append((node.label, cbor.decode(ranges.value)[0][0]))
    return out


# --- accept ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ALL)
def test_delegated_mainnet_certificate_verifies(backend: str) -> None:
    verified = _verify(SAMPLE, backend)
    assert verified.time_ns == 1645601880652705378
    assert verified.subnet_id == _delegation_subnet()
    assert Principal(verified.subnet_id).to_text().startswith("qxesv-zoxpm")
    assert verified.lookup(["time"]).status is LookupStatus.FOUND
    assert verified.root_hash == hashtree.reconstruct(verified.tree)


@pytest.mark.parametrize("backend", ALL_SLOW)
@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_root_signed_mainnet_certificates_verify(backend: str, name: str) -> None:
    raw = GOLDEN[name]
    verified = _verify(raw, backend, canister_id=None, now_ns=_time_of(raw))
    assert verified.subnet_id is None
    assert verified.time_ns == _time_of(raw)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_both_ends_of_the_delegated_range_are_in_scope(backend: str) -> None:
    assert _verify(SAMPLE, backend, canister_id=IN_RANGE_HIGH).subnet_id == _delegation_subnet()


@pytest.mark.parametrize("backend", MUTATIONS)
def test_freshness_window_edges_are_inclusive(backend: str) -> None:
    t = _time_of(SAMPLE)
    _verify(SAMPLE, backend, now_ns=t + DEFAULT_MAX_AGE_NS)
    _verify(SAMPLE, backend, now_ns=t - DEFAULT_MAX_SKEW_NS)


# --- reject: signatures and tree contents -----------------------------------------------------------------


def _flip_signature_bit(value: dict) -> None:
    value["signature"] = value["signature"][:-1] + bytes([value["signature"][-1] ^ 0x01])


@pytest.mark.parametrize("backend", ALL)
def test_flipped_signature_bit_is_rejected(backend: str) -> None:
    with pytest.raises(SignatureError):
        _verify(_edit(SAMPLE, _flip_signature_bit), backend)


@pytest.mark.parametrize("backend", ALL_SLOW)
def test_flipped_bit_in_the_delegations_signature_is_rejected(backend: str) -> None:
    with pytest.raises(DelegationError):
        _verify(_edit_delegation(SAMPLE, _flip_signature_bit), backend)


@pytest.mark.parametrize("backend", ALL_SLOW)
def test_changed_leaf_is_rejected(backend: str) -> None:
    request_id = bytes.fromhex("edad510eaaa08ed2acd4781324e6446269da6753ec17760f206bbe81c465ff52")
    path = [b"request_status", request_id, b"status"]
    status = hashtree.lookup_path(path, hashtree.from_cbor(cbor.decode(SAMPLE)["tree"]))
    assert status.value == b"rejected"

    def change(value: dict) -> None:
        value["tree"] = _map_leaf(value["tree"], path, lambda _: b"replied")

    mutated = _edit(SAMPLE, change)
    assert mutated != SAMPLE
    with pytest.raises(SignatureError):
        _verify(mutated, backend)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_changed_time_leaf_is_rejected(backend: str) -> None:
    def change(value: dict) -> None:
        value["tree"] = _map_leaf(value["tree"], [b"time"], lambda v: bytes([v[0] ^ 0x01]) + v[1:])  # 1 ns

    with pytest.raises(SignatureError):
        _verify(_edit(SAMPLE, change), backend)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_changed_canister_ranges_in_the_delegation_are_rejected(backend: str) -> None:
    subnet = _delegation_subnet()
    widened = cbor.encode([[b"", b"\xff" * 29]])

    def change(value: dict) -> None:
        value["tree"] = _map_leaf(value["tree"], [b"subnet", subnet, b"canister_ranges"], lambda _: widened)

    with pytest.raises(DelegationError, match="signature"):
        _verify(_edit_delegation(SAMPLE, change), backend, canister_id=LEDGER)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_identity_signature_is_rejected(backend: str) -> None:
    def change(value: dict) -> None:
        value["signature"] = bytes([0xC0]) + bytes(47)

    with pytest.raises(SignatureError, match="infinity"):
        _verify(_edit(SAMPLE, change), backend)


# --- reject: delegation ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ALL_SLOW)
def test_swapped_delegation_is_rejected(backend: str) -> None:
    # a genuine root-signed delegation (the golden certificate reveals other subnets' keys), for another subnet
    sample_subnet = _delegation_subnet()
    other_subnet, first_canister = next((s, c) for s, c in _golden_subnets() if s != sample_subnet)

    def swap(value: dict) -> None:
        value["delegation"] = {"subnet_id": other_subnet, "certificate": GOLDEN["golden_mainnetSystem"]}

    # the golden certificate is from 2023, the sample from 2022: widen the future window so that only the key
    # (the other subnet's) can fail
    with pytest.raises(SignatureError):
        _verify(_edit(SAMPLE, swap), backend, canister_id=first_canister, max_skew_ns=2 * 365 * 86400 * 10**9)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_removed_delegation_is_rejected(backend: str) -> None:
    def remove(value: dict) -> None:
        del value["delegation"]

    with pytest.raises(SignatureError):
        _verify(_edit(SAMPLE, remove), backend)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_delegation_naming_a_subnet_its_certificate_does_not_cover_is_rejected(backend: str) -> None:
    def rename(value: dict) -> None:
        value["delegation"]["subnet_id"] = b"\x01" + value["delegation"]["subnet_id"][1:]

    with pytest.raises(DelegationError, match="public key"):
        _verify(_edit(SAMPLE, rename), backend)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_nested_delegation_is_rejected(backend: str) -> None:
    # the inner certificate is root-signed (its signature still verifies) but carries a delegation of its own
    subnet, canister = _golden_subnets()[0]
    golden = GOLDEN["golden_mainnetSystem"]
    nested = _edit(golden, lambda v: v.update(delegation={"subnet_id": subnet, "certificate": golden}))

    def swap(value: dict) -> None:
        value["delegation"] = {"subnet_id": subnet, "certificate": nested}

    with pytest.raises(DelegationError, match="delegation of its own"):
        _verify(_edit(SAMPLE, swap), backend, canister_id=canister)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_pruned_subnet_public_key_is_rejected(backend: str) -> None:
    subnet = _delegation_subnet()

    def prune(value: dict) -> None:
        value["tree"] = _prune(value["tree"], [b"subnet", subnet, b"public_key"])

    with pytest.raises(DelegationError, match="unknown"):
        _verify(_edit_delegation(SAMPLE, prune), backend)


# --- reject: scope (canister ranges) -----------------------------------------------------------------------


@pytest.mark.parametrize("backend", MUTATIONS)
def test_canister_outside_the_delegated_ranges_is_rejected(backend: str) -> None:
    with pytest.raises(CanisterRangeError):
        _verify(SAMPLE, backend, canister_id=LEDGER)
    just_above = IN_RANGE_HIGH[:-1] + bytes([IN_RANGE_HIGH[-1] + 1])
    just_below = IN_RANGE[:-1] + bytes([IN_RANGE[-1] - 1])
    for outside in (just_above, just_below, IN_RANGE_HIGH + b"\x00", IN_RANGE[:-1]):
        with pytest.raises(CanisterRangeError):
            _verify(SAMPLE, backend, canister_id=outside)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_delegated_certificate_without_a_canister_is_rejected(backend: str) -> None:
    with pytest.raises(CanisterRangeError, match="named canister"):
        _verify(SAMPLE, backend, canister_id=None)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_pruned_canister_ranges_are_rejected(backend: str) -> None:
    subnet = _delegation_subnet()

    def prune(value: dict) -> None:
        value["tree"] = _prune(value["tree"], [b"subnet", subnet, b"canister_ranges"])

    with pytest.raises(CanisterRangeError, match="none visible"):
        _verify(_edit_delegation(SAMPLE, prune), backend)


# --- reject: root key --------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ALL_SLOW)
def test_wrong_root_key_is_rejected(backend: str) -> None:
    other_key = wrap_bls_key(G2_GENERATOR)  # a valid G2 point, not the IC's root key
    with pytest.raises(DelegationError):
        _verify(SAMPLE, backend, root=other_key)
    golden = GOLDEN["golden_mainnetSystem"]
    with pytest.raises(SignatureError):
        _verify(golden, backend, canister_id=None, root=other_key, now_ns=_time_of(golden))


@pytest.mark.parametrize("backend", MUTATIONS)
def test_subnet_key_as_root_key_is_rejected(backend: str) -> None:
    inner = cbor.decode(cbor.decode(SAMPLE)["delegation"]["certificate"])
    subnet_key_der = hashtree.lookup_path(
        ["subnet", _delegation_subnet(), "public_key"], hashtree.from_cbor(inner["tree"])
    ).value
    golden = GOLDEN["golden_mainnetSystem"]
    with pytest.raises(SignatureError):
        _verify(golden, backend, canister_id=None, root=subnet_key_der, now_ns=_time_of(golden))


@pytest.mark.parametrize(
    "der",
    [ROOT_KEY_DER[:-1], ROOT_KEY_DER + b"\x00", b"\x00" + ROOT_KEY_DER[1:], ROOT_KEY_DER[:10] + b"\x00" + ROOT_KEY_DER[11:],
     ROOT_KEY_DER[37:]],
    ids=["short", "long", "bad-sequence", "bad-oid", "raw-key-without-der"],
)
def test_malformed_root_key_der_is_refused(der: bytes) -> None:
    with pytest.raises(RootKeyError):
        _verify(SAMPLE, MUTATIONS[0], root=der)


# --- reject: freshness -------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", MUTATIONS)
def test_stale_certificate_is_rejected(backend: str) -> None:
    t = _time_of(SAMPLE)
    with pytest.raises(FreshnessError, match="old"):
        _verify(SAMPLE, backend, now_ns=t + DEFAULT_MAX_AGE_NS + 1)
    with pytest.raises(FreshnessError, match="old"):
        _verify(SAMPLE, backend, now_ns=t + 2_000_000_000, max_age_ns=1_000_000_000)
    with pytest.raises(FreshnessError, match="old"):  # the system clock (2026 or later) against a 2022 certificate
        verify_certificate(SAMPLE, ROOT_KEY_DER, canister_id=IN_RANGE, backend=backend_by_name(backend))


@pytest.mark.parametrize("backend", MUTATIONS)
def test_stale_delegation_is_rejected(backend: str) -> None:
    delegation_time = 1645093069668391957  # about 5.9 days before the certificate itself
    age = _time_of(SAMPLE) - delegation_time
    _verify(SAMPLE, backend, delegation_max_age_ns=age)
    with pytest.raises(FreshnessError, match="delegation certificate: .* old"):
        _verify(SAMPLE, backend, delegation_max_age_ns=age - 1)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_certificate_from_the_future_is_rejected(backend: str) -> None:
    with pytest.raises(FreshnessError, match="future"):
        _verify(SAMPLE, backend, now_ns=_time_of(SAMPLE) - DEFAULT_MAX_SKEW_NS - 1)


@pytest.mark.parametrize("backend", MUTATIONS)
def test_pruned_time_is_rejected(backend: str) -> None:
    # pruning keeps the root hash, so the signature still verifies: only the missing /time can stop it
    def prune(value: dict) -> None:
        value["tree"] = _prune(value["tree"], [b"time"])

    with pytest.raises(FreshnessError, match="no /time"):
        _verify(_edit(SAMPLE, prune), backend)


# --- reject: encoding --------------------------------------------------------------------------------------


@pytest.mark.parametrize("cut", [1, 48, len(SAMPLE) // 2, len(SAMPLE) - 3])
def test_truncated_cbor_is_rejected(cut: int) -> None:
    with pytest.raises(CertificateFormatError) as caught:
        _verify(SAMPLE[:cut], MUTATIONS[0])
    assert isinstance(caught.value.__cause__, CborError)


def test_deeply_nested_cbor_is_rejected() -> None:
    deep_tree = b"\xd9\xd9\xf7\xa2\x64tree" + b"\x83\x01" * 50_000 + b"\x81\x00"
    with pytest.raises(CertificateFormatError, match="deeper"):
        _verify(deep_tree, MUTATIONS[0])
    with pytest.raises(CertificateFormatError, match="deeper"):
        _verify(b"\x81" * 200_000 + b"\x00", MUTATIONS[0])


@pytest.mark.parametrize(
    "change",
    [
        lambda v: v.update(extra=b""),
        lambda v: v.pop("signature"),
        lambda v: v.update(signature="text"),
        lambda v: v.update(tree=[7]),
        lambda v: v.update(delegation=[b"", b""]),
    ],
    ids=["unknown-field", "no-signature", "text-signature", "bad-tree-node", "delegation-not-a-map"],
)
def test_malformed_certificate_fields_are_rejected(change) -> None:
    with pytest.raises(CertificateFormatError):
        _verify(_edit(SAMPLE, change), MUTATIONS[0])


def test_malformed_delegation_fields_are_rejected() -> None:
    def extra(value: dict) -> None:
        value["delegation"]["extra"] = b""

    def truncated_inner(value: dict) -> None:
        value["delegation"]["certificate"] = value["delegation"]["certificate"][:-1]

    for change in (extra, truncated_inner):
        with pytest.raises(DelegationError):
            _verify(_edit(SAMPLE, change), MUTATIONS[0])


def test_every_rejection_is_a_certificate_error_and_the_root_is_the_icp_error() -> None:
    from node.chains.icp.errors import IcpError
    from node.errors import NodeError

    assert issubclass(CertificateError, IcpError) and issubclass(IcpError, NodeError)
    for cls in (SignatureError, DelegationError, CanisterRangeError, FreshnessError, CertificateFormatError):
        assert issubclass(cls, CertificateError)


def test_the_package_stays_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, node.chains.icp.certificate, node.chains.icp.request_id, node.chains.icp.bls, node.chains.icp.bls_backends;"
        "node.chains.icp.bls_backends.available_backends();"
        "heavy = [m for m in ('web3', 'torch', 'aiohttp', 'onnxruntime', 'sqlmodel') if m in sys.modules];"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)
