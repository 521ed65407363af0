#!/usr/bin/env python3
"""Run the issue-10 attacks against a live zkxai node on loopback and say whether it survived each.

    scripts/attack_node.py http://127.0.0.1:8080 [--key SUBMITTER_KEY] [--sockets 400] [--slow-wait 45]

Only loopback URLs are accepted (exit 2 otherwise). Every attack is bounded in count and time. For each attack the
script prints the answer, the worst /healthz latency measured while it ran (a probe every 0.1 s) and SURVIVED
(the node answered /healthz afterwards, every probe within 1 s) or DIED. Exit 0 when it survived every attack.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

DEEP = b"[" * 100_000 + b"]" * 100_000


def _loopback(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if parts.scheme != "http" or not ok:
        raise SystemExit(2)
    return host, parts.port or 80


def _post(url: str, body: bytes, key: str | None, timeout: float = 60) -> str:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return f"{resp.status} {resp.read()[:120]!r}"
    except urllib.error.HTTPError as err:
        return f"{err.code} {err.read()[:120]!r}"
    except OSError as exc:
        return f"no answer: {exc}"


def _healthz(base: str) -> float:
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
            return time.perf_counter() - t0 if resp.status == 200 else float("inf")
    except OSError:
        return float("inf")


def _attack(base: str, name: str, run: Callable[[], str]) -> bool:
    latencies: list[float] = []
    stop = threading.Event()

    def probe() -> None:
        while not stop.is_set():
            latencies.append(_healthz(base))
            time.sleep(0.1)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        answer = run()
    finally:
        stop.set()
        thread.join()
    after = _healthz(base)
    worst = max(latencies + [after])
    survived = after < 1.0 and worst < 1.0
    print(f"{name:<34} {'SURVIVED' if survived else 'DIED':<8} worst /healthz {worst:6.3f} s   {answer}", flush=True)
    return survived


def _rpc(method: str, params: list[object]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()


def _slow(host: str, port: int, count: int, wait: float) -> str:
    heads = b"POST /v1/attestations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    bodies = b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"jsonrpc\": "
    socks = []
    for i in range(count):
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(heads if i % 2 else bodies)
            socks.append(s)
        except OSError:
            break
    deadline, held = time.monotonic() + wait, 0
    for s in socks:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            while s.recv(4096):
                pass
        except TimeoutError:
            held += 1
        except OSError:
            pass
        finally:
            s.close()
    return f"{len(socks)} half-sent requests, {held} still held after {wait:g} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the node, e.g. http://127.0.0.1:8080 (loopback only)")
    parser.add_argument("--key", help="a submitter key, for the authenticated endpoints")
    parser.add_argument("--sockets", type=int, default=400, help="half-sent requests to open (at most 1000)")
    parser.add_argument("--slow-wait", type=float, default=45.0, help="seconds the node has to drop them")
    args = parser.parse_args()
    try:
        host, port = _loopback(args.url)
    except SystemExit:
        print(f"refusing {args.url}: this script attacks loopback (127.0.0.0/8, ::1, localhost) http URLs only",
              file=sys.stderr)
        return 2
    base = args.url.rstrip("/")
    sockets = max(1, min(args.sockets, 1000))
    attacks: list[tuple[str, Callable[[], str]]] = [
        ("deep JSON to /rpc", lambda: _post(f"{base}/rpc", DEEP, None)),
        ("deep JSON to /v1/attestations", lambda: _post(f"{base}/v1/attestations", DEEP, args.key)),
        ("eth_estimateGas endless loop", lambda: _post(f"{base}/rpc", _rpc("eth_estimateGas",
                                                                            [{"data": "0x5b600056"}, "latest"]), None)),
        ("eth_call endless loop, 30M gas", lambda: _post(f"{base}/rpc", _rpc("eth_call", [
            {"data": "0x5b600056", "gas": hex(30_000_000)}, "latest"]), None)),
        ("10**400 / 1e300 / true in input", lambda: " | ".join(_post(
            f"{base}/v1/attestations", ('{"model_hash": "0x%s", "input": [%s]}' % ("00" * 32, v)).encode(),
            args.key)[:3] for v in ("1" + "0" * 400, "1e300", "true"))),
        (f"{sockets} half-sent requests", lambda: _slow(host, port, sockets, args.slow_wait)),
    ]
    results = [_attack(base, name, run) for name, run in attacks]
    print(f"{sum(results)} of {len(results)} attacks survived")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
