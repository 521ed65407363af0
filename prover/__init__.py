"""Groth16 over BN254: setup, prove, verify, snarkjs/EVM encodings.

Split by protocol phase (like arkworks' groth16): :mod:`prover.setup` (local development keys),
:mod:`prover.setup_ptau` (phase 2 from a snarkjs Powers-of-Tau file), :mod:`prover.prove`,
:mod:`prover.verify` and :mod:`prover.verify_batch`, with the arithmetic in
:mod:`prover.fields`, :mod:`prover.curve`, :mod:`prover.msm` (+ :mod:`prover.batch_affine`),
:mod:`prover.fft`, :mod:`prover.r1cs_to_qap`. Interop with circom/snarkjs binaries:
:mod:`prover.circom_files` (``.r1cs``, ``.wtns``), :mod:`prover.zkey`, :mod:`prover.ptau`.
"""

from __future__ import annotations

from .errors import (
    InvalidPoint,
    KeyMismatch,
    MalformedProof,
    ProverError,
    PublicInputError,
    SerializationError,
    UnsatisfiedWitness,
)
from .keys import Proof, ProvingKey, VerifyingKey
from .prove import prove
from .setup import setup
from .verify import verify
from .verify_batch import verify_batch

__all__ = [
    "InvalidPoint",
    "KeyMismatch",
    "MalformedProof",
    "Proof",
    "ProverError",
    "ProvingKey",
    "PublicInputError",
    "SerializationError",
    "UnsatisfiedWitness",
    "VerifyingKey",
    "prove",
    "setup",
    "verify",
    "verify_batch",
]
