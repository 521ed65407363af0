"""An embedded node: the real node (aiohttp app, pipeline, prover pool, SQLite) on loopback in this process, with
the in-process EVM, as ``zkxai demo`` runs it. For notebooks and tests; its chain is lost at exit."""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from node.sdk.errors import NodeUnavailable

log = logging.getLogger("zkxai.sdk")


@dataclass
class EmbeddedNode:
    """A started embedded node; ``url`` is its loopback base URL. Create with :func:`start_embedded`."""

    url: str
    data_dir: Path
    runner: web.AppRunner
    #: Set when ``data_dir`` is a temporary directory of ours, removed at close.
    temporary: bool = False

    async def close(self) -> None:
        await self.runner.cleanup()
        if self.temporary:
            shutil.rmtree(self.data_dir, ignore_errors=True)


async def start_embedded(data_dir: Path | None = None, *, prover_workers: int = 1) -> EmbeddedNode:
    """Start a node on 127.0.0.1 (a free port) with embedded defaults; ``data_dir`` None = a temporary directory.

    The first start on a data directory runs the circuit's key setup (a few seconds); the in-process chain always
    starts empty, so the database of an earlier run is not reused.
    """
    from node.api.app import build_app
    from node.config import NodeConfig

    temporary = data_dir is None
    if data_dir is None:
        data_dir = Path(tempfile.mkdtemp(prefix="zkxai-sdk-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "zkxai.db").unlink(missing_ok=True)  # records of an earlier in-process chain point at nothing
    config = NodeConfig(port=0, data_dir=data_dir, prover_workers=prover_workers, prover_backend="threads")
    runner = web.AppRunner(build_app(config))
    try:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
    except Exception as exc:
        await runner.cleanup()
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
        raise NodeUnavailable(f"the embedded node did not start: {type(exc).__name__}: {exc}") from exc
    port = runner.addresses[0][1]
    log.info("embedded zkxai node on http://127.0.0.1:%s (in-process EVM, data in %s)", port, data_dir)
    return EmbeddedNode(url=f"http://127.0.0.1:{port}", data_dir=data_dir, runner=runner, temporary=temporary)
