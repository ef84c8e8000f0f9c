"""One request thread at a time runs a lean request's Python: a lock that spares the interpreter lock's hand-offs.

A lookup's answer costs a few hundred microseconds of CPU, and most of it holds the interpreter lock
(GIL). Each time Oxigraph or a lock wait lets the GIL go for a moment, another of the server's request
threads takes it, and the first must wait for it back: with eight threads all answering lookups, these
hand-offs cost more than they overlap (in process at 70k triples, eight threads answered ~2,500 lookups a
second, one thread ~4,400; eight threads taking turns on one lock ~3,400). So the endpoint's lean GET
path (kgapp.web.lean) runs each request inside ``held()``, and the executor leaves the lane with
``released(lane)`` around everything that waits: a free query slot, a query worker's answer, a remote
store's reply. A request that waits never holds up the others.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext


class Lane:
    """A lock for the lean path's Python work: ``with lane.held(): …``, left with ``released(lane)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            yield

    @contextmanager
    def _released(self) -> Iterator[None]:
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()

    def locked(self) -> bool:
        return self._lock.locked()


def released(lane: Lane | None) -> AbstractContextManager[None]:
    """Leave ``lane`` (held by this thread) for the body, e.g. while waiting; nothing if there is no lane."""
    return nullcontext() if lane is None else lane._released()
