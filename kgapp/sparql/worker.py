"""The query worker process: opens one build read-only and answers jobs from its app over a pipe."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import resource
import struct
from collections.abc import Iterable, Mapping
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kgapp.errors import KgappError
from kgapp.sparql.answer import answer
from kgapp.sparql.request import QueryRequest
from kgapp.store.base import Store
from kgapp.store.embedded import EmbeddedStore

log = logging.getLogger("kgapp.executor")
_CONTEXT = multiprocessing.get_context("forkserver")
# What the forkserver imports once, so a worker forked from it starts in milliseconds.
_CONTEXT.set_forkserver_preload(["kgapp.sparql.worker"])
READY = b"ready"  # the worker's first message: started, the store opened (or its failure noted)
OUT_OF_MEMORY = 86  # a worker's exit status after a query ran out of its memory limit


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> bytes:
    return json.dumps({"status": status, "message": message, "headers": headers or {}}).encode()


def _worker(conn: Connection, build: str, nice: int = 0, memory: int = 0) -> None:
    """Answer jobs until the app closes the pipe; a store that will not open is reported per job.

    ``nice`` is added to the worker's CPU niceness (a process can raise it, never lower it back: the
    low-priority workers are a pool of their own). ``memory`` (bytes, 0: none) bounds what its queries may
    allocate beyond what the worker holds once the store is open (RLIMIT_DATA, set then: it counts address
    space reserved for thread stacks and arenas too, which the open store already has): an allocation
    beyond it fails, and the worker ends with OUT_OF_MEMORY (or is aborted by Oxigraph's allocator) so
    that a fresh one replaces it. A worker whose anonymous memory grew by more than half the bound since
    then answers its job and asks to be replaced (``recycle``), so memory a heavy query left behind goes
    back to the system."""
    if nice:
        os.nice(nice)
        if hasattr(os, "SCHED_IDLE"):  # run only on a core nobody else wants (Linux; no privilege needed)
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    try:
        store, failure = EmbeddedStore.open_build(Path(build)), None
    except Exception as e:  # noqa: BLE001 - reported to the request, which answers 503
        store, failure = None, f"The store cannot be opened: {e}"
    recycle_at = 0
    if memory:
        limit = _status_bytes("VmData:") + memory
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
        recycle_at = _status_bytes("RssAnon:") + memory // 2
    try:
        conn.send_bytes(READY)  # started: from now on the app's clock is the query's
    except OSError:
        return
    while True:
        try:
            job = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return  # the app went away
        if store is None:
            assert failure is not None  # set whenever the store is not
            conn.send_bytes(_error(503, failure))
            continue
        try:
            header, body = _answer(store, job, recycle_at)
            conn.send_bytes(header)
            if body is not None:
                conn.send_bytes(body)
        except MemoryError:
            os._exit(OUT_OF_MEMORY)  # the app answers 503; nothing in this process is trusted any more


def _status_bytes(field: str) -> int:
    """A size from this process's /proc status (``VmData:``, ``RssAnon:``), in bytes; 0 if unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _answer(store: Store, job: dict[str, Any], recycle_at: int = 0) -> tuple[bytes, bytes | None]:
    """The JSON header and (on success) the serialised body of one job."""
    request = QueryRequest(job["text"], _tuple(job["default"]), _tuple(job["named"]), tuple(job["formats"]),
                           job["base"])
    try:
        fmt, written = answer(store, request, job["accept"], job["max_rows"], job["cap_link"], job.get("planned", False))
    except KgappError as e:
        return _error(e.status, e.message, e.headers), None
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - a bug must not kill the worker or show a traceback to clients
        log.exception("query failed unexpectedly")
        return _error(500, "The query failed inside the server."), None
    header = {"status": 200, "type": fmt.content_type, "rows": written.rows, "truncated": written.truncated,
              "bytes": len(written.body),
              "recycle": bool(recycle_at) and _status_bytes("RssAnon:") > recycle_at}
    return json.dumps(header).encode(), written.body


def _tuple(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


class WorkerProcess:
    """One worker on ``build``: its process and the app's end of the pipe."""

    def __init__(self, build: Path, nice: int = 0, memory: int = 0):
        self.nice = nice
        self.conn, child = _CONTEXT.Pipe(duplex=True)
        self.process = _CONTEXT.Process(target=_worker, args=(child, str(build), nice, memory),
                                        name="kgapp-query-worker", daemon=True)
        self.process.start()
        child.close()

    def receive_body(self) -> bytearray:
        """The next message from the worker, as ``Connection.recv_bytes`` reads it, but read straight into one
        buffer (os.readv waits without the interpreter lock, and no chunk is copied twice): 4.8 MB in ~2 ms
        instead of ~5, and a thread beside it waits for the lock at most ~0.8 ms instead of ~3–5."""
        fd = self.conn.fileno()
        size = struct.unpack("!i", self._read_exactly(fd, memoryview(bytearray(4))))[0]
        if size == -1:  # over 2 GiB (as multiprocessing writes it)
            size = struct.unpack("!Q", self._read_exactly(fd, memoryview(bytearray(8))))[0]
        return self._read_exactly(fd, memoryview(bytearray(size)))

    @staticmethod
    def _read_exactly(fd: int, view: memoryview) -> bytearray:
        got = 0
        while got < len(view):
            n = os.readv(fd, [view[got:]])
            if n == 0:
                raise EOFError("the worker's pipe closed mid-answer")
            got += n
        return view.obj  # type: ignore[return-value]

    def stop(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()
