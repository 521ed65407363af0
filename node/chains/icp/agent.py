"""A minimal IC agent: signed update calls (sync v3 with a fallback to v2 + polling ``read_state``), queries and
``read_state``, over the IC's CBOR/HTTP interface, with every certificate verified against the configured root key.

Stdlib HTTP (urllib), so a light verifier can use it; the node's adapter runs it in a worker thread. Only
certified data is trusted: the reply of an update call is read from the verified certificate's
``/request_status/<id>/reply``; a query's reply is *not* certified by itself (real replicas sign it with node keys,
which this agent does not check), so callers take from a query only what a certificate inside it proves.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from node.chains.icp import cbor
from node.chains.icp.certificate import VerifiedCertificate, verify_certificate
from node.chains.icp.envelope import Envelope, call_content, read_state_content, seal
from node.chains.icp.errors import CborError, ReplicaError, ReplicaUnreachable
from node.chains.icp.hashtree import LookupStatus
from node.chains.icp.identity import Ed25519Identity
from node.chains.icp.leb128 import decode_uleb128

MAX_RESPONSE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class CallResult:
    reply: bytes  # Candid bytes, read from the verified certificate
    request_id: bytes
    certificate: VerifiedCertificate


class IcAgent:
    """One replica endpoint, one identity (``None``: anonymous, queries and read_state only), one root key."""

    def __init__(self, url: str, root_key_der: bytes, identity: Ed25519Identity | None = None, *,
                 clock: Callable[[], int] | None = None, timeout_s: float = 30.0, poll_interval_s: float = 0.2,
                 poll_timeout_s: float = 120.0, max_certificate_age_ns: int | None = None) -> None:
        self.url = url.rstrip("/")
        self.root_key_der = root_key_der
        self.identity = identity
        self.clock = clock or time.time_ns
        self.timeout_s = timeout_s
        self.poll_interval_s = poll_interval_s
        self.poll_timeout_s = poll_timeout_s
        self.max_certificate_age_ns = max_certificate_age_ns

    # -- transport -------------------------------------------------------------------------------------------
    def _post(self, path: str, body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url + path, data=body, method="POST",
                                         headers={"Content-Type": "application/cbor"})
        return self._send(request)

    def _send(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return response.status, response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(64 * 1024)
        except (urllib.error.URLError, OSError) as exc:
            raise ReplicaUnreachable(f"replica {self.url} unreachable: {exc}") from exc

    @staticmethod
    def _cbor(status: int, raw: bytes, what: str) -> Any:
        if status >= 400:
            raise ReplicaError(f"{what}: HTTP {status}: {raw[:300].decode('utf-8', 'replace')}", http_status=status)
        if len(raw) > MAX_RESPONSE_BYTES:
            raise ReplicaError(f"{what}: response larger than {MAX_RESPONSE_BYTES} bytes")
        try:
            value = cbor.decode(raw)
        except CborError as exc:
            raise ReplicaError(f"{what}: response is not CBOR: {exc}") from exc
        if not isinstance(value, dict):
            raise ReplicaError(f"{what}: response is not a CBOR map")
        return value

    def status(self) -> dict[str, Any]:
        status, raw = self._send(urllib.request.Request(self.url + "/api/v2/status"))
        return self._cbor(status, raw, "status")

    # -- certificates ----------------------------------------------------------------------------------------
    def verify(self, certificate: bytes, canister_id: bytes) -> VerifiedCertificate:
        kwargs = {} if self.max_certificate_age_ns is None else {"max_age_ns": self.max_certificate_age_ns}
        return verify_certificate(certificate, self.root_key_der, canister_id=canister_id, now_ns=self.clock(),
                                  **kwargs)

    def read_state(self, canister_id: bytes, paths: Sequence[Sequence[bytes]]) -> VerifiedCertificate:
        envelope = seal(read_state_content(self.identity, paths, clock=self.clock), self.identity)
        answer = self._cbor(*self._post(f"/api/v2/canister/{_text(canister_id)}/read_state", envelope.body),
                            "read_state")
        if not isinstance(answer.get("certificate"), bytes):
            raise ReplicaError("read_state: answer has no certificate")
        return self.verify(answer["certificate"], canister_id)

    # -- queries ---------------------------------------------------------------------------------------------
    def query(self, canister_id: bytes, method: str, arg: bytes) -> bytes:
        """The (uncertified) reply of a query call."""
        envelope = seal(call_content(self.identity, canister_id, method, arg, request_type="query", clock=self.clock),
                        self.identity)
        answer = self._cbor(*self._post(f"/api/v2/canister/{_text(canister_id)}/query", envelope.body), "query")
        if answer.get("status") == "replied":
            reply = answer.get("reply")
            if not isinstance(reply, dict) or not isinstance(reply.get("arg"), bytes):
                raise ReplicaError("query: replied without a reply.arg")
            return reply["arg"]
        if answer.get("status") == "rejected":
            raise _reject(answer, "query")
        raise ReplicaError(f"query: unexpected status {answer.get('status')!r}")

    # -- update calls ----------------------------------------------------------------------------------------
    def call(self, canister_id: bytes, method: str, arg: bytes) -> CallResult:
        """An update call; returns once its reply is certified (v3 sync call, else v2 + polling read_state)."""
        if self.identity is None:
            raise ReplicaError("update calls need an identity (anonymous callers cannot attest)")
        envelope = seal(call_content(self.identity, canister_id, method, arg, clock=self.clock), self.identity)
        status, raw = self._post(f"/api/v3/canister/{_text(canister_id)}/call", envelope.body)
        if status == 200:
            answer = self._cbor(status, raw, "call")
            if answer.get("status") == "replied" and isinstance(answer.get("certificate"), bytes):
                certificate = self.verify(answer["certificate"], canister_id)
                return self._outcome(certificate, envelope, canister_id, final=True)
            if answer.get("status") == "non_replicated_rejection":
                raise _reject(answer, "call")
            raise ReplicaError(f"call: unexpected v3 answer status {answer.get('status')!r}")
        if status == 404:  # no v3 endpoint: the v2 asynchronous call
            status, raw = self._post(f"/api/v2/canister/{_text(canister_id)}/call", envelope.body)
        if status == 200 and raw:  # a v2 endpoint may answer a synchronous rejection
            answer = self._cbor(status, raw, "call")
            if answer.get("status") == "non_replicated_rejection":
                raise _reject(answer, "call")
        if status not in (200, 202):
            raise ReplicaError(f"call: HTTP {status}: {raw[:300].decode('utf-8', 'replace')}", http_status=status)
        return self.poll(canister_id, envelope)

    def poll(self, canister_id: bytes, envelope: Envelope) -> CallResult:
        deadline = time.monotonic() + self.poll_timeout_s
        path = [b"request_status", envelope.request_id]
        while True:
            certificate = self.read_state(canister_id, [path])
            outcome = self._outcome(certificate, envelope, canister_id, final=False)
            if outcome is not None:
                return outcome
            if time.monotonic() > deadline or self.clock() > envelope.content["ingress_expiry"]:
                raise ReplicaError(f"call {envelope.request_id.hex()} not answered before its expiry")
            time.sleep(self.poll_interval_s)

    def _outcome(self, certificate: VerifiedCertificate, envelope: Envelope, canister_id: bytes,
                 *, final: bool) -> Any:
        base = [b"request_status", envelope.request_id]
        found = certificate.lookup([*base, b"status"])
        if found.status is not LookupStatus.FOUND:
            if final:
                raise ReplicaError("call: the certificate does not show the request's status")
            return None
        status = found.value
        if status == b"replied":
            reply = certificate.lookup([*base, b"reply"])
            if reply.status is not LookupStatus.FOUND:
                raise ReplicaError("call: replied, but the certificate does not reveal the reply")
            return CallResult(reply.value, envelope.request_id, certificate)  # type: ignore[arg-type]
        if status == b"rejected":
            code = certificate.lookup([*base, b"reject_code"])
            message = certificate.lookup([*base, b"reject_message"])
            reject_code = decode_uleb128(code.value) if code.status is LookupStatus.FOUND else None  # type: ignore[arg-type]
            text = message.value.decode("utf-8", "replace") if message.status is LookupStatus.FOUND else ""  # type: ignore[union-attr]
            raise ReplicaError(f"call rejected (code {reject_code}): {text}", reject_code=reject_code)
        if status == b"done":
            raise ReplicaError("call: done, its reply is no longer available")
        if final:
            raise ReplicaError(f"call: unexpected status {status!r} in a v3 certificate")
        return None


def _reject(answer: dict[str, Any], what: str) -> ReplicaError:
    code = answer.get("reject_code")
    return ReplicaError(f"{what} rejected (code {code}): {answer.get('reject_message', '')}",
                        reject_code=code if isinstance(code, int) else None)


def _text(canister_id: bytes) -> str:
    from node.chains.icp.principal import Principal

    return Principal(canister_id).to_text()
