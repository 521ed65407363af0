"""The one exception root of the ``node`` package and its typed errors.

Every error a client can cause maps to an HTTP status and a stable machine-readable ``code``.
"""

from __future__ import annotations


class NodeError(Exception):
    """Root of every error raised by ``node``."""

    status = 500
    code = "internal_error"


class BadRequest(NodeError):
    status = 400
    code = "bad_request"


class PayloadTooLarge(NodeError):
    status = 413
    code = "payload_too_large"


class UnknownModel(NodeError):
    status = 404
    code = "unknown_model"


class UnknownAttestation(NodeError):
    status = 404
    code = "unknown_attestation"


class ConfigError(NodeError):
    code = "config_error"


class DisclosureError(NodeError):
    """A disclosure / proof bundle file is malformed or inconsistent."""

    status = 400
    code = "bad_disclosure"
