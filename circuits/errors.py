"""The one exception root of the ``circuits`` package and its typed errors."""


class CircuitError(Exception):
    """Root of every error raised by ``circuits``."""


class FieldRangeError(CircuitError, ValueError):
    """A value is not a canonical element of the BN254 scalar field (0 <= x < R)."""


class UnsatisfiedConstraint(CircuitError):
    """A witness violates a constraint; ``index`` names the first one violated."""

    def __init__(self, index: int, detail: str = "") -> None:
        self.index = index
        super().__init__(f"constraint {index} is not satisfied{': ' + detail if detail else ''}")


class WitnessError(CircuitError):
    """Inputs given to the witness solver are missing, extra or out of range."""


class InvalidOpening(CircuitError, ValueError):
    """A commitment opening is malformed: wrong hash length, out-of-range field value or score, bad class."""


class OpeningMismatch(CircuitError):
    """A well-formed commitment opening does not open the claimed public values (or breaks the argmax)."""


class EncodingError(CircuitError, ValueError):
    """A value cannot be encoded canonically (e.g. does not fit the fixed-width byte encoding)."""


class QNetError(CircuitError, ValueError):
    """A quantized network (``zkxai.qnet/1``) is malformed: bad types, shapes, values or sizes."""


class UnsupportedLayer(QNetError):
    """A layer (or a layer for an explanation method) the proven circuits do not support; names it."""


class UnknownMethod(QNetError):
    """An explanation method name the proven circuits do not know."""


class FixedPointOverflow(CircuitError):
    """An intermediate value leaves its documented fixed-point range (the circuit would be unsatisfiable)."""
