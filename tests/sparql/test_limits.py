"""Bounded work at /sparql: time limit (the worker is killed), query length, row cap, concurrency, logging."""

from __future__ import annotations

import csv
import gc
import io
import json
import logging
import os
import threading
import time

import pytest

from kgapp.config import Config
from kgapp.sparql.executor import QueryExecutor
from kgapp.sparql.request import QueryRequest
from kgapp.web import close_app, create_app

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
JSON_RESULTS = "application/sparql-results+json"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def rows(r) -> list[dict]:
    return json.loads(r.data)["results"]["bindings"]


# -- time limit -------------------------------------------------------------------------------------

def test_runaway_query_is_stopped_with_503_and_the_worker_freed(make_app, store):
    app = make_app(query_timeout=1)
    client, executor = app.test_client(), app.extensions["kgapp.serving"].current.executor
    assert client.get("/sparql", query_string={"query": COUNT}).status_code == 200
    [worker] = executor.worker_pids()

    started = time.monotonic()
    r = client.get("/sparql", query_string={"query": RUNAWAY})
    assert time.monotonic() - started < 8  # a 1 s limit ends the request within a few seconds
    assert r.status_code == 503
    assert "longer than the 1 s" in r.get_data(as_text=True)
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8" and r.headers["Retry-After"]
    assert not alive(worker)  # killed, so its CPU is free

    r = client.get("/sparql", query_string={"query": COUNT})
    assert r.status_code == 200 and int(rows(r)[0]["n"]["value"]) == store.triple_count


def test_runaway_construct_is_stopped_too(make_app):
    r = make_app(query_timeout=1).test_client().get(
        "/sparql", query_string={"query": "CONSTRUCT { ?a ?b ?i } WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i"})
    assert r.status_code == 503


# -- query length -----------------------------------------------------------------------------------

@pytest.mark.parametrize("send", [
    lambda c, q: c.get("/sparql", query_string={"query": q}),
    lambda c, q: c.post("/sparql", data={"query": q}),
    lambda c, q: c.post("/sparql", data=q.encode(), content_type="application/sparql-query"),
], ids=["get", "post-form", "post-body"])
def test_too_long_query_is_413_before_parsing(make_app, send):
    client = make_app(max_query_length=200).test_client()
    padded = "ASK {} #" + "x" * 200
    r = send(client, padded)
    assert r.status_code == 413 and "at most 200" in r.get_data(as_text=True)
    assert send(client, "ASK { " + "(" * 300).status_code == 413  # malformed, but refused by length first
    assert send(client, "ASK {} #" + "x" * 150).status_code == 200


# -- row cap ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept, count_rows", [
    (JSON_RESULTS, lambda b: len(json.loads(b)["results"]["bindings"])),
    ("application/sparql-results+xml", lambda b: b.count(b"<result>")),
    ("text/csv", lambda b: len(list(csv.reader(io.StringIO(b.decode())))) - 1),
    ("text/tab-separated-values", lambda b: len(b.decode().splitlines()) - 1),
])
def test_results_beyond_the_cap_are_cut_and_flagged(make_app, accept, count_rows):
    client = make_app(max_rows=7).test_client()
    r = client.get("/sparql", query_string={"query": ALL}, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept)
    assert count_rows(r.data) == 7
    assert r.headers["X-KGApp-Truncated"] == "true" and r.headers["X-KGApp-Rows"] == "7"


def test_results_at_the_cap_are_whole(make_app):
    client = make_app(max_rows=5).test_client()
    for query in (ALL + " LIMIT 5", ALL + " LIMIT 4", COUNT):
        r = client.get("/sparql", query_string={"query": query})
        assert r.status_code == 200 and "X-KGApp-Truncated" not in r.headers
    assert len(rows(client.get("/sparql", query_string={"query": ALL + " LIMIT 5"}))) == 5


def test_cut_rows_are_the_first_rows_in_order(make_app, store):
    ordered = ALL + " ORDER BY ?s ?p ?o"
    expected = json.loads(store.query(ordered + " LIMIT 3").serialize(
        format=__import__("pyoxigraph").QueryResultsFormat.JSON))["results"]["bindings"]
    r = make_app(max_rows=3).test_client().get("/sparql", query_string={"query": ordered})
    assert rows(r) == expected


def test_construct_beyond_the_cap_is_cut(make_app):
    from rdflib import Graph

    r = make_app(max_rows=4).test_client().get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                                               headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["X-KGApp-Truncated"] == "true"
    assert len(Graph().parse(data=r.data, format="turtle")) == 4


CAP_LINK = "http://localhost/sparql#row-cap"


def test_a_cut_answer_says_so_in_its_body_and_links_to_a_page_that_explains(make_app):
    from xml.dom.minidom import parseString

    client = make_app(max_rows=3).test_client()
    r = client.get("/sparql", query_string={"query": ALL}, headers={"Accept": JSON_RESULTS})
    assert json.loads(r.data)["head"]["link"] == [CAP_LINK] and len(rows(r)) == 3
    r = client.get("/sparql", query_string={"query": ALL}, headers={"Accept": "application/sparql-results+xml"})
    head = parseString(r.data).getElementsByTagName("head")[0]
    assert [x.getAttribute("href") for x in head.getElementsByTagName("link")] == [CAP_LINK]
    assert head.getElementsByTagName("variable") and r.data.count(b"<result>") == 3
    r = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "text/turtle"})
    assert r.data.startswith(b"# Cut at 3 triples") and CAP_LINK.encode() in r.data
    page = client.get(CAP_LINK.removeprefix("http://localhost"), headers={"Accept": "text/html"})
    assert page.status_code == 200 and b'id="row-cap"' in page.data and b"3 rows" in page.data


