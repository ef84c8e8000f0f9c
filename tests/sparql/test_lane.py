"""The lean path's lane (kgapp.sparql.lane): one request thread at a time, and a request that waits (for a
slot, a worker, a remote store) leaves it, so it never holds up the others."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kgapp.config import Config
from kgapp.formats import by_name
from kgapp.sparql.bounded import is_bounded, is_narrow
from kgapp.sparql.executor import QueryExecutor
from kgapp.sparql.lane import Lane, released
from kgapp.sparql.request import QueryRequest
from kgapp.sparql.results import LONG_ROWS, write_result

P = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
LOOKUP = P + 'SELECT ?c ?label WHERE { ?c skos:notation "%s" ; skos:prefLabel ?label }'
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def get(app, query: str, addr: str):
    return app.test_client().get("/sparql", query_string={"query": query}, environ_base={"REMOTE_ADDR": addr})


def in_background(target) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(target()), daemon=True)
    thread.start()
    return thread, out


def until(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_the_lane_is_granted_in_arrival_order_and_can_be_left():
    lane, order = Lane(), []

    def take(name: str) -> None:
        with lane.held():
            order.append(name)

    with lane.held():
        threads = []
        for name in "abc":
            threads.append(threading.Thread(target=take, args=(name,)))
            threads[-1].start()
            until(lambda: len(lane._waiting) == len(threads), "a thread never queued")
        with released(lane):  # left: the first in line has it, then it goes on to the next
            until(lambda: order == ["a", "b", "c"], "the queued threads never got the lane in turn")
        assert lane.locked()  # held again after the body
    for thread in threads:
        thread.join(5)
    assert not lane.locked()
    with released(None):  # no lane: nothing to leave
        pass


def test_a_lookup_waiting_for_a_slot_does_not_hold_up_a_kept_answer(make_app):
    app = make_app(max_concurrent_queries=1, query_workers=1, query_timeout=4, max_queries_per_client=0,
                   result_cache=True)
    serving = app.extensions["kgapp.serving"]
    serving.current.executor.queue_wait = 10  # the waiting lookup outlasts the runaway's 4 s
    assert get(app, LOOKUP % "64868", "10.0.0.3").status_code == 200  # kept for the build
    runaway = in_background(lambda: get(app, RUNAWAY, "10.0.0.1"))  # holds the only slot, in a worker
    until(lambda: len(serving.current.executor._busy) == 1, "the runaway never started")
    waiting = in_background(lambda: get(app, LOOKUP % "64612", "10.0.0.2"))  # waits for the slot
    until(lambda: len(serving.current.executor.slots._waiting) == 1, "the lookup never waited")
    started = time.monotonic()
    again = get(app, LOOKUP % "64868", "10.0.0.3")
    assert again.status_code == 200 and b"64868" in again.data
    assert time.monotonic() - started < 2 and runaway[0].is_alive()  # answered while the others still wait
    for thread, _ in (runaway, waiting):
        thread.join(15)
    assert runaway[1][0].status_code == 503 and waiting[1][0].status_code == 200


class _SlowRemote:
    """A store that is not local (as a remote one): its answer comes when ``go`` is set."""

    folder: Path | None = None
    plans_in_caller = False

    def __init__(self) -> None:
        self.go, self.asked = threading.Event(), threading.Event()
        self.inner = ox.Store()

    def query(self, sparql: str, **_kwargs):
        self.asked.set()
        assert self.go.wait(10)
        return self.inner.query("SELECT ?x WHERE { VALUES ?x { 1 } }")


def test_a_remote_stores_reply_is_awaited_outside_the_lane():
    store, lane = _SlowRemote(), Lane()
    executor = QueryExecutor(store, Config(result_cache=False))  # type: ignore[arg-type]
    request = QueryRequest("SELECT ?x WHERE { ?x ?p ?o } LIMIT 1")

    def ask():
        with lane.held():
            return executor.run(request, "text/csv", None, "10.0.0.1", lane)

    thread, out = in_background(ask)
    assert store.asked.wait(10)
    def pass_through() -> bool:
        with lane.held():
            return True

    taken = in_background(pass_through)
    taken[0].join(2)
    assert taken[1] == [True]  # the lane was free while the store answered
    store.go.set()
    thread.join(10)
    assert out and out[0].body.splitlines() == [b"x", b"1"]
    executor.close()


# -- a bounded query that turns out wide leaves the lane -------------------------------------------

class _CountingLane(Lane):
    def __init__(self) -> None:
        super().__init__()
        self.left = 0

    def release(self) -> None:
        self.left += 1
        super().release()


def _wide_store(n: int) -> ox.Store:
    store = ox.Store()
    p, o = ox.NamedNode("http://example.org/p"), ox.NamedNode("http://example.org/o")
    store.extend(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), p, o) for i in range(n))
    return store


@pytest.mark.parametrize("n, told", [(LONG_ROWS - 1, 0), (LONG_ROWS, 1), (1000, 1)])
@pytest.mark.parametrize("query, fmt", [
    ("SELECT ?s WHERE { ?s <http://example.org/p> <http://example.org/o> }", "json"),
    ("CONSTRUCT WHERE { ?s <http://example.org/p> <http://example.org/o> }", "ntriples")])
def test_a_result_of_many_rows_says_so_once_and_is_written_the_same(n, told, query, fmt):
    store, calls = _wide_store(n), []
    plain = write_result(store.query(query), by_name(fmt), 10_000)
    written = write_result(store.query(query), by_name(fmt), 10_000, on_long=lambda: calls.append(1))
    assert len(calls) == told and written == plain and written.rows == n


HUB = "<https://w3id.org/kgapp/id/code/cpt/64612>"


@pytest.mark.parametrize("query, narrow, left, wide", [
    # an IRI-anchored star leaves the lane for its whole run, whether it finds many rows or one
    (P + "SELECT ?s WHERE { ?s a skos:Concept }", False, 1, True),
    ("SELECT ?c WHERE { ?c <https://w3id.org/kgapp/ontology#donorNerve> "
     "<https://w3id.org/kgapp/id/nerve/hypoglossal> }", False, 1, False),
    (LOOKUP % "64868", True, 0, False),  # a lookup keeps it
    (f"SELECT * WHERE {{ {HUB} ?p ?o ; ?q ?r }}", True, 1, True),  # a narrow star that turns out wide leaves it
])
def test_a_star_that_may_be_wide_runs_outside_the_lane_and_a_lookup_inside(store, query, narrow, left, wide):
    executor = QueryExecutor(store, Config(result_cache=False))
    try:
        assert is_bounded(query) and is_narrow(query) == narrow
        lane = _CountingLane()
        with lane.held():
            answer = executor.run(QueryRequest(query), "text/csv", None, "10.0.0.1", lane)
            assert lane.left == left and lane.locked()  # taken again after
        rows = len(answer.body.splitlines()) - 1
        assert rows >= 1 and (rows >= LONG_ROWS) == wide
        assert answer.body == executor.run(QueryRequest(query), "text/csv").body  # the same without a lane
    finally:
        executor.close()
