"""Fairness: one client cannot hold every query slot or flood the endpoint; 429 with Retry-After, per client
(by address, or by X-Forwarded-For only behind a trusted proxy)."""

from __future__ import annotations

import logging
import math
import threading
import time

import pytest

from kgapp.config import Config
from kgapp.web.fairness import Fairness

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
ASK = "ASK {}"


def ask(client, addr: str = "10.0.0.1", query: str = ASK, **headers):
    return client.get("/sparql", query_string={"query": query}, headers=headers,
                      environ_base={"REMOTE_ADDR": addr})


def hold_slot(client, addr: str) -> threading.Thread:
    thread = threading.Thread(target=ask, args=(client, addr, RUNAWAY))
    thread.start()
    return thread


def wait_running(app, n: int) -> None:
    deadline = time.monotonic() + 10
    while app.extensions["kgapp.serving"].current.executor.busy_slots() < n:
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_one_client_cannot_hold_every_slot(make_app):
    app = make_app(max_concurrent_queries=3, max_queries_per_client=1, query_timeout=2)
    client = app.test_client()
    greedy = hold_slot(client, "10.0.0.1")
    wait_running(app, 1)
    r = ask(client, "10.0.0.1")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and r.mimetype == "text/plain"
    assert ask(client, "10.0.0.2").status_code == 200  # another client still gets a slot at once
    greedy.join(10)
    assert ask(client, "10.0.0.1").status_code == 200  # and the greedy one may run again once it is done


def test_the_per_client_limit_does_not_bite_at_the_defaults(client):
    assert Config().max_queries_per_client < Config().max_concurrent_queries
    assert all(ask(client).status_code == 200 for _ in range(30))  # no rate limit by default


def test_token_bucket(make_app):
    client = make_app(rate_limit=0.5, rate_burst=3).test_client()
    assert [ask(client).status_code for _ in range(3)] == [200, 200, 200]
    r = ask(client)
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 2 and "per second" in r.get_data(as_text=True)
    assert ask(client, "10.0.0.9").status_code == 200  # its own bucket


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(make_app):
    client = make_app(rate_limit=0.1, rate_burst=1).test_client()
    assert ask(client, "10.0.0.1", **{"X-Forwarded-For": "192.0.2.1"}).status_code == 200
    assert ask(client, "10.0.0.1", **{"X-Forwarded-For": "192.0.2.2"}).status_code == 429  # same peer: same client
    proxied = make_app(rate_limit=0.1, rate_burst=1, trusted_proxies="10.0.0.1").test_client()
    assert ask(proxied, "10.0.0.1", **{"X-Forwarded-For": "192.0.2.1"}).status_code == 200
    assert ask(proxied, "10.0.0.1", **{"X-Forwarded-For": "192.0.2.2"}).status_code == 200
    assert ask(proxied, "10.0.0.1", **{"X-Forwarded-For": "192.0.2.2"}).status_code == 429


