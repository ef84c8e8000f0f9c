"""Endpoint queries in worker processes: a time limit that really stops the work, and bounded concurrency.

Oxigraph cannot cancel a query, so an embedded store is queried in a small pool of worker processes
(forkserver context: forking a threaded server is unsafe; a forkserver that has already imported
pyoxigraph starts a worker in milliseconds). Each worker opens the app's build read-only itself. The
request thread sends one job as JSON bytes over a pipe and waits at most ``query_timeout`` for the
answer (a JSON header, then the serialised body as raw bytes: no term objects are pickled); on timeout
the worker is killed, which frees its CPU at once, and is replaced lazily. ``max_concurrent_queries``
slots sit in front, shared fairly by client (kgapp.sparql.gate): a request waits for a slot (then for one
of the ``query_workers`` workers, kgapp.sparql.pool) at most ``query_timeout``, then gets 503 rather than
queueing without bound. A query of a client that already holds a slot, or that used more than
``low_priority_after`` seconds of slot time lately, runs at a lower CPU priority, so one client's extra
or back-to-back heavy queries cannot slow everyone else's; a query beyond its worker's memory limit answers
503 too. Queries that cannot run long (kgapp.sparql.bounded)
are answered in the request thread, inside a slot (``fast_path``), and answers are kept per build
(kgapp.sparql.cache, ``result_cache``). Any other store (a remote one) is queried in the request
thread; its own HTTP timeout bounds the work. A caller on the lean path's lane (kgapp.sparql.lane)
leaves it for every wait (a slot, a worker's answer, a remote store's reply) and for a star that may be wide.
``steps`` is the same work as a generator that yields each wait for a worker (kgapp.sparql.steps), so that an
event loop can await it; on the loop (the ``INLINE`` lane) a star that may be wide goes to a worker too.
"""

from __future__ import annotations

import atexit
import json
import signal
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from kgapp.config import Config
from kgapp.errors import ProtocolError
from kgapp.sparql.answer import answer
from kgapp.sparql.bounded import star_kind
from kgapp.sparql.cache import ResultCache
from kgapp.sparql.gate import FairGate
from kgapp.sparql.lane import INLINE, Lane, WouldWait, left_when_long, released
from kgapp.sparql.pool import RETRY_AFTER, WorkerPool, busy_error
from kgapp.sparql.request import QueryRequest
from kgapp.sparql.steps import Call, Signal, Steps, Wait, drive
from kgapp.sparql.worker import OUT_OF_MEMORY, WorkerProcess
from kgapp.sparql_text import check_query
from kgapp.store.base import Store

_EXECUTORS: weakref.WeakSet[QueryExecutor] = weakref.WeakSet()
CACHE_BYTES = 64 * 1024 * 1024  # answers kept per build when ``result_cache`` is on
LONG_BODY = 256 * 1024  # a worker's answer longer than this is read in a thread when on an event loop


class QueryTimeout(ProtocolError):
    """A query stopped at ``query_timeout`` (503 with Retry-After)."""


class QueryOutOfMemory(ProtocolError):
    """A query stopped at its worker's memory limit (503 with Retry-After)."""


@dataclass(frozen=True)
class Answer:
    content_type: str
    body: bytes | bytearray  # a worker's answer is read into a bytearray (kgapp.sparql.worker)
    rows: int
    truncated: bool


# -- the pool, on the app side ---------------------------------------------------------------------

