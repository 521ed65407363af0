"""Hostile input against a live node (issue 10): each attack is refused with a 4xx / exit code, the node survives and
keeps answering /healthz within a second while it runs."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.node_harness import ROOT, http, running_node, zkxai

KEY = "submitter-key-0123456789"
ADMIN = "admin-key-0123456789abc"
DEEP = b"[" * 100_000 + b"]" * 100_000
HEADER_TIMEOUT_S = 2.0
BODY_TIMEOUT_S = 2.0
NODE_ENV = {"ZKXAI_API_KEYS": KEY, "ZKXAI_ADMIN_KEY": ADMIN, "ZKXAI_API_HEADER_TIMEOUT_S": str(HEADER_TIMEOUT_S),
            "ZKXAI_API_BODY_TIMEOUT_S": str(BODY_TIMEOUT_S), "ZKXAI_RPC_RATE_PER_S": "2", "ZKXAI_RPC_BURST": "30"}


def _request(method: str, url: str, body: bytes | None = None, key: str | None = None,
             timeout: float = 60) -> tuple[int, Any]:
    return http(method, url, body, timeout=timeout, key=key)


class HealthProbe:
    """Polls /healthz in a thread during an attack; records each latency (inf when it failed)."""

    def __init__(self, base: str) -> None:
        self.base, self.latencies, self._stop = base, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.perf_counter()
            try:
                ok = http("GET", f"{self.base}/healthz", timeout=5)[0] == 200
            except OSError:
                ok = False
            self.latencies.append(time.perf_counter() - t0 if ok else float("inf"))
            time.sleep(0.1)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        assert self.latencies, "no /healthz probe completed"
        assert max(self.latencies) < 1.0, f"/healthz slower than 1 s during the attack: {max(self.latencies):.2f} s"


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("hostile")
    data.chmod(0o755)  # a data dir left too open by an earlier version: the node must tighten it
    with running_node(data, env=NODE_ENV) as base:
        yield base, data


def _alive(base: str) -> None:
    t0 = time.perf_counter()
    assert http("GET", f"{base}/healthz", timeout=5)[0] == 200
    assert time.perf_counter() - t0 < 1.0


def test_deeply_nested_json_is_refused_not_a_crash(node: tuple[str, Path]) -> None:
    base, _ = node
    with HealthProbe(base):
        status, body = _request("POST", f"{base}/rpc", DEEP)
        assert status == 400 and body["error"]["code"] == "json_too_deep", body
        status, body = _request("POST", f"{base}/v1/attestations", DEEP, key=KEY)
        assert status == 400 and body["error"]["code"] == "json_too_deep", body
    _alive(base)


def test_verify_refuses_a_deeply_nested_disclosure_with_exit_2(tmp_path: Path) -> None:
    bundle = tmp_path / "deep.json"
    bundle.write_bytes(DEEP)
    result = zkxai("verify", "--disclosure", str(bundle), "--vkey", str(bundle))
    assert result.returncode == 2, result.stderr
    assert "deeper than" in result.stderr and "Traceback" not in result.stderr


def test_crypto_imports_leave_a_sane_recursion_limit() -> None:
    """py_ecc / py-evm set 100000 at import; after the node's imports it is back, so even json.loads of deep text
    is a RecursionError, not a segfault."""
    code = ("import node.api.app, sys, json\n"
            "from node.chains.ethereum.tester_provider import InProcessChainProvider\n"
            "InProcessChainProvider()\n"
            "assert sys.getrecursionlimit() <= 1000, sys.getrecursionlimit()\n"
            "try:\n    json.loads('[' * 99000 + ']' * 99000)\nexcept RecursionError:\n    print('refused')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "refused" in result.stdout, (result.returncode, result.stderr[-2000:])


def _rpc(base: str, method: str, params: list[Any]) -> tuple[int, Any, float]:
    payload = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    t0 = time.perf_counter()
    status, body = _request("POST", f"{base}/rpc", payload)
    return status, body, time.perf_counter() - t0


def test_rpc_endless_loop_is_cut_by_the_gas_cap(node: tuple[str, Path]) -> None:
    base, _ = node
    loop = {"data": "0x5b600056"}
    with HealthProbe(base):
        for method in ("eth_estimateGas", "eth_call"):
            status, body, seconds = _rpc(base, method, [loop, "latest"])
            assert status == 200 and "error" in body, body
            assert seconds < 6, f"{method} of an endless loop took {seconds:.1f} s"
        # a caller asking for more gas than the cap gets the cap
        status, body, seconds = _rpc(base, "eth_call", [loop | {"gas": hex(30_000_000)}, "latest"])
        assert "error" in body and seconds < 6
    status, body, _ = _rpc(base, "eth_estimateGas", [{"data": "0x00"}, "latest"])
    assert status == 200 and 21_000 <= int(body["result"], 16) <= 60_000, body


def test_rpc_is_rate_limited_per_client(node: tuple[str, Path]) -> None:
    base, _ = node
    statuses = []
    for _ in range(60):
        status, body, _ = _rpc(base, "eth_chainId", [])
        statuses.append(status)
        if status == 429:
            assert body["error"]["code"] == "rate_limited"
            break
    assert statuses[-1] == 429, statuses
    req = urllib.request.Request(f"{base}/rpc", method="POST", data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 429 and int(err.value.headers["Retry-After"]) >= 1
    time.sleep(2)  # refills: later tests use /rpc too


def test_rpc_is_not_mounted_with_an_external_chain() -> None:
    from node.api.app import build_app
    from node.config import NodeConfig

    app = build_app(NodeConfig(rpc_url="http://127.0.0.1:8545", private_key="0x" + "11" * 32))
    assert all(r.resource is None or r.resource.canonical != "/rpc" for r in app.router.routes())
    embedded = build_app(NodeConfig())
    assert any(r.resource is not None and r.resource.canonical == "/rpc" for r in embedded.router.routes())


def _half_open(base: str, payload: bytes) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(payload)
    return sock


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        while sock.recv(4096):
            pass
        return True
    except TimeoutError:
        return False
    except OSError:
        return True
    finally:
        sock.close()


def test_slow_clients_are_dropped_and_the_node_keeps_answering(node: tuple[str, Path]) -> None:
    base, _ = node
    partial_headers = b"POST /v1/attestations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    partial_body = (b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
                    b"\r\n{\"jsonrpc\": ")
    with HealthProbe(base):
        socks = [_half_open(base, partial_headers if i % 2 else partial_body) for i in range(200)]
        t0 = time.perf_counter()
        deadline = HEADER_TIMEOUT_S + BODY_TIMEOUT_S + 3
        closed = [_closed_within(s, max(0.1, deadline - (time.perf_counter() - t0))) for s in socks]
    assert all(closed), f"{closed.count(False)} of {len(socks)} half-sent requests still held after {deadline} s"
    _alive(base)


def test_numbers_in_inputs_are_strict(node: tuple[str, Path]) -> None:
    base, _ = node
    from explainers.digits import export_onnx, train_digits_mlp

    module, _ = train_digits_mlp(seed=0)
    status, model = _request("POST", f"{base}/v1/models?name=d", export_onnx(module, (64,)), key=ADMIN)
    assert status == 201, model
    bad = {"huge integer": "1" + "0" * 400, "beyond float32": "1e300", "boolean": "true", "NaN literal": "NaN"}
    for what, literal in bad.items():
        body = ('{"model_hash": "%s", "input": [%s%s], "method": "gradient"}'
                % (model["model_hash"], literal, ", 0" * 63)).encode()
        status, answer = _request("POST", f"{base}/v1/attestations", body, key=KEY)
        assert status == 400, (what, status, answer)
    _alive(base)


def test_data_dir_is_700_and_database_600(node: tuple[str, Path]) -> None:
    _, data = node
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    for f in data.glob("zkxai.db*"):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def _bomb(n: int = 8192) -> bytes:
    """2.8 kB: a valid digits-shaped Gemm plus ConstantOfShape([n, n]) that onnxruntime's constant folding expands
    into an n*n float32 tensor (256 MiB for 8192) when it builds a session."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.random.default_rng(0).normal(size=(10, 64)).astype(np.float32), "W")
    shape = numpy_helper.from_array(np.array([n, n], dtype=np.int64), "shape")
    nodes = [helper.make_node("Gemm", ["x", "W"], ["g"], transB=1),
             helper.make_node("ConstantOfShape", ["shape"], ["big"],
                              value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
             helper.make_node("ReduceSum", ["big"], ["s"], keepdims=0),
             helper.make_node("Add", ["g", "s"], ["y"])]
    graph = helper.make_graph(nodes, "bomb", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], [w, shape])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString()


