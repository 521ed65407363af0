"""A real PostgreSQL server for tests, from Debian's packages (initdb / pg_ctl), on 127.0.0.1 and a free port."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.node_harness import free_port

PG_BIN = next((p for p in (Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15", "14", "13"))
               if (p / "initdb").exists()), None)
SKIP_REASON = "PostgreSQL server binaries (Debian package postgresql) are not installed on this machine"


def as_postgres_user(*cmd: str) -> list[str]:
    """PostgreSQL refuses to run as root: drop to nobody when we are root."""
    if os.geteuid() == 0:
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
    return list(cmd)


@contextmanager
def running_postgres(max_connections: int = 100) -> Iterator[str]:
    """A fresh server; yields its SQLAlchemy URL (psycopg 3), stops and deletes it at exit."""
    assert PG_BIN is not None, SKIP_REASON
    # not under pytest's tmp dir: that is private to root, and the server runs as nobody when we are root
    base = Path(tempfile.mkdtemp(prefix="zkxai-pg-"))
    if os.geteuid() == 0:
        shutil.chown(base, "nobody", "nogroup")
    data, port = base / "data", free_port()
    subprocess.run(as_postgres_user(str(PG_BIN / "initdb"), "-D", str(data), "-U", "zkxai", "--auth=trust"),
                   check=True, capture_output=True, cwd=base, timeout=120)
    subprocess.run(as_postgres_user(str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"), "-o",
                                    f"-p {port} -k {base} -c listen_addresses=127.0.0.1 "
                                    f"-c max_connections={max_connections}", "start"),
                   check=True, capture_output=True, cwd=base, timeout=60)
    try:
        yield f"postgresql+psycopg://zkxai@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(as_postgres_user(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"),
                       capture_output=True, cwd=base, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
