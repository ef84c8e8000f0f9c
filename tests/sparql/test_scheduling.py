"""Scheduling of query slots and workers: round-robin by client, a client's extra queries at a lower CPU
priority, and a memory limit per worker that answers 503 and leaves the next query working."""

from __future__ import annotations

import os
import threading
import time

import pytest

from kgapp.config import Config
from kgapp.sparql import gate as gate_module
from kgapp.sparql.gate import DECAY, FairGate

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
# Sorting the cross product of the graph with itself: the worker must hold every row before the first
# one comes out, millions of rows on the test store.
HOG = "SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } ORDER BY ?o ?c ?b ?p"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def ask(app, query: str, addr: str):
    return app.test_client().get("/sparql", query_string={"query": query}, environ_base={"REMOTE_ADDR": addr})


def in_background(app, query: str, addr: str) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(ask(app, query, addr)))
    thread.start()
    return thread, out


def wait_busy(executor, n: int) -> None:
    deadline = time.monotonic() + 20
    while len(executor._busy) < n:
        assert time.monotonic() < deadline, "the background queries never started"
        time.sleep(0.02)


# -- the gate: round-robin by client ---------------------------------------------------------------

def grant_order(gate: FairGate, waiters: list[str]) -> list[str]:
    """Start one waiting thread per entry (in this order), then free slots one by one: who got in, in order."""
    order: list[str] = []
    threads = []
    for who in waiters:
        t = threading.Thread(target=lambda w=who: gate.acquire(w, 10) and order.append(w))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while len(gate._waiting) < len(threads) - len(order):
            assert time.monotonic() < deadline
            time.sleep(0.005)
    for _ in waiters:
        before = len(order)
        gate.release(order[-1] if order else "A")
        deadline = time.monotonic() + 5
        while len(order) == before:
            assert time.monotonic() < deadline
            time.sleep(0.005)
    for t in threads:
        t.join(5)
    return order


def test_waiting_queries_are_let_in_round_robin_by_client_not_first_come():
    gate = FairGate(1)
    assert gate.acquire("A", 1)  # A holds the only slot and queues three more; B and C queue one each
    assert grant_order(gate, ["A", "A", "A", "B", "C"]) == ["B", "C", "A", "A", "A"]


def test_a_client_holding_slots_waits_behind_one_holding_none():
    gate = FairGate(2)
    assert gate.acquire("A", 1) and gate.acquire("B", 1)
    assert gate.held_by("A") == 1 and gate.in_use == 2
    got: list[str] = []
    for who in ("A", "C"):  # A asks first, while it already holds a slot; C holds none
        threading.Thread(target=lambda w=who: gate.acquire(w, 5) and got.append(w)).start()
    while len(gate._waiting) < 2:
        time.sleep(0.005)
    gate.release("B")
    while not got:
        time.sleep(0.005)
    assert got == ["C"] and gate.held_by("C") == 1


