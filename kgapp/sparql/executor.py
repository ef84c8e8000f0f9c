"""Endpoint queries in worker processes: a time limit that really stops the work, and bounded concurrency.

Oxigraph cannot cancel a query, so an embedded store is queried in a small pool of worker processes
(forkserver context: forking a threaded server is unsafe; a forkserver that has already imported
pyoxigraph starts a worker in milliseconds). Each worker opens the app's build read-only itself. The
request thread sends one job as JSON bytes over a pipe and waits at most ``query_timeout`` for the
answer (a JSON header, then the serialised body as raw bytes: no term objects are pickled); on timeout
the worker is killed, which frees its CPU at once, and is replaced lazily. A semaphore of
``max_concurrent_queries`` slots sits in front: a request waits for a slot at most ``query_timeout``,
then gets 503 rather than queueing without bound. Queries that cannot run long (kgapp.sparql.bounded)
are answered in the request thread, inside a slot (``fast_path``), and answers are kept per build
(kgapp.sparql.cache, ``result_cache``). Any other store (a remote one) is queried in the request
thread; its own HTTP timeout bounds the work.
"""

from __future__ import annotations

import atexit
import json
import threading
import weakref
from dataclasses import dataclass
from typing import cast

from kgapp.config import Config
from kgapp.errors import ProtocolError
from kgapp.sparql.answer import answer
from kgapp.sparql.bounded import is_bounded
from kgapp.sparql.cache import ResultCache
from kgapp.sparql.request import QueryRequest
from kgapp.sparql.worker import READY, WorkerProcess
from kgapp.sparql_text import check_query
from kgapp.store.base import Store

_EXECUTORS: weakref.WeakSet[QueryExecutor] = weakref.WeakSet()
RETRY_AFTER = "5"
# A new worker imports kgapp (and the main module) before it can answer: seconds on a busy machine. That
# start is not the query's time, so it has its own, generous limit.
START_LIMIT = 60.0
CACHE_BYTES = 64 * 1024 * 1024  # answers kept per build when ``result_cache`` is on


class QueryTimeout(ProtocolError):
    """A query stopped at ``query_timeout`` (503 with Retry-After)."""


@dataclass(frozen=True)
class Answer:
    content_type: str
    body: bytes
    rows: int
    truncated: bool


# -- the pool, on the app side ---------------------------------------------------------------------

