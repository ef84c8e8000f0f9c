"""The query worker processes of one build: at most ``query_workers``, each within its share of ``query_memory``.

Two pools share the bound: workers at the normal CPU priority, and workers whose niceness is raised by
``low_priority_nice`` (and, on Linux, scheduled SCHED_IDLE: they run only on a core nobody else wants) for
the queries of a client that already runs another (kgapp.sparql.executor), so the kernel gives the cores
to everyone else's queries first. A worker's niceness cannot be lowered again, so
an idle worker of the other pool is ended when a new one of this pool is needed and the bound is reached.
Waiting for a worker is fair by client (kgapp.sparql.gate). Workers start lazily; one whose memory grew
past half its limit is replaced after its answer (kgapp.sparql.worker).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from kgapp.config import Config
from kgapp.errors import ProtocolError
from kgapp.sparql.gate import FairGate
from kgapp.sparql.worker import READY, WorkerProcess

RETRY_AFTER = "5"
# A new worker imports kgapp (and the main module) before it can answer: seconds on a busy machine. That
# start is not the query's time, so it has its own, generous limit.
START_LIMIT = 60.0
MB = 2**20


def busy_error() -> ProtocolError:
    """503 for a query that found no free slot or worker in time."""
    return ProtocolError(503, "The endpoint is busy with other queries; try again shortly.", {"Retry-After": RETRY_AFTER})


class WorkerPool:
    """Checks workers out and in for one build folder; ``close()`` ends them all."""

    def __init__(self, build: Path | None, config: Config):
        self.build = build
        self.size = max(1, min(config.query_workers, config.max_concurrent_queries))
        self.memory = config.query_memory * MB // self.size if config.query_memory > 0 else 0
        self.low_nice = max(0, config.low_priority_nice)
        self.gate = FairGate(self.size)
        # Low-priority queries may hold at most half the workers: the rest stay for everyone else's.
        self.low_gate = FairGate(max(1, self.size // 2))
        self._idle: dict[bool, list[WorkerProcess]] = {False: [], True: []}
        self._busy: set[WorkerProcess] = set()
        self._out = 0  # workers checked out or being started for a checkout
        self._lock = threading.Lock()
        self._wakers: list[Callable[[], None]] = []  # called at the next checkin (on_checkin)
        self.closed = False

    def checkout(self, who: str, low: bool, timeout: float) -> WorkerProcess:
        """A worker of the normal or the low-priority pool, held for ``who``; 503 if none frees in ``timeout``."""
        low = low and self.low_nice > 0
        until = time.monotonic() + timeout
        if low and not self.low_gate.acquire(who, timeout):
            raise busy_error()
        if not self.gate.acquire(who, max(0.0, until - time.monotonic())):
            if low:
                self.low_gate.release(who)
            raise busy_error()
        try:
            return self._take(low)
        except BaseException:
            self._release(who, low)
            raise

    def on_checkin(self, wake: Callable[[], None]) -> None:
        """Call ``wake`` once, from the thread that checks a worker in next (or closes the pool)."""
        with self._lock:
            self._wakers.append(wake)

    def startable(self, low: bool) -> bool:
        """Whether ``checkout`` would start a worker now rather than wait for one: the pool is below its size, or
        an idle worker of the other priority would make room."""
        low = low and self.low_nice > 0
        with self._lock:
            return self._out + len(self._idle[False]) + len(self._idle[True]) < self.size or bool(self._idle[not low])

    def try_checkout(self, who: str, low: bool) -> WorkerProcess | None:
        """An idle, live worker of the pool ``checkout`` would use, held for ``who``, if one is there now and
        nobody waits for one; else None. Never waits and never starts a worker."""
        low = low and self.low_nice > 0
        if low and not self.low_gate.try_acquire(who):
            return None
        if not self.gate.try_acquire(who):
            if low:
                self.low_gate.release(who)
            return None
        with self._lock:
            worker = self._idle[low].pop() if self._idle[low] and not self.closed else None
            if worker is not None and worker.process.is_alive():
                self._out += 1
                self._busy.add(worker)
                return worker
        if worker is not None:
            worker.stop()  # died while idle: a new one starts on demand
        self._release(who, low)
        return None

    def _release(self, who: str, low: bool) -> None:
        self.gate.release(who)
        if low:
            self.low_gate.release(who)

    def _take(self, low: bool) -> WorkerProcess:
        surplus: WorkerProcess | None = None
        with self._lock:
            if self.closed:
                raise ProtocolError(503, "The endpoint is shutting down.", {"Retry-After": RETRY_AFTER})
            worker = self._idle[low].pop() if self._idle[low] else None
            if worker is None and self._out + len(self._idle[not low]) >= self.size and self._idle[not low]:
                surplus = self._idle[not low].pop(0)  # the bound holds: the other pool gives up an idle worker
            self._out += 1
        if surplus is not None:
            surplus.stop()
        try:
            if worker is None or not worker.process.is_alive():
                if worker is not None:
                    worker.stop()
                worker = self.start(low)
        except BaseException:
            with self._lock:
                self._out -= 1
            raise
        with self._lock:
            self._busy.add(worker)
        return worker

    def start(self, low: bool = False) -> WorkerProcess:
        """A started worker, ready for a job (its start-up does not count against any query's time limit)."""
        assert self.build is not None  # only a pooled executor (a local build) starts workers
        worker = WorkerProcess(self.build, self.low_nice if low else 0, self.memory)
        try:
            if worker.conn.poll(START_LIMIT) and worker.conn.recv_bytes() == READY:
                return worker
        except (EOFError, OSError):
            pass
        worker.stop()
        raise ProtocolError(503, "A query worker could not start; try again.", {"Retry-After": RETRY_AFTER})

    def checkin(self, worker: WorkerProcess, who: str, keep: bool = True) -> None:
        """Give ``worker`` back (``keep`` False: end it, a fresh one replaces it on demand)."""
        low = worker.nice > 0
        with self._lock:
            self._busy.discard(worker)
            self._out -= 1
            if keep and not self.closed:
                self._idle[worker.nice > 0].append(worker)
                worker = None  # type: ignore[assignment]
        if worker is not None:
            worker.stop()
        self._release(who, low)
        self._wake()

    def _wake(self) -> None:
        with self._lock:
            wakers, self._wakers = self._wakers, []
        for wake in wakers:
            wake()

    def warm(self) -> None:
        """Start workers of the normal pool up to the bound, one after another (a start takes a core)."""
        for _ in range(self.size):
            with self._lock:
                if self.closed or self._out + len(self._idle[False]) + len(self._idle[True]) >= self.size:
                    return
            self.add_idle(self.start())

    def add_idle(self, worker: WorkerProcess) -> None:
        with self._lock:
            if not self.closed and self._out + len(self._idle[False]) + len(self._idle[True]) < self.size:
                self._idle[worker.nice > 0].append(worker)
                return
        worker.stop()

    def busy(self) -> list[WorkerProcess]:
        with self._lock:
            return list(self._busy)

    def pids(self) -> list[int]:
        with self._lock:
            workers = self._idle[False] + self._idle[True] + list(self._busy)
        return [cast(int, w.process.pid) for w in workers if w.process.is_alive()]  # started: it has a pid

    def close(self) -> None:
        """Kill every worker. Safe to call more than once."""
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle[False] + self._idle[True], {False: [], True: []}
            busy = list(self._busy)
        self._wake()
        for worker in idle:
            worker.stop()
        for worker in busy:
            # Its request thread is waiting on the pipe: killing wakes it (EOF) and it cleans up.
            worker.process.kill()
