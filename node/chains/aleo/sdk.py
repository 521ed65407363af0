"""The Aleo SDK, through a long-lived Node.js child process (``sdk_bridge.mjs``, shipped beside this file).

``@provablehq/sdk`` (pinned in package.json) evaluates Aleo programs in WebAssembly: it parses and type-checks a
program and ``authorize`` s a transition (runs the function, returns its outputs and the signed authorization),
offline. It cannot prove without the SRS and proving keys it downloads from the parameters host, and nothing in it
runs ``finalize``: proving is delegated (:mod:`.prover`) and finalize is the network's.

One process serves every call (its first ``authorize`` takes 15-20 s: the WebAssembly module compiles and the
process is built; later ones a few seconds). Calls are serialised; a call that times out kills the process, and the
next call starts a fresh one. Private keys travel over the pipe only, never on a command line or in a log.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProgramError, SdkError, SdkTimeout

BRIDGE = Path(__file__).with_name("sdk_bridge.mjs")
MAX_LINE = 64 << 20


def find_node_modules(start: Path | None = None) -> Path | None:
    """``$ZKXAI_NODE_MODULES``, else the first ``node_modules`` holding the SDK above ``start`` (the repo root)."""
    env = os.environ.get("ZKXAI_NODE_MODULES")
    if env:
        return Path(env)
    here = (start or Path(__file__)).resolve()
    for parent in [here, *here.parents]:
        candidate = parent / "node_modules"
        if (candidate / "@provablehq" / "sdk" / "package.json").is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Authorized:
    """A transition evaluated and signed by the SDK: the authorization JSON, its execution id and the outputs of
    each transition (Aleo plaintext text, see :mod:`.plaintext`)."""

    authorization: str
    execution_id: str
    outputs: tuple[str, ...]
    proving_request: str | None = None
    fee_microcredits: int = 0


class SdkBridge:
    """A JSON-lines client of ``sdk_bridge.mjs``; thread-safe (calls are serialised)."""

    def __init__(self, network: str = "testnet", node_modules: Path | str | None = None, node: str | None = None,
                 timeout: float = 120.0, first_timeout: float = 300.0) -> None:
        if network not in ("mainnet", "testnet", "canary"):
            raise ValueError(f"unknown Aleo network {network!r}")
        self.network = network
        self._modules = Path(node_modules) if node_modules else find_node_modules()
        self._node = node or shutil.which("node")
        self.timeout = timeout
        self.first_timeout = first_timeout
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.Lock()
        self._next_id = 0
        self._warm = False

    # -- process -------------------------------------------------------------------------------------------------
    def _start(self) -> subprocess.Popen[str]:
        if not self._node:
            raise SdkError("Node.js ('node') is not on PATH: the Aleo SDK bridge needs it")
        if self._modules is None or not (self._modules / "@provablehq" / "sdk").is_dir():
            raise SdkError("@provablehq/sdk not found: run scripts/bootstrap (npm ci) or set ZKXAI_NODE_MODULES")
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
        env["ZKXAI_NODE_MODULES"] = str(self._modules)
        env["ZKXAI_ALEO_SDK_NETWORK"] = "mainnet" if self.network == "mainnet" else "testnet"
        try:
            proc = subprocess.Popen(
                [self._node, str(BRIDGE)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                text=True, env=env, bufsize=1,
            )
        except OSError as exc:
            raise SdkError(f"cannot start the Aleo SDK bridge: {exc}") from None
        self._lines = queue.Queue()
        lines = self._lines

        def pump() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, name="aleo-sdk-bridge", daemon=True).start()
        self._warm = False
        return proc

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    # -- calls ---------------------------------------------------------------------------------------------------
    def call(self, op: str, timeout: float | None = None, **args: Any) -> Any:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            self._next_id += 1
            rid = self._next_id
            wait = timeout if timeout is not None else (self.timeout if self._warm else self.first_timeout)
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps({"id": rid, "op": op, **args}) + "\n")
                proc.stdin.flush()
            except OSError:
                self._stop()
                raise SdkError("the Aleo SDK bridge exited") from None
            while True:
                try:
                    line = self._lines.get(timeout=wait)
                except queue.Empty:
                    self._stop()
                    raise SdkTimeout(f"the Aleo SDK bridge did not answer {op!r} within {wait:.0f} s") from None
                if line is None:
                    self._stop()
                    raise SdkError(f"the Aleo SDK bridge exited during {op!r}")
                if len(line) > MAX_LINE:
                    continue
                try:
                    answer = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(answer, dict) and answer.get("id") == rid:
                    break
            self._warm = True
        if not answer.get("ok"):
            message = str(answer.get("error", "unknown error"))
            if answer.get("kind") == "usage":
                raise SdkError(message)
            raise ProgramError(message)
        return answer.get("result")

    def new_account(self) -> tuple[str, str]:
        """A fresh Aleo account: (private key ``APrivateKey1...``, address ``aleo1...``)."""
        result = self.call("new_account")
        return result["private_key"], result["address"]

    def address(self, private_key: str) -> str:
        return str(self.call("address", private_key=private_key)["address"])

    def check_program(self, source: str) -> dict[str, Any]:
        """Parse and type-check ``source`` (added to a fresh process); ProgramError if the SDK refuses it."""
        return dict(self.call("check_program", source=source))

    def authorize(self, source: str, function: str, inputs: list[str], private_key: str) -> Authorized:
        """Evaluate ``function`` with ``inputs`` and sign the request; ProgramError if evaluation fails."""
        r = self.call("authorize", source=source, function=function, inputs=inputs, private_key=private_key)
        return Authorized(r["authorization"], r["execution_id"], _first_outputs(r))

    def evaluate(self, source: str, function: str, inputs: list[str], private_key: str) -> None:
        """Run ``function`` with its assertions checked; ProgramError if one fails (authorize does not check)."""
        self.call("evaluate", source=source, function=function, inputs=inputs, private_key=private_key)

    def estimate_fee(self, source: str, function: str) -> int:
        """The SDK's offline estimate of the base fee of ``function``, in microcredits."""
        return int(self.call("estimate_fee", source=source, function=function)["microcredits"])

    def proving_request(self, source: str, function: str, inputs: list[str], private_key: str,
                        base_fee_credits: float | None = None, priority_fee_credits: float = 0.0) -> Authorized:
        """:meth:`authorize` plus a ``credits.aleo/fee_public`` authorization (``base_fee_credits``, or the SDK's
        estimate when None), as the delegated prover's request."""
        r = self.call("proving_request", source=source, function=function, inputs=inputs, private_key=private_key,
                      base_fee_credits=base_fee_credits, priority_fee_credits=priority_fee_credits)
        fee = round((float(r["base_fee_credits"]) + priority_fee_credits) * 1_000_000)
        return Authorized("", r["execution_id"], _first_outputs(r), r["proving_request"], fee)


def _first_outputs(result: dict[str, Any]) -> tuple[str, ...]:
    transitions = result.get("outputs") or []
    if not transitions:
        raise SdkError("the SDK returned an authorization without transitions")
    return tuple(str(o["value"]) for o in transitions[-1]["outputs"])
