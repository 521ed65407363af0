"""Where the SDK's coroutines run: one event loop on a daemon thread, shared by every wrapped model.

A notebook already runs an event loop on its main thread (``asyncio.run`` fails there), and a service calls the
async variants from its own loop. Both are served by running the SDK's HTTP session and the embedded node on a
loop of their own: sync calls block on :func:`call`, async calls await :func:`acall` (a future bridged onto the
caller's loop).
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_closers: list[Callable[[], Awaitable[None]]] = []


def loop() -> asyncio.AbstractEventLoop:
    """The SDK's loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            new = asyncio.new_event_loop()
            started = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(new)
                new.call_soon(started.set)
                new.run_forever()

            threading.Thread(target=serve, name="zkxai-sdk", daemon=True).start()
            started.wait()
            _loop = new
        return _loop


def submit(coro: Coroutine[Any, Any, T]) -> Future[T]:
    return asyncio.run_coroutine_threadsafe(coro, loop())


def call(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run ``coro`` on the SDK's loop and wait for it (from any thread but the SDK's own)."""
    running = loop()
    try:
        current = asyncio.get_running_loop()
    except RuntimeError:
        current = None
    if current is running:
        coro.close()
        raise RuntimeError("a blocking SDK call from the SDK's own loop: use the async variant (await ...)")
    return submit(coro).result(timeout)


async def acall(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` run on the SDK's loop, from the caller's loop."""
    return await asyncio.wrap_future(submit(coro))


def on_exit(closer: Callable[[], Awaitable[None]]) -> None:
    """Run ``closer`` on the SDK's loop at interpreter exit (embedded nodes, HTTP sessions)."""
    _closers.append(closer)


@atexit.register
def _shutdown() -> None:
    if _loop is None or _loop.is_closed():
        return
    for closer in reversed(_closers):
        try:
            submit(closer()).result(30)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
    _closers.clear()
    _loop.call_soon_threadsafe(_loop.stop)
