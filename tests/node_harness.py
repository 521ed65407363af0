"""Test harness: run a real ``zkxai node`` process and the ``zkxai`` CLI as a user would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: bytes | None = None, content_type: str = "application/json",
         timeout: float = 300, key: str | None = None) -> tuple[int, Any]:
    """One request (``key``: sent as a bearer token); (status, JSON body or text)."""
    headers = {"Content-Type": content_type} | ({"Authorization": f"Bearer {key}"} if key else {})
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
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


#: anvil's binary from npm (@foundry-rs/anvil) and its first default account, pre-funded on every anvil chain.
ANVIL = ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def stop_process(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def start_anvil(port: int | None = None, state: Path | None = None,
                chain_id: int | None = None, extra: tuple[str, ...] = ()) -> tuple[subprocess.Popen[bytes], str]:
    """anvil on 127.0.0.1 (``state``: a file it loads at start and dumps at SIGTERM; ``chain_id``: other than
    anvil's 31337; ``extra``: more anvil arguments, e.g. ``("--block-time", "1")``); returns once it answers."""
    assert ANVIL.exists(), f"anvil missing at {ANVIL}: run scripts/bootstrap (npm ci)"
    port = port or free_port()
    args = [str(ANVIL), "--host", "127.0.0.1", "--port", str(port), "--silent"]
    args += ["--chain-id", str(chain_id)] if chain_id is not None else []
    args += list(extra)
    proc = subprocess.Popen(args + (["--state", str(state)] if state else []))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if http("POST", url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode(),
                    timeout=2)[0] == 200:
                return proc, url
        except OSError:
            pass
        assert proc.poll() is None, "anvil exited during start-up"
        assert time.monotonic() < deadline, "anvil did not answer within 30 s"
        time.sleep(0.1)


@contextmanager
def running_anvil(state: Path | None = None, chain_id: int | None = None,
                  extra: tuple[str, ...] = ()) -> Iterator[str]:
    proc, url = start_anvil(state=state, chain_id=chain_id, extra=extra)
    try:
        yield url
    finally:
        stop_process(proc, timeout=10)


def start_node(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """A `zkxai node` process on a free port (log in data_dir/node.log); returns once /healthz answers."""
    port = free_port()
    log = open(data_dir / "node.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--port", str(port), "--data-dir", str(data_dir),
         "--prover-workers", "1", *extra],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            raise RuntimeError("node exited early:\n" + (data_dir / "node.log").read_text()[-3000:])
        try:
            if http("GET", f"{base}/healthz", timeout=2)[0] == 200:
                return proc, base
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_process(proc)
            raise RuntimeError("node did not become healthy:\n" + (data_dir / "node.log").read_text()[-3000:])
        time.sleep(0.2)


@contextmanager
def running_node(data_dir: Path, *extra: str, env: dict[str, str] | None = None) -> Iterator[str]:
    proc, base = start_node(data_dir, *extra, env=env)
    try:
        yield base
    finally:
        stop_process(proc)


def wait_status(base: str, request_id: str, wanted: set[str], timeout: float = 300) -> dict[str, Any]:
    """Poll a request until its status is one of ``wanted``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, row = http("GET", f"{base}/v1/attestations/{request_id}")
        if status == 200 and row["status"] in wanted:
            return row
        time.sleep(0.2)
    raise AssertionError(f"request {request_id} never reached {wanted}")


def zkxai(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, **(env or {})})


# ------------------------------------------------------------------ anvil in a test: raw RPC, mining, the pending pool
def anvil_rpc(w3: Any, method: str, *params: Any) -> Any:
    """A raw JSON-RPC call through a web3 provider (anvil's ``evm_*`` / ``txpool_*`` methods); asserts no error."""
    answer = w3.provider.make_request(method, list(params))
    assert "error" not in answer, answer
    return answer["result"]


@contextmanager
def automine_off(w3: Any) -> Iterator[None]:
    """anvil mines only on ``evm_mine`` inside the block (transactions stay pending)."""
    anvil_rpc(w3, "evm_setAutomine", False)
    try:
        yield
    finally:
        anvil_rpc(w3, "evm_setAutomine", True)


def pending_txs(w3: Any, address: str) -> dict[int, dict[str, Any]]:
    """anvil's pending pool for ``address``: nonce -> transaction."""
    pool = anvil_rpc(w3, "txpool_content")["pending"]
    mine = next((txs for addr, txs in pool.items() if addr.lower() == address.lower()), {})
    return {int(nonce): tx for nonce, tx in mine.items()}


async def wait_for(predicate: Any, timeout: float = 20.0) -> Any:
    """Poll ``predicate`` (in a worker thread) until it returns something truthy; returns it."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while not (value := await asyncio.to_thread(predicate)):
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)
    return value


@asynccontextmanager
async def served_bridge(adapter: Any) -> AsyncIterator[str]:
    """The in-process chain of ``adapter`` served as JSON-RPC on 127.0.0.1 through the node's ``/rpc`` bridge (what
    ``zkxai verify`` in another process reads); yields the URL."""
    from aiohttp import web

    from node.chains.ethereum.rpc_bridge import handle_rpc_request

    async def rpc(request: web.Request) -> web.Response:
        return web.json_response(await handle_rpc_request(adapter, await request.json()))

    app = web.Application()
    app.router.add_post("/rpc", rpc)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/rpc"
    finally:
        await runner.cleanup()