def test_the_gate_gives_up_after_its_timeout_and_forgets_the_waiter():
    gate = FairGate(1)
    assert gate.acquire("A")
    started = time.monotonic()
    assert gate.acquire("B", 0.2) is False and time.monotonic() - started < 2
    assert gate._waiting == [] and gate.held_by("B") == 0
    gate.release("A")
    assert gate.acquire("B", 0.2) and gate.in_use == 1


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_recent_use_adds_up_the_slot_time_and_decays_by_1_over_e_every_decay_seconds(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(gate_module.time, "monotonic", clock)
    gate = FairGate(2, heavy_after=1.5)
    for _ in range(2):
        assert gate.acquire("A", 1)
        gate.release("A", used=1.0)
    assert gate.recent_use("A") == pytest.approx(2.0) and gate.is_heavy("A")
    assert gate.recent_use("B") == 0 and not gate.is_heavy("B")
    clock.now += DECAY
    assert gate.recent_use("A") == pytest.approx(2.0 / 2.718281828, rel=1e-6) and not gate.is_heavy("A")
    assert gate.acquire("A", 1)
    gate.release("A", used=0.5)  # the new use is added to what is left of the old
    assert gate.recent_use("A") == pytest.approx(2.0 / 2.718281828 + 0.5, rel=1e-6)


def test_without_a_threshold_no_client_is_heavy():
    gate = FairGate(1, heavy_after=0)
    assert gate.acquire("A", 1)
    gate.release("A", used=1e6)
    assert gate.recent_use("A") > 0 and not gate.is_heavy("A")


def test_a_heavy_client_waits_behind_a_light_one_served_after_it():
    for threshold, order in ((1.0, ["L", "H"]), (0, ["H", "L"])):  # without a threshold: round-robin, as before
        gate = FairGate(1, heavy_after=threshold)
        for who, used in (("H", 5.0), ("L", 0.01)):  # H kept a slot busy for five seconds, then L had a turn
            assert gate.acquire(who, 1)
            gate.release(who, used=used)
        assert gate.acquire("A", 1)  # A holds the only slot; H, then L wait (neither holds one)
        assert grant_order(gate, ["H", "L"]) == order


# -- CPU priority: a client's extra queries run in the low-priority pool ---------------------------

@pytest.mark.parametrize("after, policy", [(0.5, os.SCHED_IDLE), (0, os.SCHED_OTHER)])
def test_a_client_that_used_its_recent_share_runs_even_its_only_query_at_low_priority(make_app, after, policy):
    app = make_app(max_concurrent_queries=4, query_workers=4, query_timeout=1, low_priority_after=after)
    executor = app.extensions["kgapp.serving"].current.executor
    assert ask(app, RUNAWAY, "10.0.0.1").status_code == 503  # a second of a worker's time, stopped at the limit
    assert executor.slots.recent_use("10.0.0.1") >= 0.9
    heavy = in_background(app, RUNAWAY, "10.0.0.1")  # now its only query
    wait_busy(executor, 1)
    assert [os.sched_getscheduler(w.process.pid) for w in executor._busy] == [policy]
    light = in_background(app, RUNAWAY, "10.0.0.2")  # a client that has used nothing: the normal pool
    wait_busy(executor, 2)
    assert sorted(os.sched_getscheduler(w.process.pid) for w in executor._busy) == sorted([policy, os.SCHED_OTHER])
    for thread, _ in (heavy, light):
        thread.join(15)


def test_a_clients_second_query_runs_at_a_lower_cpu_priority_and_others_do_not(make_app):
    app = make_app(max_concurrent_queries=4, query_workers=4, max_queries_per_client=0, query_timeout=3)
    executor = app.extensions["kgapp.serving"].current.executor
    base = os.getpriority(os.PRIO_PROCESS, 0)
    first = in_background(app, RUNAWAY, "10.0.0.1")
    wait_busy(executor, 1)
    second = in_background(app, RUNAWAY, "10.0.0.1")
    wait_busy(executor, 2)
    niceness = sorted(os.getpriority(os.PRIO_PROCESS, w.process.pid) for w in executor._busy)
    assert niceness == [base, min(19, base + Config().low_priority_nice)]
    policies = sorted(os.sched_getscheduler(w.process.pid) for w in executor._busy)
    assert policies == sorted([os.SCHED_OTHER, os.SCHED_IDLE])  # the second only runs on an idle core
    assert ask(app, COUNT, "10.0.0.2").status_code == 200  # another client: at once, in the normal pool
    for thread, _ in (first, second):
        thread.join(15)
    assert [out[0].status_code for _, out in (first, second)] == [503, 503]  # stopped at the time limit
    assert ask(app, COUNT, "10.0.0.1").status_code == 200  # alone again: served as before
    assert len(executor.worker_pids()) <= 4  # the two pools together stay within query_workers


def test_one_pool_when_low_priority_is_off(make_app):
    app = make_app(max_concurrent_queries=3, max_queries_per_client=0, query_timeout=3, low_priority_nice=0)
    executor = app.extensions["kgapp.serving"].current.executor
    runs = [in_background(app, RUNAWAY, "10.0.0.1") for _ in range(2)]
    wait_busy(executor, 2)
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert [os.getpriority(os.PRIO_PROCESS, w.process.pid) for w in executor._busy] == [base, base]
    for thread, _ in runs:
        thread.join(15)


def test_fewer_workers_than_slots_queue_fairly_and_lose_no_query(make_app):
    app = make_app(max_concurrent_queries=8, query_workers=2, max_queries_per_client=0, query_timeout=20,
                   result_cache=False)
    queries = [in_background(app, COUNT, f"10.0.0.{i % 3 + 1}") for i in range(12)]
    for thread, _ in queries:
        thread.join(60)
    assert [out[0].status_code for _, out in queries] == [200] * 12
    assert len(app.extensions["kgapp.serving"].current.executor.worker_pids()) <= 2


# -- memory: a query beyond its worker's limit ------------------------------------------------------

def test_a_query_beyond_the_memory_limit_answers_503_and_the_next_query_works(make_app):
    app = make_app(query_workers=1, query_memory=32, query_timeout=60, max_rows=10)
    executor = app.extensions["kgapp.serving"].current.executor
    r = ask(app, HOG, "10.0.0.1")
    text = r.get_data(as_text=True)
    assert r.status_code == 503 and r.headers["Retry-After"] and r.mimetype == "text/plain"
    assert "32 MB of memory" in text and text.count("\n") == 1
    assert executor.worker_pids() == []  # the worker that ran out is gone ...
    r = ask(app, COUNT, "10.0.0.1")
    assert r.status_code == 200 and int(r.headers["X-KGApp-Rows"]) == 1  # ... and a fresh one answers


def test_without_a_memory_limit_the_same_query_is_stopped_by_the_time_limit_instead(make_app):
    app = make_app(query_workers=1, query_memory=0, query_timeout=1, max_rows=10)
    r = ask(app, HOG, "10.0.0.1")
    assert r.status_code == 503 and "took longer" in r.get_data(as_text=True)


def test_the_defaults_derive_from_the_machine():
    config = Config()
    ram_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    assert config.query_workers == 2 * (os.cpu_count() or 1)
    assert 64 <= config.query_memory <= min(640, max(64, ram_mb // 4))
    assert config.low_priority_nice > 0


def test_a_clients_extra_queries_hold_at_most_half_the_workers(make_app):
    app = make_app(max_concurrent_queries=6, query_workers=4, max_queries_per_client=0, query_timeout=3)
    executor = app.extensions["kgapp.serving"].current.executor
    runs = [in_background(app, RUNAWAY, "10.0.0.1") for _ in range(4)]
    wait_busy(executor, 3)  # its first query in the normal pool, two in the low-priority one; the fourth waits
    time.sleep(0.3)
    assert len(executor._busy) == 3
    assert ask(app, COUNT, "10.0.0.2").status_code == 200  # a worker was left for everyone else
    for thread, _ in runs:
        thread.join(20)
    assert all(out and out[0].status_code == 503 for _, out in runs)  # all stopped at the limit, none lost
