"""One request thread at a time runs a lean request's Python, in arrival order: the lookups' tail, halved.

A lookup costs a few hundred microseconds of CPU, most of it holding the interpreter lock (GIL). With
eight request threads, each time Oxigraph or a lock wait lets the GIL go for a moment, another thread
takes it, and which request gets on is up to the threads' wake-ups: some wait many turns. The lean GET
path (kgapp.web.lean) runs each request inside ``held()``, one at a time in arrival order; the executor
leaves the lane with ``released(lane)`` around everything that waits (a free query slot, a query
worker's answer, a remote store's reply) and around a bounded star that may be wide (anchored only on an
IRI object: kgapp.sparql.bounded.is_narrow), so a waiting or wide request holds up no one, and a narrow
answer that turns out wide (``left_when_long``: past kgapp.sparql.results.LONG_ROWS rows) finishes outside it. Over HTTP at 70k
triples, side by side: lookups' p99 6-7 ms against 10-12 without the lane, at the same rate. A plain
lock instead (a newcomer may take it before the thread woken for it) answered 5-10 % more lookups a
second but raised the p99 to 12-15 ms (benchmarks/README.md, "The lane").

On an event loop (kgapp.web.asgi) a request runs on the ``INLINE`` lane, a stand-in that cannot be left:
the waits a loop can await are yielded instead (kgapp.sparql.steps), and leaving it for any other wait raises
``WouldWait``, so the request starts again in a request thread, on the real lane.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext


class Lane:
    """A lock for the lean path's Python work, granted in arrival order (why: the module's docstring):
    ``with lane.held(): …``, left with ``released(lane)``."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._busy = False
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self) -> None:
        with self._mutex:
            if not self._busy:
                self._busy = True
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the holder handing the lane over; it stayed busy

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._busy = False

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    @contextmanager
    def _released(self) -> Iterator[None]:
        self.release()
        try:
            yield
        finally:
            self.acquire()

    def locked(self) -> bool:
        return self._busy


class WouldWait(Exception):  # noqa: N818 - a signal, not an error
    """Raised by the ``INLINE`` lane where a request would wait or run long: answer it in a request thread."""


class _Inline(Lane):
    """A lane for a request answered on an event loop's thread: leaving it, i.e. waiting, is not allowed."""

    def acquire(self) -> None:
        pass

    def release(self) -> None:
        raise WouldWait

    @contextmanager
    def _released(self) -> Iterator[None]:
        raise WouldWait
        yield  # pragma: no cover - a generator that never yields


INLINE: Lane = _Inline()


@contextmanager
def left_when_long(lane: Lane | None) -> Iterator[Callable[[], None]]:
    """A callback for work done inside ``lane`` that may turn out long (a wide answer): its first call leaves
    the lane, which is taken again when the body ends, so a long answer holds up no one."""
    left = False

    def leave() -> None:
        nonlocal left
        if lane is not None and not left:
            left = True
            lane.release()

    try:
        yield leave
    finally:
        if left:
            assert lane is not None
            lane.acquire()


def released(lane: Lane | None) -> AbstractContextManager[None]:
    """Leave ``lane`` (held by this thread) for the body, e.g. while waiting; nothing if there is no lane."""
    return nullcontext() if lane is None else lane._released()
