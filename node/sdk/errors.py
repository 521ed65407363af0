"""The SDK's typed errors (under the ``node`` package's one root, :class:`node.errors.NodeError`)."""

from __future__ import annotations

from node.errors import NodeError


class SdkError(NodeError):
    """Root of the SDK's errors."""

    code = "sdk_error"


class NodeUnavailable(SdkError):
    """The node cannot be reached, or the embedded node failed to start."""

    code = "node_unavailable"


class RequestRejected(SdkError):
    """The node answered a request with an error (4xx / 5xx); ``status`` and ``code`` are the node's."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ModelRejected(RequestRejected):
    """The node refused to register the model (unsupported layer, too many classes, malformed file ...)."""


class AttestationFailed(SdkError):
    """The request was accepted but did not end attested (proving or submission failed for good)."""

    code = "attestation_failed"