def test_onnx_constant_folding_bomb_is_refused_before_onnxruntime(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.onnx"
    bomb.write_bytes(_bomb())
    assert len(bomb.read_bytes()) < 4096
    code = ("import resource, sys\nfrom explainers.model import load_onnx\nfrom explainers.errors import ExplainerError\n"
            "data = open(sys.argv[1], 'rb').read()\nbefore = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "try:\n    load_onnx(data)\nexcept ExplainerError as exc:\n    print('refused:', exc)\n"
            "print('growth_mib', (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)\n")
    result = subprocess.run([sys.executable, "-c", code, str(bomb)], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    growth = float(result.stdout.split("growth_mib")[1])
    assert "refused:" in result.stdout and "ConstantOfShape" in result.stdout, result.stdout
    assert growth < 64, f"loading a 2.8 kB model grew the peak memory by {growth:.0f} MiB"


def test_onnx_bomb_upload_is_a_4xx_and_the_node_keeps_answering(node: tuple[str, Path]) -> None:
    base, _ = node
    with HealthProbe(base):
        status, body = _request("POST", f"{base}/v1/models?name=bomb", _bomb(), key=ADMIN)
    assert 400 <= status < 500, (status, body)


def test_attack_script_runs_against_the_live_node(node: tuple[str, Path]) -> None:
    base, _ = node
    time.sleep(2)  # let the rpc bucket refill a little
    result = subprocess.run([sys.executable, "scripts/attack_node.py", base, "--key", KEY, "--sockets", "50",
                             "--slow-wait", str(HEADER_TIMEOUT_S + BODY_TIMEOUT_S + 3)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SURVIVED" in result.stdout and "DIED" not in result.stdout, result.stdout
    refused = subprocess.run([sys.executable, "scripts/attack_node.py", "http://example.com:80"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "loopback" in refused.stderr

