"""A query's steps (kgapp.sparql.steps) are driven the same in a thread and on an event loop: waits on a pipe and on
a signal, their time limits, and steps closed when their caller goes away."""

from __future__ import annotations

import asyncio
import os
import threading
from multiprocessing import Pipe

import pytest

from kgapp.sparql.steps import Call, Signal, Wait, drive, drive_async


def waiting(wait: Wait | Signal, seen: list):
    """Steps that wait once and answer what they were sent; ``seen`` records how they ended."""
    try:
        got = yield wait
        seen.append(got)
        return got
    except GeneratorExit:
        seen.append("closed")
        raise


def both(steps_for) -> list:
    """What the same steps answer when driven in this thread and on a loop."""
    return [drive(steps_for()), asyncio.run(drive_async(steps_for()))]


def test_a_pipe_with_data_is_readable_and_an_empty_one_times_out():
    reader, writer = Pipe(duplex=False)
    writer.send_bytes(b"x")
    assert both(lambda: waiting(Wait(reader, 1.0), [])) == [True, True]
    reader.recv_bytes()
    assert both(lambda: waiting(Wait(reader, 0.05), [])) == [False, False]


def test_a_pipe_written_later_wakes_the_loop():
    reader, writer = Pipe(duplex=False)
    threading.Timer(0.1, writer.send_bytes, [b"x"]).start()
    assert asyncio.run(drive_async(waiting(Wait(reader, 5.0), []))) is True


def test_a_signal_from_another_thread_wakes_either_driver_and_a_missing_one_times_out():
    def from_a_thread(wake):
        threading.Timer(0.05, wake).start()
    assert both(lambda: waiting(Signal(from_a_thread, 5.0), [])) == [True, True]
    assert both(lambda: waiting(Signal(lambda wake: None, 0.05), [])) == [False, False]


def test_steps_cancelled_on_the_loop_are_closed():
    reader, _ = Pipe(duplex=False)
    seen: list = []

    async def cancelled() -> None:
        task = asyncio.ensure_future(drive_async(waiting(Wait(reader, 30.0), seen)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    asyncio.run(cancelled())
    assert seen == ["closed"]


def test_a_wake_after_the_loop_closed_is_ignored():
    kept = []
    assert asyncio.run(drive_async(waiting(Signal(kept.append, 0.01), []))) is False
    kept[0]()  # a checkin long after its waiter gave up and its loop closed: nothing raised


def test_a_call_runs_in_a_thread_on_the_loop_here_otherwise_and_its_error_is_thrown_in():
    ran_in: list[str] = []

    def where() -> str:
        ran_in.append(threading.current_thread().name)
        return "done"

    def calling(fn):
        try:
            return (yield Call(fn))
        except OSError as e:
            return f"caught {e}"
    assert both(lambda: calling(where)) == ["done", "done"]
    assert ran_in[0] == threading.current_thread().name != ran_in[1]

    def failing() -> str:
        raise OSError("the pipe closed")
    assert both(lambda: calling(failing)) == ["caught the pipe closed"] * 2


def test_a_pipe_awaited_on_uvloop_is_left_blocking_for_its_reader():
    """uvloop (granian's loop wherever it is installed, as kgapp declares) makes a file descriptor it watches
    non-blocking; a worker's pipe is then read with blocking calls, which would fail midway through an answer
    (every query for a worker answered 503 "the query worker stopped")."""
    uvloop = pytest.importorskip("uvloop")
    reader, writer = Pipe(duplex=False)
    threading.Timer(0.05, writer.send_bytes, [b"x"]).start()
    loop = uvloop.new_event_loop()
    try:
        assert loop.run_until_complete(drive_async(waiting(Wait(reader, 5.0), []))) is True
    finally:
        loop.close()
    assert os.get_blocking(reader.fileno())
    assert reader.recv_bytes() == b"x"
    threading.Timer(0.05, writer.send_bytes, [b"y" * 300_000]).start()  # more than one read's worth
    assert reader.recv_bytes() == b"y" * 300_000