class QueryExecutor:
    """Runs endpoint queries with the app's limits; ``close()`` ends its worker processes."""

    # ``slots`` may be shared with the executor of the build this one replaces (kgapp.web.serving).
    def __init__(self, store: Store, config: Config, slots: FairGate | None = None):
        self.store = store
        self.timeout = config.query_timeout
        self.max_rows = config.max_rows
        self.slot_count = config.max_concurrent_queries
        self.slots = slots or FairGate(config.max_concurrent_queries, config.low_priority_after)
        self._in_slots = 0  # queries holding a slot through this executor
        # The hook for other stores: only an embedded one is queried out of process; a remote store is
        # queried in the request thread, bounded by its own HTTP timeout.
        self.pooled = store.folder is not None
        self.fast_path = config.fast_path
        # Only a local build never changes; a remote store's graphs may change under the same manifest.
        self.cache: ResultCache[Answer] | None = ResultCache(CACHE_BYTES) if config.result_cache and self.pooled \
            else None
        self._build = store.folder
        self.queue_wait = config.query_timeout  # how long a request may wait for a free slot (and worker)
        self.pool = WorkerPool(store.folder, config)
        self._lock = threading.Lock()
        _EXECUTORS.add(self)

    def run(self, request: QueryRequest, accept: str | None, cap_link: str | None = None, client: str = "-",
            lane: Lane | None = None) -> Answer:
        """The answer to ``request`` for ``client``; ProtocolError for refusals, 503 for timeouts and a full
        pool. A cut answer links to ``cap_link`` in its body. A query of a client that already holds a slot,
        or that kept slots busy lately (``low_priority_after``), runs in the low-priority pool. A caller
        holding ``lane`` (kgapp.sparql.lane) leaves it while this waits: for a slot, a worker, a remote store."""
        return drive(self.steps(request, accept, cap_link, client, lane))

    def steps(self, request: QueryRequest, accept: str | None, cap_link: str | None = None, client: str = "-",
              lane: Lane | None = None) -> Steps[Answer]:
        """``run`` as steps that yield each wait for a query worker's answer (kgapp.sparql.steps). On the
        ``INLINE`` lane the waits for a busy worker to free are yielded too; waiting for a slot, a worker's
        start or a remote store raises WouldWait instead."""
        check_query(request.text)  # updates and SERVICE are refused without using a worker
        key = (self._build, request, accept, cap_link) if self.cache is not None else None
        if key is not None and (cached := self.cache.get(key)) is not None:  # type: ignore[union-attr]
            return cached
        waited = time.monotonic()
        if not self.slots.try_acquire(client):
            with released(lane):
                if not self.slots.acquire(client, timeout=self.queue_wait):
                    raise busy_error()
        with self._lock:
            self._in_slots += 1
        began = time.monotonic()
        try:
            star = star_kind(request.text) if self.pooled and self.fast_path else None  # judged once per shape
            # On the loop a star that may be wide goes to a worker too: awaiting its answer costs the loop nothing.
            if self.pooled and (star is None or lane is INLINE and star != "narrow"):
                low = self.slots.held_by(client) > 1 or self.slots.is_heavy(client)
                if lane is INLINE:  # the waits for a worker and for its answer are yielded, not slept
                    worker = yield from self._free_worker(client, low, waited + self.queue_wait)
                    result = yield from self._pooled(worker, request, accept, cap_link, client)
                else:
                    with released(lane):
                        worker = self.pool.checkout(client, low, max(0.0, self.queue_wait - (time.monotonic() - waited)))
                        result = yield from self._pooled(worker, request, accept, cap_link, client)
            elif star != "narrow":  # a remote store's reply may take seconds;
                with released(lane):  # a bounded star on an IRI anchor may find thousands of rows
                    result = self._in_thread(request, accept, cap_link)
            else:  # a narrow star; one that turns out wide leaves the lane (kgapp.sparql.results.LONG_ROWS)
                with left_when_long(lane) as on_long:
                    result = self._in_thread(request, accept, cap_link, on_long)
        finally:
            with self._lock:
                self._in_slots -= 1
            self.slots.release(client, time.monotonic() - began)
        if key is not None:
            self.cache.put(key, result, len(result.body))  # type: ignore[union-attr]
        return result

    def busy_slots(self) -> int:
        """Slots taken by queries running through this executor."""
        return self._in_slots

    def warm(self) -> None:
        """Start the workers in the background, so that the first queries do not wait for them."""
        if self.pooled:
            threading.Thread(target=self._warm_one, name="kgapp-warm", daemon=True).start()

    def _warm_one(self) -> None:
        try:
            self.pool.warm()
        except ProtocolError:
            pass  # closed while starting: the next query starts its own

    def _in_thread(self, request: QueryRequest, accept: str | None, cap_link: str | None,
                   on_long: Callable[[], None] | None = None) -> Answer:
        fmt, written = answer(self.store, request, accept, self.max_rows, cap_link, self.fast_path, on_long)
        return Answer(fmt.content_type, written.body, written.rows, written.truncated)

    def _free_worker(self, client: str, low: bool, until: float) -> Steps[WorkerProcess]:
        """An idle worker, waited for until a checkin frees one (by ``until``); WouldWait if one must be started."""
        while (worker := self.pool.try_checkout(client, low)) is None:
            if self.pool.startable(low):
                raise WouldWait  # a start takes a core for a while: a request thread's work
            if until <= time.monotonic() or not (yield Signal(self.pool.on_checkin, until - time.monotonic())):
                raise busy_error()
        return worker

    def _pooled(self, worker: WorkerProcess, request: QueryRequest, accept: str | None, cap_link: str | None,
                client: str) -> Steps[Answer]:
        job = {"text": request.text, "default": request.default_graphs, "named": request.named_graphs,
               "formats": request.formats, "base": request.base_iri, "accept": accept, "max_rows": self.max_rows,
               "cap_link": cap_link, "planned": self.fast_path}
        try:
            worker.conn.send_bytes(json.dumps(job).encode())
            if not (yield Wait(worker.conn, self.timeout)):
                raise TimeoutError
            header = json.loads(worker.conn.recv_bytes())
            body: bytes | bytearray = b""
            if header["status"] == 200 and header.get("bytes", 0) > LONG_BODY:  # on a loop, read in a thread
                body = yield Call(worker.receive_body)
            elif header["status"] == 200:
                body = worker.receive_body()
        except TimeoutError:
            self.pool.checkin(worker, client, keep=False)
            raise QueryTimeout(503, f"The query took longer than the {self.timeout:g} s this endpoint "
                                              "allows and was stopped. Narrow it down (LIMIT, more specific "
                                              "patterns) and try again.", {"Retry-After": RETRY_AFTER}) from None
        except (EOFError, OSError):
            self.pool.checkin(worker, client, keep=False)  # killed by close(), or died: replaced on demand
            raise self._died(worker) from None
        except BaseException:  # the steps were closed while waiting (their caller went away): end the job
            self.pool.checkin(worker, client, keep=False)
            raise
        self.pool.checkin(worker, client, keep=not header.get("recycle"))
        if header["status"] != 200:
            raise ProtocolError(header["status"], header["message"], header["headers"])
        return Answer(header["type"], body, header["rows"], header["truncated"])

    def _died(self, worker: WorkerProcess) -> ProtocolError:
        """Why a worker ended before answering: its memory limit (503, said so), or anything else (503)."""
        if worker.process.exitcode in (OUT_OF_MEMORY, -signal.SIGABRT) and self.pool.memory:
            return QueryOutOfMemory(503, f"The query needed more than the {self.pool.memory // 2**20} MB of memory "
                                         "a query may use here and was stopped. Narrow it down (LIMIT, more "
                                         "specific patterns) and try again.", {"Retry-After": RETRY_AFTER})
        return ProtocolError(503, "The query worker stopped before answering; try again.",
                             {"Retry-After": RETRY_AFTER})

    @property
    def _busy(self) -> list[WorkerProcess]:
        return self.pool.busy()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests and diagnostics)."""
        return self.pool.pids()

    def close(self) -> None:
        """Kill every worker; later queries get 503. Safe to call more than once."""
        self.pool.close()


@atexit.register
def _close_all() -> None:
    for executor in list(_EXECUTORS):
        executor.close()
