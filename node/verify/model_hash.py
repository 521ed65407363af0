"""The model hash a verifier recomputes from a model file (light install: no torch).

* ONNX: SHA-256 of the file's bytes as registered.
* ``torch.export`` programs (``.pt2``, zip archives): :func:`explainers.pt2_hash.pt2_model_hash`, SHA-256 over
  the archive's canonical content (standard library only), so the same program hashes the same whatever process
  saved it.
"""

from __future__ import annotations

import hashlib

ZIP_MAGIC = b"PK\x03\x04"


def is_pt2(data: bytes) -> bool:
    return data[:4] == ZIP_MAGIC


def model_file_hash(data: bytes) -> tuple[bytes, str]:
    """(the model hash, how it was computed) of a model file's bytes. Raises ``explainers.errors.ExplainerError``
    for a malformed ``.pt2`` archive."""
    if is_pt2(data):
        from explainers.pt2_hash import pt2_model_hash

        return pt2_model_hash(data), "pt2 canonical hash"
    return hashlib.sha256(data).digest(), "sha256"
