"""Kept answers behind the ASGI front (kgapp.web.kept): found from the request's scope, the same key and the same
bytes as the WSGI path's, still admitted by the fairness limits, logged and counted."""

from __future__ import annotations

import asyncio
import io
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
from a2wsgi.wsgi import build_environ
from test_asgi import JSON, LOOKUP, q, scope_of

from kgapp.web import asgi
from kgapp.web.kept import response_key, response_key_of

SCOPES = [  # (scope changes, extra headers, SCRIPT_NAME variable)
    ({}, [], ""),
    ({}, [(b"accept", b"text/csv")], ""),  # a second Accept: joined with a comma
    ({"headers": [(b"accept", JSON.encode())]}, [], ""),  # no Host
    ({"root_path": "/kg", "path": "/kg/sparql"}, [], ""),
    ({"root_path": "/kg"}, [], "/mounted"),  # the process's SCRIPT_NAME wins, as in a2wsgi
    ({"scheme": "https", "server": ("example.org", 443)}, [], ""),
    ({"server": None}, [], ""),
    ({"server": ("::1", None)}, [(b"x-forwarded-for", b"10.0.0.1")], ""),
    ({}, [(b"x-forwarded-for", b"10.0.0.1"), (b"X_Forwarded_For", b"10.0.0.2")], ""),  # one environ variable
    ({"query_string": b"query=%C3%A9"}, [(b"Host", b"upper.example")], ""),  # not lower-cased, against ASGI
]


@pytest.mark.parametrize("changes, extra, script_name", SCOPES)
def test_the_key_from_a_scope_is_the_key_of_the_environ_a2wsgi_builds(changes, extra, script_name, monkeypatch):
    scope = {**scope_of(q(LOOKUP)), **changes}
    scope["headers"] = [*scope["headers"], *extra]
    monkeypatch.setenv("SCRIPT_NAME", script_name)
    environ = build_environ(scope, io.BytesIO(b""))  # type: ignore[arg-type]
    key, forwarded_for = response_key_of(scope, script_name)
    assert key == response_key(environ)
    assert forwarded_for == environ.get("HTTP_X_FORWARDED_FOR")


def send(front: asgi.LoopFront, scope: dict) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def collect(message: dict) -> None:
        sent.append(message)

    with ThreadPoolExecutor(1) as thread:  # a loop of its own: a browser test's sync API may hold this thread's
        thread.submit(asyncio.run, front(scope, receive, collect)).result()
    return sent[0]["status"], sent[0]["headers"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture()
def kept_front(make_app, monkeypatch):
    """A LoopFront over an app that keeps answers, and how often ``inline`` (the whole path) was asked."""
    def make(**settings) -> tuple[asgi.LoopFront, list[int]]:
        front = asgi.LoopFront(make_app(result_cache=True, **settings), threads=2)
        assert front.lean is not None
        inline, asked = front.lean.inline, []

        async def counted(*args, **kwargs):
            asked.append(1)
            return await inline(*args, **kwargs)
        monkeypatch.setattr(front.lean, "inline", counted)
        return front, asked
    return make


def test_a_kept_answer_is_sent_from_the_scope_with_the_first_answers_bytes_logged_and_counted(kept_front, caplog):
    front, asked = kept_front(metrics=True)
    with caplog.at_level(logging.INFO, logger="kgapp.query"):
        first, again = (send(front, scope_of(q(LOOKUP))) for _ in range(2))
    assert first == again and first[0] == 200 and b"/code/cpt/64612" in first[2]
    assert dict(first[1])[b"content-length"] == str(len(first[2])).encode()
    assert len(asked) == 1 and front.app.extensions["kgapp.serving"].current.responses.hits == 1
    lines = [r.getMessage() for r in caplog.records if r.name == "kgapp.query"]
    assert len(lines) == 2 and "form=SELECT" in lines[1] and "status=200" in lines[1]
    scrape = front.app.test_client().get("/metrics").get_data(as_text=True)
    assert 'kgapp_http_requests_total{route="/sparql",status="200"} 2.0' in scrape


def test_a_kept_answer_is_per_host_and_per_accept(kept_front):
    front, asked = kept_front()
    relative = q("SELECT (<rel> AS ?x) WHERE {}")  # resolved against the endpoint's URL

    def scope(host: bytes, accept: bytes) -> dict:
        return {**scope_of(relative), "headers": [(b"host", host), (b"accept", accept)]}
    bodies = [send(front, scope(host, accept))[2] for host, accept in
              [(b"a.localhost:5000", b"text/csv"), (b"b.localhost:5000", b"text/csv"),
               (b"a.localhost:5000", b"text/csv"), (b"a.localhost:5000", b"application/sparql-results+xml")]]
    assert bodies[:3] == [b"x\r\nhttp://a.localhost:5000/rel\r\n", b"x\r\nhttp://b.localhost:5000/rel\r\n", bodies[0]]
    assert bodies[3].startswith(b"<?xml") and len(asked) == 3  # only the repeated request was kept


def test_a_kept_answer_still_pays_its_token_and_a_client_over_its_rate_gets_the_429(kept_front):
    front, asked = kept_front(rate_limit=0.01, rate_burst=2)
    answers = [send(front, scope_of(q(LOOKUP))) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 429]
    assert b"retry-after" in dict(answers[2][1]) and len(asked) == 2  # the refusal: the whole path's 429
    other = {**scope_of(q(LOOKUP)), "client": ("127.0.0.2", 50001)}
    assert send(front, other)[0] == 200  # another client: its own bucket, the kept answer
