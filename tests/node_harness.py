"""Test harness: run a real ``zkxai node`` process and the ``zkxai`` CLI as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: bytes | None = None, content_type: str = "application/json",
         timeout: float = 300) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except json.JSONDecodeError:
            return err.code, raw.decode(errors="replace")


def post_json(url: str, payload: Any) -> tuple[int, Any]:
    return http("POST", url, json.dumps(payload).encode())


@contextmanager
def running_node(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    log = open(data_dir / "node.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--port", str(port), "--data-dir", str(data_dir),
         "--prover-workers", "1", *extra],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError("node exited early:\n" + (data_dir / "node.log").read_text()[-3000:])
            try:
                if http("GET", f"{base}/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("node did not become healthy:\n" + (data_dir / "node.log").read_text()[-3000:])
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def zkxai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})
