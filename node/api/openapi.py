"""The node's OpenAPI 3.1 document, served at ``/v1/openapi.json`` (kept beside the routes it describes)."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or {"type": "object"}}}}


def document() -> dict[str, Any]:
    """The spec; every operation with a body also documents 400 (malformed) and 413 (too large)."""
    doc = _document()
    for item in doc["paths"].values():
        for op in item.values():
            if "requestBody" in op:
                op["responses"].setdefault("400", _err("malformed body"))
                op["responses"].setdefault("413", _err("body too large"))
    return doc


def _document() -> dict[str, Any]:
    secured = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "zkxai node", "version": "1",
                 "description": "Attested, explained and proven ML inference. Errors are JSON with a stable code."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                   "request_id": {"type": "string"}}}}},
                "AttestRequest": {
                    "type": "object", "required": ["model_hash", "input"], "additionalProperties": False,
                    "properties": {
                        "model_hash": {"type": "string", "pattern": "^0x[0-9a-fA-F]{64}$"},
                        "input": {"type": "array", "minItems": 1, "maxItems": 1048576,
                                  "items": {"anyOf": [{"type": "number"}, {"type": "array"}]}},
                        "method": {"type": "string", "minLength": 1, "maxLength": 128},
                        "level": {"type": "string", "enum": ["commitment", "inference", "explanation"],
                                  "description": "default: the model's newest proven level, else commitment"},
                    }},
            },
        },
        "paths": {
            "/healthz": {"get": {"summary": "Liveness", "responses": {"200": _ok("alive")}}},
            "/readyz": {"get": {"summary": "Readiness (database, chain, prover)",
                                "responses": {"200": _ok("ready"), "503": _ok("not ready")}}},
            "/metrics": {"get": {"summary": "Prometheus metrics",
                                 "responses": {"200": {"description": "text exposition format",
                                                       "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/v1/info": {"get": {"summary": "Chain, registry, verifier, circuit; attestation_mode (single | batch) and, "
                                            "in batch mode, batch_registry, batch_verifier and batch_size",
                                 "responses": {"200": _ok("info")}}},
            "/v1/models": {
                "get": {"summary": "Registered models", "security": secured,
                        "responses": {"200": _ok("models"), "401": _err("missing or wrong API key")}},
                "post": {"summary": "Register an ONNX model (admin key)", "security": secured,
                         "parameters": [{"name": "name", "in": "query", "schema": {"type": "string"}},
                                        {"name": "level", "in": "query", "schema": {
                                            "type": "string", "enum": ["commitment", "inference", "explanation"]},
                                         "description": "proof level (default commitment); a proven level quantizes "
                                                        "the model and deploys its own verifier and registry"},
                                        {"name": "method", "in": "query", "schema": {"type": "string"},
                                         "description": "level explanation: the attribution method the circuit "
                                                        "computes (gradient, gradient_x_input, lrp_epsilon_<v>)"}],
                         "requestBody": {"required": True, "content": {"application/octet-stream": {
                             "schema": {"type": "string", "format": "binary"}}}},
                         "responses": {"201": _ok("registered"), "400": _err("not a usable model"),
                                       "401": _err("missing or wrong API key"), "413": _err("too large"),
                                       "422": _err("unsupported model")}},
            },
            "/v1/attestations": {"post": {
                "summary": "Attest one prediction (202 queued; ?wait=true: 201 with the result)", "security": secured,
                "parameters": [{"name": "wait", "in": "query", "schema": {"type": "boolean"}},
                               {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 64}}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/AttestRequest"}}}},
                "responses": {"201": _ok("attested"), "202": _ok("accepted, in progress"),
                              "200": _ok("same Idempotency-Key seen before: the existing request"),
                              "400": _err("bad input"), "401": _err("missing or wrong API key"),
                              "404": _err("unknown model"), "413": _err("too large"),
                              "422": _err("rejected by the pipeline"), "503": _err("busy or shutting down")}}},
            "/v1/attestations/{key}": {"get": {
                "summary": "A request's status and result (by request id or attestation id); a batched prediction "
                           "also has a batch section (registry, batch_id, root, count, size, index, leaf, path, "
                           "tx_hash, block_number) and its attestation id is 0x + its Merkle leaf",
                "security": secured,
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _ok("status"), "401": _err("missing or wrong API key"), "404": _err("unknown")}}},
            "/v1/attestations/{key}/disclosure": {"get": {
                "summary": "The disclosure bundle (salts included: share it only with whom you disclose to)",
                "security": secured,
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _ok("bundle"), "401": _err("missing or wrong API key"), "404": _err("unknown")}}},
            "/v1/attestations/{key}/revoke": {"post": {
                "summary": "Revoke an attestation on chain (admin key). A batched prediction is revoked in the "
                           "batch registry: its slot (revokeLeaf), or with scope \"batch\" its whole batch "
                           "(revokeBatch; every member becomes revoked); a proven-level record in its model's "
                           "level registry; the request's status becomes revoked",
                "security": secured,
                "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "reason": {"type": "integer", "minimum": 0, "maximum": 65535},
                        "scope": {"type": "string", "enum": ["leaf", "batch"],
                                  "description": "batch mode: this prediction (default) or its whole batch"}}}}}},
                "responses": {"200": _ok("revoked"), "400": _err("not attested / bad reason or scope"),
                              "401": _err("missing or wrong API key"),
                              "403": _err("admin key needed, or the node's account is neither the attester nor "
                                          "the registry owner"),
                              "404": _err("unknown"), "409": _err("already revoked on chain, or recorded in a "
                                                                  "level registry the node has since replaced")}}},
            "/v1/models/{model_hash}/calibration": {"post": {
                "summary": "Fit the out-of-distribution calibration on reference inputs (admin key)",
                "security": secured,
                "parameters": [{"name": "model_hash", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["inputs"],
                    "properties": {"inputs": {"type": "array", "minItems": 20}, "labels": {"type": "array"}}}}}},
                "responses": {"201": _ok("calibrated"), "400": _err("bad reference data"),
                              "401": _err("missing or wrong API key"), "403": _err("admin key needed"),
                              "404": _err("unknown model")}}},
            "/v1/models/{model_hash}/evaluation": {"post": {
                "summary": "Explanation-quality evaluation of a method on given inputs", "security": secured,
                "parameters": [{"name": "model_hash", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["inputs"],
                    "properties": {"inputs": {"type": "array", "minItems": 1, "maxItems": 256},
                                   "method": {"type": "string"}}}}}},
                "responses": {"200": _ok("metrics"), "400": _err("bad input"),
                              "401": _err("missing or wrong API key"), "404": _err("unknown model")}}},
            "/v1/models/{model_hash}/revoke": {"post": {
                "summary": "Revoke every attestation of a model, past and future (admin key, registry owner), in "
                           "every registry recording it: the primary one, in batch mode the batch registry "
                           "(batch_registry holds its transaction), and each of the model's proven-level registries "
                           "(proven: level, method, registry, tx_hash per registry); 409 when revoked in all already",
                "security": secured,
                "parameters": [{"name": "model_hash", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": _ok("revoked"), "401": _err("missing or wrong API key"),
                              "403": _err("admin key needed, or the node's account is not the registry owner"),
                              "404": _err("unknown model"), "409": _err("already revoked")}}},
        },
    }