def test_a_whole_answer_has_no_link(make_app):
    r = make_app(max_rows=5).test_client().get("/sparql", query_string={"query": ALL + " LIMIT 5"})
    assert "link" not in json.loads(r.data)["head"]


# -- concurrency ------------------------------------------------------------------------------------

def in_background(client, query: str) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(client.get("/sparql", query_string={"query": query})))
    thread.start()
    return thread, out


def wait_busy(executor, n: int = 1) -> None:
    deadline = time.monotonic() + 10
    while len(executor._busy) < n:
        assert time.monotonic() < deadline, "the background query never started"
        time.sleep(0.02)


def test_one_runaway_query_does_not_block_the_others(make_app):
    app = make_app(query_timeout=4, max_concurrent_queries=2)
    thread, out = in_background(app.test_client(), RUNAWAY)
    wait_busy(app.extensions["kgapp.serving"].current.executor)
    r = app.test_client().get("/sparql", query_string={"query": COUNT})
    assert r.status_code == 200 and thread.is_alive()  # answered while the runaway still runs
    thread.join(15)
    assert out[0].status_code == 503


def test_requests_beyond_the_slots_wait_a_bounded_time_then_get_503(make_app):
    app = make_app(query_timeout=4, max_concurrent_queries=1)
    executor = app.extensions["kgapp.serving"].current.executor
    executor.queue_wait = 0.3
    thread, out = in_background(app.test_client(), RUNAWAY)
    wait_busy(executor)
    started = time.monotonic()
    r = app.test_client().get("/sparql", query_string={"query": COUNT})
    assert time.monotonic() - started < 3
    assert r.status_code == 503 and "busy" in r.get_data(as_text=True) and r.headers["Retry-After"]
    close_app(app)  # kills the runaway's worker: its request ends at once
    thread.join(5)
    assert not thread.is_alive() and out[0].status_code == 503


# -- worker processes end with the app ----------------------------------------------------------------

def test_workers_end_when_the_app_is_closed_or_collected(store_path):
    app = create_app({"store": store_path, "testing": True})
    app.test_client().get("/sparql", query_string={"query": COUNT})
    pids = app.extensions["kgapp.serving"].current.executor.worker_pids()
    assert pids and all(alive(p) for p in pids)
    del app
    gc.collect()
    assert not any(alive(p) for p in pids)


def test_a_closed_app_answers_503_not_500(make_app):
    app = make_app()
    close_app(app)
    assert app.test_client().get("/sparql", query_string={"query": COUNT}).status_code == 503


def test_a_remote_store_is_queried_in_the_request_thread(store):
    class Remote:  # a store with no local build folder (as a SPARQL server): no worker processes
        folder = None
        plans_in_caller = False

        def query(self, text, **kwargs):
            return store.query(text, **kwargs)

    executor = QueryExecutor(Remote(), Config(max_rows=2))
    answer = executor.run(QueryRequest(ALL), JSON_RESULTS)
    assert answer.rows == 2 and answer.truncated and executor.worker_pids() == []


# -- logging ----------------------------------------------------------------------------------------

def test_each_query_is_logged_once_without_secrets(client, caplog):
    caplog.set_level(logging.INFO, logger="kgapp.query")
    secret = "s3cret-token-value"
    client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ ?s ?p '{secret}' }}"},
               headers={"Authorization": f"Bearer {secret}", "Cookie": f"session={secret}"})
    client.post("/sparql", data={"query": "DROP ALL"})
    client.get("/sparql", query_string={"query": "SELECT * {"})
    lines = [r.getMessage() for r in caplog.records if r.name == "kgapp.query"]
    assert len(lines) == 3
    assert lines[0].startswith("method=GET form=SELECT status=200 ms=") and "rows=0 truncated=false" in lines[0]
    assert lines[1].startswith("method=POST form=DROP status=403 ms=")
    assert lines[2].startswith("method=GET form=SELECT status=400 ms=") and "bytes=" in lines[2]
    assert all(secret not in line for line in lines) and secret not in caplog.text


# -- an answer of megabytes through the worker's pipe ------------------------------------------------

@pytest.mark.parametrize("accept", [JSON_RESULTS, "text/csv"])
def test_an_answer_of_megabytes_from_a_worker_is_byte_for_byte_the_in_thread_one(store, accept):
    executor = QueryExecutor(store, Config(max_rows=30_000, result_cache=False, fast_path=False))
    try:
        request = QueryRequest("SELECT * WHERE { ?s ?p ?o . ?a ?b ?c } LIMIT 30000")
        pooled = executor.run(request, accept)
        assert executor.worker_pids()  # it did come through a worker's pipe, read into one buffer
        local = executor._in_thread(request, accept, None)
        assert len(pooled.body) > 2**20 and pooled.rows == local.rows == 30_000
        assert bytes(pooled.body) == local.body and pooled.content_type == local.content_type
    finally:
        executor.close()
