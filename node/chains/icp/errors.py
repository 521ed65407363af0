"""Typed errors of the ICP package; :class:`IcpError` is their one root (under the node's :class:`NodeError`).

An answer from an IC node that fails a check is the node's fault, not the client's: 502 by default. Input a
caller of ours supplies (a textual principal, a root key in the configuration) raises the ``ValueError`` kinds.
"""

from __future__ import annotations

from node.errors import NodeError


class IcpError(NodeError):
    """Root of every ICP-side failure."""

    status = 502
    code = "icp_error"


class CborError(IcpError, ValueError):
    """Malformed, truncated, oversized or too deeply nested CBOR, or a CBOR feature the IC does not use."""

    code = "icp_bad_cbor"


class LebError(IcpError, ValueError):
    """A malformed unsigned LEB128 number (truncated, too long, trailing bytes)."""

    code = "icp_bad_leb128"


class HashTreeError(IcpError, ValueError):
    """A CBOR value that is not a well-shaped IC hash tree."""

    code = "icp_bad_hash_tree"


class PrincipalError(IcpError, ValueError):
    """A principal that is too long, or a textual principal with a wrong checksum, alphabet or grouping."""

    status = 400
    code = "icp_bad_principal"


class BlsError(IcpError, ValueError):
    """A BLS12-381 point or key that is malformed: wrong length or flags, not on the curve, not in the
    prime-order subgroup, or the identity."""

    code = "icp_bad_bls_point"


class RootKeyError(IcpError, ValueError):
    """A public key whose DER envelope is not the IC's BLS12-381 G2 key encoding."""

    code = "icp_bad_root_key"


class RequestIdError(IcpError, ValueError):
    """Request content with no representation-independent hash (negative or boolean numbers, floats, ...)."""

    status = 400
    code = "icp_bad_request_content"


class CertificateError(IcpError):
    """Root of the reasons a certificate is rejected."""

    code = "icp_certificate_invalid"


class CertificateFormatError(CertificateError):
    """The certificate is not a CBOR map {tree, signature, delegation?} of the right types."""

    code = "icp_certificate_malformed"


class SignatureError(CertificateError):
    """The BLS signature does not verify over the reconstructed root hash under the expected key."""

    code = "icp_certificate_signature"


class DelegationError(CertificateError):
    """The subnet delegation is malformed, nested, or does not reveal the subnet's public key."""

    code = "icp_certificate_delegation"


class CanisterRangeError(DelegationError):
    """The canister is outside the canister ranges the delegation grants the subnet (or they are unknown)."""

    code = "icp_certificate_canister_range"


class FreshnessError(CertificateError):
    """The certificate's ``/time`` is missing, older than the allowed age, or in the future."""

    code = "icp_certificate_stale"


class CandidError(IcpError, ValueError):
    """A Candid message that is malformed or uses a type this codec does not speak, or a value that does not fit."""

    code = "icp_bad_candid"


class IdentityError(IcpError, ValueError):
    """A keystore that cannot be read, decrypted or written, or a key that is not an Ed25519 key."""

    status = 500
    code = "icp_bad_identity"


class RegistryRecordError(IcpError, ValueError):
    """A registry record (certified leaf) or statement that is malformed or inconsistent."""

    code = "icp_bad_record"


class ReplicaError(IcpError):
    """The replica refused a request (HTTP 4xx/5xx, a rejected call, a timeout while polling)."""

    code = "icp_replica_error"

    def __init__(self, message: str, *, reject_code: int | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.reject_code = reject_code
        self.http_status = http_status


class ReplicaUnreachable(ReplicaError):
    """The replica's endpoint could not be reached (connection refused, reset, DNS)."""

    code = "icp_replica_unreachable"
