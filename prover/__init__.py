"""Groth16 over BN254: setup, prove, verify, snarkjs/EVM encodings.

Split by protocol phase (like arkworks' groth16): :mod:`prover.setup`, :mod:`prover.prove`,
:mod:`prover.verify`, with the arithmetic in :mod:`prover.fields`, :mod:`prover.curve`,
:mod:`prover.msm`, :mod:`prover.fft`, :mod:`prover.r1cs_to_qap`.
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
]