class QueryExecutor:
    """Runs endpoint queries with the app's limits; ``close()`` ends its worker processes."""

    # ``slots`` may be shared with the executor of the build this one replaces (kgapp.web.serving).
    def __init__(self, store: Store, config: Config, slots: threading.BoundedSemaphore | None = None):
        self.store = store
        self.timeout = config.query_timeout
        self.max_rows = config.max_rows
        self.slot_count = config.max_concurrent_queries
        self.slots = slots or threading.BoundedSemaphore(config.max_concurrent_queries)
        self._in_slots = 0  # queries holding a slot through this executor
        # The hook for other stores: only an embedded one is queried out of process; a remote store is
        # queried in the request thread, bounded by its own HTTP timeout.
        self.pooled = store.folder is not None
        self.fast_path = config.fast_path
        # Only a local build never changes; a remote store's graphs may change under the same manifest.
        self.cache: ResultCache[Answer] | None = ResultCache(CACHE_BYTES) if config.result_cache and self.pooled \
            else None
        self._build = store.folder
        self.queue_wait = config.query_timeout  # how long a request may wait for a free slot
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._closed = False
        _EXECUTORS.add(self)

    def run(self, request: QueryRequest, accept: str | None, cap_link: str | None = None) -> Answer:
        """The answer to ``request``; ProtocolError for refusals, 503 for timeouts and a full pool. A cut
        answer links to ``cap_link`` in its body."""
        check_query(request.text)  # updates and SERVICE are refused without using a worker
        key = (self._build, request, accept, cap_link) if self.cache is not None else None
        if key is not None and (cached := self.cache.get(key)) is not None:  # type: ignore[union-attr]
            return cached
        if not self.slots.acquire(timeout=self.queue_wait):
            raise ProtocolError(503, "The endpoint is busy with other queries; try again shortly.",
                                         {"Retry-After": RETRY_AFTER})
        with self._lock:
            self._in_slots += 1
        try:
            if self.pooled and not (self.fast_path and is_bounded(request.text)):
                result = self._pooled(request, accept, cap_link)
            else:
                result = self._in_thread(request, accept, cap_link)
        finally:
            with self._lock:
                self._in_slots -= 1
            self.slots.release()
        if key is not None:
            self.cache.put(key, result, len(result.body))  # type: ignore[union-attr]
        return result

    def busy_slots(self) -> int:
        """Slots taken by queries running through this executor."""
        return self._in_slots

    def warm(self) -> None:
        """Start one worker in the background, so that the first query does not wait for it."""
        if self.pooled:
            threading.Thread(target=self._warm_one, name="kgapp-warm", daemon=True).start()

    def _warm_one(self) -> None:
        try:
            self._checkin(self._new_worker())
        except ProtocolError:
            pass  # closed while starting: the next query starts its own

    def _new_worker(self) -> WorkerProcess:
        """A started worker, ready for a job (its start-up does not count against any query's time limit)."""
        assert self.store.folder is not None  # only a pooled executor (a local build) starts workers
        worker = WorkerProcess(self.store.folder)
        try:
            if worker.conn.poll(START_LIMIT) and worker.conn.recv_bytes() == READY:
                return worker
        except (EOFError, OSError):
            pass
        worker.stop()
        raise ProtocolError(503, "A query worker could not start; try again.", {"Retry-After": RETRY_AFTER})

    def _in_thread(self, request: QueryRequest, accept: str | None, cap_link: str | None) -> Answer:
        fmt, written = answer(self.store, request, accept, self.max_rows, cap_link, self.fast_path)
        return Answer(fmt.content_type, written.body, written.rows, written.truncated)

    def _pooled(self, request: QueryRequest, accept: str | None, cap_link: str | None) -> Answer:
        worker = self._checkout()
        job = {"text": request.text, "default": request.default_graphs, "named": request.named_graphs,
               "formats": request.formats, "base": request.base_iri, "accept": accept, "max_rows": self.max_rows,
               "cap_link": cap_link, "top_k": self.fast_path}
        try:
            worker.conn.send_bytes(json.dumps(job).encode())
            if not worker.conn.poll(self.timeout):
                raise TimeoutError
            header = json.loads(worker.conn.recv_bytes())
            body = worker.conn.recv_bytes() if header["status"] == 200 else b""
        except TimeoutError:
            self._discard(worker)
            raise QueryTimeout(503, f"The query took longer than the {self.timeout:g} s this endpoint "
                                              "allows and was stopped. Narrow it down (LIMIT, more specific "
                                              "patterns) and try again.", {"Retry-After": RETRY_AFTER}) from None
        except (EOFError, OSError):
            self._discard(worker)  # killed by close(), or died: its replacement starts on demand
            raise ProtocolError(503, "The query worker stopped before answering; try again.",
                                         {"Retry-After": RETRY_AFTER}) from None
        self._checkin(worker)
        if header["status"] != 200:
            raise ProtocolError(header["status"], header["message"], header["headers"])
        return Answer(header["type"], body, header["rows"], header["truncated"])

    def _checkout(self) -> WorkerProcess:
        with self._lock:
            if self._closed:
                raise ProtocolError(503, "The endpoint is shutting down.", {"Retry-After": RETRY_AFTER})
            worker = self._idle.pop() if self._idle else None
        if worker is None or not worker.process.is_alive():
            if worker is not None:
                worker.stop()
            worker = self._new_worker()
        with self._lock:
            self._busy.add(worker)
        return worker

    def _checkin(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._busy.discard(worker)
            if not self._closed:
                self._idle.append(worker)
                return
        worker.stop()

    def _discard(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._busy.discard(worker)
        worker.stop()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        with self._lock:
            workers = self._idle + list(self._busy)
        return [cast(int, w.process.pid) for w in workers if w.process.is_alive()]  # started: it has a pid

    def close(self) -> None:
        """Kill every worker; later queries get 503. Safe to call more than once."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy)
        for worker in idle:
            worker.stop()
        for worker in busy:
            # Its request thread is waiting on the pipe: killing wakes it (EOF) and it cleans up.
            worker.process.kill()


@atexit.register
def _close_all() -> None:
    for executor in list(_EXECUTORS):
        executor.close()
