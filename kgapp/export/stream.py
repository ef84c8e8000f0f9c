"""Stream a writer's output as an iterator of chunks, for web responses, without holding it in memory."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator

from kgapp.export.writer import CHUNK, export_format, write_export
from kgapp.store.base import Store


class _QueueWriter(io.RawIOBase):
    """A file whose writes become queue items; a closed reader makes the next write fail, ending the writer."""

    def __init__(self, q: queue.Queue, cancelled: threading.Event):
        self.q, self.cancelled = q, cancelled

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        while not self.cancelled.is_set():
            try:
                self.q.put(chunk, timeout=0.2)
                return len(chunk)
            except queue.Full:
                continue
        raise BrokenPipeError("export reader went away")


_DONE = object()


def stream(write, *args, **kwargs) -> Iterator[bytes]:
    """Run ``write(*args, output, **kwargs)`` in a thread and yield what it writes, a few chunks in memory at most."""
    q: queue.Queue = queue.Queue(maxsize=8)
    cancelled = threading.Event()
    failure: list[BaseException] = []

    def run():
        try:
            with io.BufferedWriter(_QueueWriter(q, cancelled), CHUNK) as out:
                write(*args, out, **kwargs)
        except BrokenPipeError:
            pass
        except Exception as e:  # handed to the reader, which re-raises it in the request thread
            failure.append(e)
        finally:
            while not cancelled.is_set():
                try:
                    q.put(_DONE, timeout=0.2)
                    break
                except queue.Full:
                    continue

    worker = threading.Thread(target=run, name="kgapp-export", daemon=True)
    worker.start()
    try:
        while (item := q.get()) is not _DONE:
            yield item
        if failure:
            raise failure[0]
    finally:
        cancelled.set()  # if the client left early the writer stops at its next write


def stream_export(store: Store, fmt: str, inferred: bool = False) -> Iterator[bytes]:
    """The bytes of write_export, streamed in chunks (for the web)."""
    export_format(fmt)  # fail before streaming starts, while a proper status can still be sent
    return stream(lambda out: write_export(store, fmt, out, inferred=inferred))
