"""The registry canister's Candid types (contracts/icp/build/registry.did), for :mod:`.candid`."""

from __future__ import annotations

STATEMENT = ("record", (("model_hash", "blob"), ("input_digest", "nat"), ("prediction_digest", "nat"),
                        ("predicted_class", "nat"), ("explanation_digest", "nat")))
ERROR = ("variant", (("invalid", "text"), ("anonymous", "null"),
                     ("duplicate", ("record", (("id", "blob"), ("attester", "principal")))),
                     ("not_found", "null"), ("not_attester", "null"), ("already_revoked", "null")))
RESULT_ID = ("variant", (("ok", "blob"), ("err", ERROR)))
RESULT_UNIT = ("variant", (("ok", "null"), ("err", ERROR)))
ATTESTATION = ("record", (("id", "blob"), ("statement", STATEMENT), ("proof", "blob"), ("attester", "principal"),
                          ("index", "nat64"), ("time_ns", "nat64"), ("revoked", "bool"), ("reason", "nat8")))
CERTIFIED = ("record", (("attestation", ATTESTATION), ("leaf", "blob"), ("witness", "blob"),
                        ("certificate", ("opt", "blob"))))
ATTEST_ARGS = (STATEMENT, "blob")
BATCH_ARGS = (("vec", ("record", (("statement", STATEMENT), ("proof", "blob")))),)
REVOKE_ARGS = ("blob", "nat8")
ID_ARGS = ("blob",)

#: every field and tag name of the interface, to map Candid field ids back to names when decoding
NAMES = ("model_hash", "input_digest", "prediction_digest", "predicted_class", "explanation_digest", "invalid",
         "anonymous", "duplicate", "id", "attester", "not_found", "not_attester", "already_revoked", "ok", "err",
         "statement", "proof", "index", "time_ns", "revoked", "reason", "attestation", "leaf", "witness",
         "certificate")
