"""Verification of a registry answer (``get_attestation``): certificate -> certified_data -> witness -> leaf.

1. the certificate verifies down to the root key, for this canister (:func:`.certificate.verify_certificate`);
2. it certifies ``/canister/<id>/certified_data``, and the witness's root hash equals it;
3. the witness reveals ``/attestations/<index>`` and that leaf is exactly the record's bytes;
4. the leaf parses (:func:`.registry_record.decode_leaf`) and its id is the one asked for.
Only the leaf's content is returned: the Candid fields beside it are not trusted.
"""

from __future__ import annotations

from node.chains.icp import cbor, hashtree
from node.chains.icp.agent import IcAgent
from node.chains.icp.errors import CborError, CertificateError, HashTreeError, RegistryRecordError
from node.chains.icp.hashtree import LookupStatus
from node.chains.icp.registry_record import RegistryRecord, decode_leaf
from node.chains.icp.registry_tree import ROOT_LABEL, index_label


class UncertifiedAnswer(CertificateError):
    """A registry answer whose certificate, witness or leaf does not prove the record."""

    code = "icp_uncertified_answer"


def verify_view(view: dict, agent: IcAgent, canister_id: bytes, attestation_id: bytes) -> RegistryRecord:
    certificate = view.get("certificate")
    if not isinstance(certificate, bytes):
        raise UncertifiedAnswer("the answer carries no certificate (was it a query call?)")
    verified = agent.verify(certificate, canister_id)
    data = verified.lookup([b"canister", canister_id, b"certified_data"])
    if data.status is not LookupStatus.FOUND:
        raise UncertifiedAnswer(f"the certificate does not reveal the canister's certified_data ({data.status.value})")
    try:
        witness = hashtree.from_cbor(cbor.decode(view.get("witness"), max_depth=160))
    except (CborError, HashTreeError) as exc:
        raise UncertifiedAnswer(f"malformed witness: {exc}") from exc
    if hashtree.reconstruct(witness) != data.value:
        raise UncertifiedAnswer("the witness does not hash to the certified data")
    index = view.get("attestation", {}).get("index")
    if not isinstance(index, int) or not 0 <= index < 2**64:
        raise UncertifiedAnswer("the answer names no record index")
    leaf = hashtree.lookup_path([ROOT_LABEL, index_label(index)], witness)
    if leaf.status is not LookupStatus.FOUND or leaf.value != view.get("leaf"):
        raise UncertifiedAnswer("the witness does not reveal this record's leaf")
    try:
        record = decode_leaf(leaf.value)  # type: ignore[arg-type]
    except RegistryRecordError as exc:
        raise UncertifiedAnswer(f"certified leaf is malformed: {exc}") from exc
    if record.attestation_id != attestation_id or record.index != index:
        raise UncertifiedAnswer("the certified record is not the one asked for")
    return record
