"""Typed errors of the Aleo package; :class:`AleoError` is their one root (under the node's :class:`NodeError`).

The errors the pipeline acts on are the adapter contract's (:mod:`node.chains.adapter`): the Aleo errors that
mean the same thing also derive from them (an unreachable snarkOS endpoint is a :class:`ChainUnavailable`, a
transaction rejected by ``finalize`` a :class:`StatementRejected`).
"""

from __future__ import annotations

from node.chains.adapter import ChainAdapterError, ChainUnavailable, Dropped, StatementRejected
from node.errors import NodeError


class AleoError(NodeError):
    """Root of every Aleo-side failure."""

    status = 502
    code = "aleo_error"


class PlaintextError(AleoError, ValueError):
    """Text that is not an Aleo plaintext value of the expected shape (a mapping value, a transition input)."""

    code = "aleo_bad_plaintext"


class SdkError(AleoError):
    """The SDK bridge (Node.js child process) failed: not startable, crashed, timed out or answered an error."""

    code = "aleo_sdk_error"


class SdkTimeout(SdkError):
    """The SDK bridge did not answer in time (the process is restarted for the next call)."""

    code = "aleo_sdk_timeout"


class ProgramError(SdkError, ValueError):
    """The SDK refused a program or a transition's inputs (parse, type check, an ``assert`` in the function)."""

    status = 400
    code = "aleo_program_rejected"


class KeystoreError(AleoError):
    """An Aleo keystore file that is missing, malformed, or does not decrypt with the password given."""

    status = 500
    code = "aleo_keystore"


class AleoUnavailable(AleoError, ChainUnavailable):
    """The snarkOS endpoint (or the delegated prover) cannot be reached or answers 5xx / 429 after the retries."""

    code = "aleo_unreachable"


class AleoRejected(AleoError, StatementRejected):
    """The network refused the transaction for good: broadcast refused (4xx), or ``finalize`` failed (the
    transaction is confirmed as ``rejected``: duplicate statement, bad signature, wrong network)."""

    code = "aleo_rejected"


class AleoDropped(AleoError, Dropped):
    """A transaction seen earlier is not confirmed and no longer known to the endpoint."""

    code = "aleo_dropped"


class AleoProtocolError(AleoError, ChainAdapterError):
    """The endpoint answered something that is not the snarkOS REST shape we expect (or a program that is not ours)."""

    code = "aleo_protocol"
