"""A real Ray cluster for tests: a head and worker nodes, each ``ray start --block`` in its own process group on
127.0.0.1 with explicit free ports and its own temp dir (never ``ray stop``, which would stop every Ray on the
machine). The worker processes import this checkout (PYTHONPATH)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.node_harness import ROOT, free_port

RAY = Path(sys.executable).parent / "ray"
#: Every Ray process of a test (nodes, the node replicas, the probe): no usage report, and no token authentication
#: (loopback only; explicit, so a token file another Ray run left in ~/.ray is not half-applied).
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


#: Worker port ranges handed out by this process (each node gets its own).
_RANGES: list[range] = []


def _worker_range(size: int = 41) -> range:
    """Ports for a node's worker processes, below Linux's ephemeral range (32768+), where ``free_port`` picks the
    components' ports: the two never collide. Every port of the range is bindable now."""
    while True:
        low = random.randrange(20000, 32768 - size)
        ports = range(low, low + size)
        if any(set(ports) & set(r) for r in _RANGES):
            continue
        try:
            for port in ports:
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        _RANGES.append(ports)
        return ports


def _ports() -> list[str]:
    """Explicit, distinct ports for one Ray node's components (other Rays may run on this machine)."""
    chosen: set[int] = set()
    while len(chosen) < 6:
        chosen.add(free_port())
    a, b, c, d, e, f = sorted(chosen)
    workers = _worker_range()
    return ["--node-manager-port", str(a), "--object-manager-port", str(b), "--dashboard-agent-listen-port", str(c),
            "--dashboard-agent-grpc-port", str(d), "--metrics-export-port", str(e), "--runtime-env-agent-port", str(f),
            "--min-worker-port", str(workers.start), "--max-worker-port", str(workers.stop - 1)]


@dataclass
class RayCluster:
    address: str
    temp_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def add_worker(self, cpus: int = 1) -> subprocess.Popen[bytes]:
        proc = _start([str(RAY), "start", "--block", "--address", self.address, "--node-ip-address", "127.0.0.1",
                       "--num-cpus", str(cpus), *_ports()], self.temp_dir / f"worker{len(self.procs)}.log")
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Stop one Ray node: its ``ray start`` and every process it started (its own process group)."""
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **RAY_ENV}
    with open(log, "ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env,
                                start_new_session=True)


def wait_nodes(address: str, count: int, timeout: float = 120) -> None:
    """Until ``count`` Ray nodes are alive (asked in a subprocess: the test process stays out of Ray)."""
    probe = ("import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False, configure_logging=False); "
             "print(sum(1 for n in ray.nodes() if n['Alive']))")
    deadline = time.monotonic() + timeout
    while True:
        got = subprocess.run([sys.executable, "-c", probe, address], capture_output=True, text=True, timeout=120,
                             env={**os.environ, **RAY_ENV})
        if got.returncode == 0 and got.stdout.strip() and int(got.stdout.split()[-1]) >= count:
            return
        assert time.monotonic() < deadline, f"Ray nodes not up: {got.stdout[-500:]} {got.stderr[-2000:]}"
        time.sleep(1)


@contextmanager
def running_ray(head_cpus: int = 1, workers: int = 1) -> Iterator[RayCluster]:
    temp = Path(tempfile.mkdtemp(prefix="zkxai-ray-"))
    port = free_port()
    cluster = RayCluster(f"127.0.0.1:{port}", temp)
    head = _start([str(RAY), "start", "--head", "--block", "--port", str(port), "--node-ip-address", "127.0.0.1",
                   "--num-cpus", str(head_cpus), "--include-dashboard", "false", "--disable-usage-stats",
                   "--temp-dir", str(temp), *_ports()], temp / "head.log")
    cluster.procs.append(head)
    try:
        for _ in range(workers):
            cluster.add_worker()
        wait_nodes(cluster.address, 1 + workers)
        yield cluster
    finally:
        for proc in reversed(cluster.procs):
            cluster.kill(proc, signal.SIGTERM)