@pytest.mark.parametrize("peer, header, expected", [
    ("10.0.0.5", "1.1.1.1", "10.0.0.5"),  # untrusted peer: its own address
    ("127.0.0.1", "1.1.1.1", "1.1.1.1"),
    ("127.0.0.1", "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # the client can prepend anything; the proxy appends the truth
    ("127.0.0.1", "6.6.6.6, 1.1.1.1, 10.0.0.2", "1.1.1.1"),  # through two trusted proxies
    ("127.0.0.1", None, "127.0.0.1"),
])
def test_client_identity(peer, header, expected):
    fairness = Fairness(Config(trusted_proxies="127.0.0.1, 10.0.0.2"))
    assert fairness.client_id(peer, header) == expected


def test_429s_are_counted(make_app):
    client = make_app(rate_limit=0.1, rate_burst=1).test_client()
    ask(client), ask(client)
    assert 'kgapp_rate_limited_total{limit="rate"} 1.0' in client.get("/metrics").get_data(as_text=True)


@pytest.mark.parametrize("fast_path", [True, False])  # the lean GET path and Flask's: the same 429
def test_a_client_over_its_share_of_query_time_is_refused_until_its_use_decays(make_app, fast_path):
    app = make_app(max_query_time_per_client=0.5, query_timeout=1, fast_path=fast_path)
    client = app.test_client()
    assert ask(client, "10.0.0.1").status_code == 200  # a cheap query uses next to nothing
    assert ask(client, "10.0.0.1", RUNAWAY).status_code == 503  # a second of a worker's time, stopped at the limit
    used = app.extensions["kgapp.serving"].slots.recent_use("10.0.0.1")
    assert 1.0 <= used < 1.5
    r = ask(client, "10.0.0.1")
    text = r.get_data(as_text=True)
    assert r.status_code == 429 and r.mimetype == "text/plain" and text.count("\n") == 1
    assert "query time" in text and "0.5 s" in text
    # Retry-After is when the use will have decayed under the share: 10 s × ln(used / 0.5), i.e. 7 s for 1 s
    assert int(r.headers["Retry-After"]) == pytest.approx(10 * math.log(used / 0.5), abs=1)
    assert ask(client, "10.0.0.2").status_code == 200  # another client: its own share
    assert 'kgapp_rate_limited_total{limit="time"} 1.0' in client.get("/metrics").get_data(as_text=True)


def test_without_a_share_of_time_set_a_heavy_client_is_not_refused(make_app):
    app = make_app(query_timeout=1)
    client = app.test_client()
    assert Config().max_query_time_per_client == 0
    assert ask(client, "10.0.0.1", RUNAWAY).status_code == 503
    assert ask(client, "10.0.0.1").status_code == 200


@pytest.mark.parametrize("fast_path", [True, False])  # refused before Flask's dispatch, or by Flask: the same 429
def test_a_post_over_the_limit_is_refused_alike_on_both_paths(make_app, fast_path):
    client = make_app(rate_limit=0.1, rate_burst=1, fast_path=fast_path).test_client()
    post = lambda addr: client.post("/sparql", data={"query": ASK}, environ_base={"REMOTE_ADDR": addr})  # noqa: E731
    assert post("10.0.0.1").status_code == 200
    r = post("10.0.0.1")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "per second" in r.get_data(as_text=True)
    assert r.headers["Access-Control-Allow-Origin"] == "*" and r.mimetype == "text/plain"
    assert post("10.0.0.2").status_code == 200
    assert 'kgapp_rate_limited_total{limit="rate"} 1.0' in client.get("/metrics").get_data(as_text=True)


@pytest.mark.parametrize("fast_path", [True, False])
def test_a_get_over_the_limit_is_refused_alike_on_both_paths(make_app, fast_path):
    client = make_app(rate_limit=0.1, rate_burst=1, fast_path=fast_path).test_client()
    assert ask(client).status_code == 200
    r = ask(client)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "per second" in r.get_data(as_text=True)
    assert r.headers["Access-Control-Allow-Origin"] == "*" and r.headers["X-Content-Type-Options"] == "nosniff"
    assert int(r.headers["Content-Length"]) == len(r.data)
    # fairness first: a refused client's malformed request is not even parsed
    assert client.get("/sparql?query=%E9", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 429
    assert 'kgapp_http_requests_total{route="/sparql",status="429"} 2.0' in client.get("/metrics").get_data(as_text=True)


def test_refusals_are_logged_once_a_second_a_client_and_counted_in_full(make_app, caplog):
    caplog.set_level(logging.INFO, logger="kgapp.query")
    app = make_app(rate_limit=0.01, rate_burst=1)
    client = app.test_client()
    assert ask(client).status_code == 200
    assert [ask(client).status_code for _ in range(50)] == [429] * 50
    assert ask(client, "10.0.0.2").status_code == 200 and ask(client, "10.0.0.2").status_code == 429
    refusals = [r.getMessage() for r in caplog.records if r.name == "kgapp.query" and "status=429" in r.getMessage()]
    assert len(refusals) == 2 and "client=10.0.0.1 more_refused_before=0" in refusals[0]
    app.wsgi_app.refusals.window = 0  # the next refusal opens a new second
    assert ask(client).status_code == 429
    last = [r.getMessage() for r in caplog.records if r.name == "kgapp.query"][-1]
    assert "client=10.0.0.1 more_refused_before=49" in last
    assert 'kgapp_rate_limited_total{limit="rate"} 52.0' in client.get("/metrics").get_data(as_text=True)
