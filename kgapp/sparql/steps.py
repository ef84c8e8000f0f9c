"""A query's work as steps that yield its waits for a query worker: slept through in a thread, awaited on a loop.

The executor's ``steps`` (and the lean path's on top of them) are generators that yield a ``Wait`` (a
worker's pipe and the seconds it may take) and are sent back whether the pipe became readable in time.
A ``Signal`` waits for a callback instead (a worker checked in); a ``Call`` runs a function that may take
long (reading a large answer) in a thread when on a loop. ``drive`` runs the steps in a request
thread, blocking in each wait; ``drive_async`` runs them on an event loop, which meanwhile answers other
requests (kgapp.web.asgi). Steps closed while waiting (the caller went away) end their worker's job.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Generator
from multiprocessing.connection import Connection
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")


class Wait(NamedTuple):
    """Wait until ``conn`` can be read, at most ``timeout`` seconds; the steps are sent whether it can."""

    conn: Connection
    timeout: float


class Signal(NamedTuple):
    """Wait until the callback handed to ``register`` is called (from any thread), at most ``timeout`` seconds;
    the steps are sent whether it was."""

    register: Callable[[Callable[[], None]], None]
    timeout: float


class Call(NamedTuple):
    """Run ``fn`` where it cannot hold up others (on a loop: in a thread); the steps are sent its result, or have
    its exception thrown in."""

    fn: Callable[[], Any]


Steps = Generator[Wait | Signal | Call, Any, T]


def drive(steps: Steps[T]) -> T:
    """Run ``steps`` in this thread, blocking in each wait."""
    try:
        wait = next(steps)
        while True:
            if isinstance(wait, Call):
                try:
                    result = wait.fn()
                except Exception as e:  # noqa: BLE001 - thrown into the steps, whose handlers decide
                    wait = steps.throw(e)
                    continue
                wait = steps.send(result)
            elif isinstance(wait, Signal):
                event = threading.Event()
                wait.register(event.set)
                wait = steps.send(event.wait(wait.timeout))
            else:
                wait = steps.send(wait.conn.poll(wait.timeout))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def drive_async(steps: Steps[T]) -> T:
    """Run ``steps`` on the running event loop, awaiting each wait; cancelled, the steps are closed."""
    try:
        wait = next(steps)
        while True:
            if isinstance(wait, Call):
                try:
                    result = await asyncio.get_running_loop().run_in_executor(None, wait.fn)
                except Exception as e:  # noqa: BLE001 - thrown into the steps, whose handlers decide
                    wait = steps.throw(e)
                    continue
                wait = steps.send(result)
            else:
                wait = steps.send(await (signalled(*wait) if isinstance(wait, Signal) else readable(*wait)))
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    except asyncio.CancelledError:
        steps.close()
        raise


async def signalled(register: Callable[[Callable[[], None]], None], timeout: float) -> bool:
    """Whether the callback handed to ``register`` was called within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[bool] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            try:
                loop.call_soon_threadsafe(_done, ready)
            except RuntimeError:
                pass  # its loop has closed: nobody waits any more
    register(wake)
    try:
        return await asyncio.wait_for(ready, timeout)
    except TimeoutError:
        return False


def _done(ready: asyncio.Future[bool]) -> None:
    if not ready.done():
        ready.set_result(True)


async def readable(conn: Connection, timeout: float) -> bool:
    """Whether ``conn`` became readable within ``timeout`` seconds, awaited without a thread."""
    if conn.poll(0):
        return True
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[bool] = loop.create_future()
    fd = conn.fileno()
    loop.add_reader(fd, _done, ready)
    try:
        return await asyncio.wait_for(ready, timeout)
    except TimeoutError:
        return False
    finally:
        loop.remove_reader(fd)
        os.set_blocking(fd, True)  # uvloop's add_reader (libuv's poll) left it non-blocking; the pipe is read blocking
