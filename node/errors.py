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


class JsonTooDeep(BadRequest, ValueError):
    """JSON nested deeper than :data:`node.json_guard.MAX_DEPTH` (refused before parsing). The JSON errors are also
    ``ValueError`` s, like ``json.JSONDecodeError``, so callers that handled a bad JSON file still do."""

    code = "json_too_deep"


class JsonTooLarge(PayloadTooLarge, ValueError):
    code = "json_too_large"


class MalformedJson(BadRequest, ValueError):
    """Not JSON (or NaN / Infinity literals); keeps the code ``bad_request`` that malformed bodies always had."""


class RequestTimeout(NodeError):
    """The client did not send the whole request body in time."""

    status = 408
    code = "request_timeout"


class RateLimited(NodeError):
    """Too many requests from one client; ``retry_after`` seconds until the next one is accepted."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
