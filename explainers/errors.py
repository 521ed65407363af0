"""Exception hierarchy of the explainers package.

Every error raised on purpose by this package derives from :class:`ExplainerError`, so callers (the node)
can catch one root and map the typed subclasses to their own responses.
"""

from __future__ import annotations


class ExplainerError(Exception):
    """Root of all errors raised by :mod:`explainers`."""


class UnknownMethod(ExplainerError):
    """The attribution method name is not one of :func:`explainers.attribution.available_methods`."""


class InvalidInput(ExplainerError):
    """An input array has the wrong shape, a non-numeric dtype, or contains NaN/Inf (or a value is out of range)."""


class UnsupportedModel(ExplainerError):
    """The model uses an operator or layer that this package cannot run or explain faithfully."""


class ModelLoadError(ExplainerError):
    """The model bytes or module could not be parsed, checked or loaded."""
