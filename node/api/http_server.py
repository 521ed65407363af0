"""Serving the aiohttp application with limits on what one client can hold: time to send headers, connections.

``web.run_app`` keeps a connection that sends half a request line for its keep-alive time and accepts any number of
connections. :func:`serve` runs the same ``AppRunner`` with

* ``keepalive_timeout = api.header_timeout_s``: aiohttp arms that timer when a connection opens and after each
  response, and closes the connection if no complete request head has arrived by then (slow or silent clients);
* a short lingering time, so a connection whose body timed out (408, see ``node.api.app``) is closed promptly;
* at most ``api.max_connections`` open connections: one more is answered ``503`` and closed at once;
* the listen ``api.backlog``.

Shutdown is ``web.run_app``'s: SIGINT / SIGTERM -> ``GracefulExit`` -> ``runner.cleanup()`` (on_shutdown, then the
cleanup contexts, ``shutdown_timeout`` for in-flight handlers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from aiohttp.web_runner import GracefulExit

from node.config import NodeConfig

log = logging.getLogger("zkxai.node")

_BUSY_BODY = b'{"error": {"code": "too_many_connections", "message": "connection limit reached"}}'
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
         b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY))
#: Seconds a response waits for the rest of an unread body before the connection is closed.
LINGERING_S = 1.0


class _Busy(asyncio.Protocol):
    """Answers 503 and closes: the connection limit is reached."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        transport.write(_BUSY)
        transport.close()


async def _serve(app: web.Application, config: NodeConfig, shutdown_timeout: float) -> None:
    runner = web.AppRunner(app, handle_signals=True, keepalive_timeout=config.header_timeout_s,
                           lingering_time=LINGERING_S, shutdown_timeout=shutdown_timeout, access_log=None)
    await runner.setup()
    try:
        server = runner.server
        assert server is not None

        def protocol() -> asyncio.BaseProtocol:
            if len(server.connections) >= config.max_connections:
                return _Busy()
            return server()

        listener = await asyncio.get_running_loop().create_server(
            protocol, config.host, config.port, backlog=config.backlog, reuse_address=True)
        try:
            while True:
                await asyncio.sleep(3600)
        finally:
            listener.close()
    finally:
        await runner.cleanup()


def serve(app: web.Application, config: NodeConfig, *, shutdown_timeout: float = 30) -> None:
    """Run ``app`` on ``config.host:config.port`` until SIGINT / SIGTERM (like ``web.run_app``, with the limits)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    task = loop.create_task(_serve(app, config, shutdown_timeout))
    try:
        loop.run_until_complete(task)
    except (GracefulExit, KeyboardInterrupt):
        pass
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, GracefulExit):
                loop.run_until_complete(task)
        pending = asyncio.all_tasks(loop)
        for other in pending:
            other.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
