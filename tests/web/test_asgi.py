"""The ASGI front (kgapp.web.asgi): lookups answered on the event loop, the same bytes as the WSGI app; anything
that would wait, and every other route, in a request thread."""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.parse

import pytest

from kgapp.web import asgi
from kgapp.web.lean import LeanSparql

JSON = "application/sparql-results+json"
LOOKUP = 'PREFIX skos: <http://www.w3.org/2004/02/skos/core#> SELECT ?c WHERE { ?c skos:notation "64612" }'
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"  # not bounded: answered by a query worker
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def scope_of(query: bytes, path: str = "/sparql", method: str = "GET", body: bytes = b"",
             headers: list[tuple[bytes, bytes]] | None = None) -> dict:
    """An HTTP request's scope as granian would make it."""
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"accept", JSON.encode()), *(headers or []),
                        *([(b"content-length", str(len(body)).encode())] if body else [])],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def no_body() -> dict:
    return {"type": "http.request", "body": b"", "more_body": False}


async def ignore(message: dict) -> None:
    pass


def call(front: asgi.LoopFront, path: str, query: bytes = b"", method: str = "GET", body: bytes = b"",
         headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through the ASGI app."""
    scope = scope_of(query, path, method, body, headers)
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        sent.append(message)

    asyncio.run(front(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent
                                                              if m["type"] == "http.response.body")


@pytest.fixture()
def traced(make_app, monkeypatch):
    """A LoopFront over an app with the given settings, and the requests it handed to its request threads."""
    threaded: list[str] = []

    def make(**settings):
        front = asgi.LoopFront(make_app(result_cache=False, **settings), threads=2)
        handed = front.threads

        async def recorded(scope, receive, send, body=None):
            threaded.append(scope["path"])
            await handed(scope, receive, send, body)
        monkeypatch.setattr(front, "threads", recorded)
        return front
    return make, threaded


def q(text: str) -> bytes:
    return ("query=" + urllib.parse.quote(text)).encode()


def test_a_lookup_is_answered_on_the_loop_with_the_wsgi_apps_bytes(traced):
    make, threaded = traced
    front = make()
    status, headers, body = call(front, "/sparql", q(LOOKUP))
    expected = front.app.test_client().get("/sparql", query_string={"query": LOOKUP}, headers={"Accept": JSON})
    assert (status, body) == (200, expected.data) and b"/code/cpt/64612" in body
    assert headers[b"content-type"].startswith(JSON.encode()) and headers[b"x-content-type-options"] == b"nosniff"
    assert threaded == []


def executor(front: asgi.LoopFront):
    return front.app.extensions["kgapp.serving"].current.executor


def test_a_query_for_an_idle_worker_is_awaited_on_the_loop(traced):
    make, threaded = traced
    front = make()
    executor(front).pool.warm()  # idle workers: none is started on the loop
    status, _, body = call(front, "/sparql", q(HEAVY))
    expected = front.app.test_client().get("/sparql", query_string={"query": HEAVY}, headers={"Accept": JSON})
    assert (status, body) == (200, expected.data) and threaded == []


def test_with_no_idle_worker_to_start_and_for_other_routes_a_request_thread_answers(traced, monkeypatch):
    make, threaded = traced
    front = make()
    monkeypatch.setattr(type(executor(front).pool), "try_checkout", lambda self, who, low: None)
    status, _, body = call(front, "/sparql", q(HEAVY))
    assert status == 200 and b'"n"' in body
    assert call(front, "/healthz")[0] == 200
    assert threaded == ["/sparql", "/healthz"]


FORM = [(b"content-type", b"application/x-www-form-urlencoded;charset=UTF-8")]


@pytest.mark.parametrize("content_type, body", [
    (b"application/x-www-form-urlencoded;charset=UTF-8", q(LOOKUP)),
    (b"application/sparql-query", LOOKUP.encode()),
    (b"application/x-www-form-urlencoded", q(HEAVY)),
], ids=["form", "direct", "form for a worker"])
def test_a_posted_query_is_answered_on_the_loop_with_the_wsgi_apps_bytes(traced, content_type, body):
    make, threaded = traced
    front = make()
    executor(front).pool.warm()
    status, _, got = call(front, "/sparql", method="POST", body=body, headers=[(b"content-type", content_type)])
    expected = front.app.test_client().post("/sparql", data=body, headers={"Accept": JSON,
                                                                         "Content-Type": content_type.decode()})
    assert (status, got) == (expected.status_code, expected.data) and status == 200 and threaded == []


def test_posts_the_loop_leaves_to_a_request_thread_get_the_flask_answer_and_refusals_match(traced):
    make, threaded = traced
    front = make(max_query_length=100)
    missing = call(front, "/sparql", method="POST", body=b"x=1", headers=FORM)  # no query: Flask's 400
    assert missing[0] == 400 and b"Missing query" in missing[2]
    too_long = call(front, "/sparql", method="POST", body=q("ASK {}" + " " * 2000), headers=FORM)
    assert too_long[0] == 413
    assert threaded == ["/sparql", "/sparql"]
    utf16 = call(front, "/sparql", method="POST", body=LOOKUP.encode("utf-16"),
                 headers=[(b"content-type", b"application/sparql-query; charset=UTF-16")])
    flask = front.app.test_client().post("/sparql", data=LOOKUP.encode("utf-16"), headers={
        "Content-Type": "application/sparql-query; charset=UTF-16", "Accept": JSON})
    assert (utf16[0], utf16[2]) == (flask.status_code, flask.data) and b"/code/cpt/64612" in utf16[2]  # as declared


def test_a_runaway_query_awaited_on_the_loop_is_stopped_and_its_worker_ended(traced):
    make, threaded = traced
    front = make(query_timeout=1)
    executor(front).pool.warm()
    before = set(executor(front).worker_pids())
    started = time.monotonic()
    status, headers, body = call(front, "/sparql", q(RUNAWAY))
    assert status == 503 and b"longer than the 1 s" in body and b"retry-after" in headers
    assert time.monotonic() - started < 8 and threaded == []
    assert len(before - set(executor(front).worker_pids())) == 1  # its worker killed, the others idle
    assert call(front, "/sparql", q(LOOKUP))[0] == 200  # the loop goes on


def test_a_client_gone_while_its_query_is_awaited_ends_the_workers_job(traced):
    make, _ = traced
    front = make(query_timeout=30)
    pool = executor(front).pool
    pool.warm()
    before = set(executor(front).worker_pids())

    async def gone() -> None:
        task = asyncio.ensure_future(front(scope_of(q(RUNAWAY)), no_body, ignore))
        await asyncio.sleep(0.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    asyncio.run(gone())
    assert pool.busy() == [] and not before <= set(executor(front).worker_pids())


def test_a_lookup_that_would_wait_for_a_slot_goes_to_a_thread(traced, monkeypatch):
    make, threaded = traced
    front = make()
    monkeypatch.setattr(type(front.app.extensions["kgapp.serving"].current.executor.slots), "try_acquire",
                        lambda self, client: False)
    status, _, body = call(front, "/sparql", q(LOOKUP))
    assert status == 200 and b"/code/cpt/64612" in body and threaded == ["/sparql"]


def test_a_query_run_again_in_a_thread_pays_one_token(traced):
    make, threaded = traced
    front = make(rate_limit=0.01, rate_burst=2)
    executor(front).pool.close()  # no worker: a query for one is tried on the loop, then run in a thread (503)
    assert call(front, "/sparql", q(HEAVY))[0] == 503
    assert call(front, "/sparql", q(LOOKUP))[0] == 200  # the burst's second token
    status, headers, _ = call(front, "/sparql", q(LOOKUP))
    assert status == 429 and b"retry-after" in headers and threaded == ["/sparql"]


def test_raw_non_ascii_bytes_in_the_query_string_get_the_400_of_invalid_utf8(traced):
    make, _ = traced
    status, _, body = call(make(), "/sparql", b"query=SELECT%20*%20%7B%7D&x=\xe9")
    assert status == 400 and b"UTF-8" in body


def test_without_the_lean_path_everything_runs_in_threads(traced):
    make, threaded = traced
    front = make(fast_path=False)
    assert not isinstance(front.app.wsgi_app, LeanSparql) and front.lean is None
    assert call(front, "/sparql", q(LOOKUP))[0] == 200 and threaded == ["/sparql"]


def test_the_lifespan_protocol_is_answered(make_app):
    front = asgi.LoopFront(make_app(), threads=1)
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict:
        return next(messages)

    async def send(message: dict) -> None:
        sent.append(message["type"])

    asyncio.run(front({"type": "lifespan"}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def test_a_query_waits_on_the_loop_for_a_busy_worker_and_is_answered_when_it_frees(traced):
    make, threaded = traced
    front = make(query_workers=1)
    pool = executor(front).pool
    pool.warm()
    held = pool.try_checkout("someone else", False)
    assert held is not None and pool.try_checkout("me", False) is None  # the only worker is busy
    threading.Timer(0.3, pool.checkin, [held, "someone else"]).start()
    started = time.monotonic()
    status, body = asyncio.run(ask(front, q(HEAVY)))
    assert status == 200 and b'"n"' in body and threaded == []  # awaited on the loop, then answered there
    assert time.monotonic() - started >= 0.3


async def ask(front: asgi.LoopFront, query: bytes) -> tuple[int, bytes]:
    sent: list[dict] = []

    async def keep(message: dict) -> None:
        sent.append(message)
    await front(scope_of(query), no_body, keep)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def test_a_low_priority_query_with_only_normal_workers_idle_starts_its_own_in_a_thread(traced):
    make, threaded = traced
    front = make(query_workers=2, low_priority_nice=10)
    pool = executor(front).pool
    pool.warm()  # both workers idle, at the normal priority: the pool is full
    assert not pool.startable(False) and pool.startable(True)  # a low one would replace an idle normal one
    slots = executor(front).slots
    assert slots.try_acquire("127.0.0.1")  # the client already runs a query: its next one is low priority
    try:
        status, _, body = call(front, "/sparql", q(HEAVY))
    finally:
        slots.release("127.0.0.1")
    assert status == 200 and b'"n"' in body and threaded == ["/sparql"]  # not left waiting for a checkin


def test_a_long_answer_streams_a_megabyte_a_hand_over_and_a_client_gone_closes_it():
    from flask import Flask

    closed: list[bool] = []
    app = Flask("streaming")

    @app.route("/long")
    def long():
        def chunks():
            try:
                for i in range(3 * 128 + 5):  # ~3 MB in 8 KB chunks, as a file is read
                    yield bytes([i % 256]) * 8192
            finally:
                closed.append(True)
        return app.response_class(chunks(), mimetype="application/octet-stream")

    front = asgi.LoopFront(app, threads=1)
    sent: list[dict] = []

    async def keep(message: dict) -> None:
        sent.append(message)
    asyncio.run(front(scope_of(b"", "/long"), no_body, keep))
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    expected = b"".join(bytes([i % 256]) * 8192 for i in range(3 * 128 + 5))
    assert sent[0]["status"] == 200 and b"".join(m["body"] for m in bodies) == expected
    assert len(bodies) <= 5 and bodies[-1].get("more_body") is False and closed == [True]

    async def gone(message: dict) -> None:
        if message["type"] == "http.response.body":
            raise OSError("the client went away")
    closed.clear()
    with pytest.raises(OSError):
        asyncio.run(front(scope_of(b"", "/long"), no_body, gone))
    assert closed == [True]
