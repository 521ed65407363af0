"""The one exception root of the ``prover`` package and its typed errors."""

from __future__ import annotations


class ProverError(Exception):
    """Root of every error raised by ``prover``."""


class MalformedProof(ProverError, ValueError):
    """Proof or key material has the wrong shape: missing fields, bad types, coordinates >= q."""


class InvalidPoint(MalformedProof):
    """A point is off its curve, outside the prime-order subgroup, or the identity where forbidden."""


class PublicInputError(ProverError, ValueError):
    """Public inputs have the wrong count, or a value outside the scalar field [0, r)."""


class KeyMismatch(ProverError):
    """A key does not belong to the circuit / witness / proof it is used with."""


class UnsatisfiedWitness(ProverError):
    """The witness given to the prover does not satisfy the constraint system."""


class SerializationError(MalformedProof):
    """Serialized key/proof data cannot be parsed, has an unknown format/version, or wrong shape.

    A subclass of :class:`MalformedProof` so callers handling untrusted proof JSON need one except;
    points that parse but are not valid group elements raise :class:`InvalidPoint` instead.
    """
