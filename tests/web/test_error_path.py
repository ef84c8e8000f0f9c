"""One error path: a refusal from any store, on any route, is its 4xx/5xx as one plain line, never a traceback."""

from __future__ import annotations

import pytest

from kgapp.store.remote.client import RemoteStoreError
from kgapp.web import close_app, create_app

ROUTES = [
    "/resource?iri=bif:contains", "/resource.ttl?iri=bif:contains", "/resource?iri=sql:tables",
    "/class/bif:contains", "/search?q=bif:contains", "/sparql?query=SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20"
    "FILTER%20bif%3Acontains(%3Fo%2C%20%22x%22)%20%7D",
]


@pytest.fixture(scope="module")
def remote_client(remote_store_spec):
    app = create_app({"store": remote_store_spec, "testing": True})
    yield app.test_client()
    close_app(app)


@pytest.mark.parametrize("route", ROUTES)
def test_a_remote_stores_refusal_is_a_plain_4xx_on_every_route(remote_client, route):
    r = remote_client.get(route)
    assert r.status_code < 500, (r.status_code, r.data[:300])
    if r.status_code >= 400 and r.status_code != 404:
        assert r.mimetype == "text/plain" and r.data.count(b"\n") == 1 and b"Traceback" not in r.data



OUTAGE_ROUTES = ["/", "/id/code/cpt/64868", "/id/code/cpt/64868.ttl", "/resource?iri=http://purl.obolibrary.org/obo/x",
                 "/class/ProcedureCode", "/search?q=facial", "/validation", "/validation.ttl", "/export.ttl",
                 "/export.nq?inferred=true", "/.well-known/void", "/sparql?query=ASK%7B%7D"]


@pytest.fixture()
def outage(remote_store_spec):
    """An app on the remote store whose server then stops answering (every request to it fails)."""
    app = create_app({"store": remote_store_spec, "testing": True})
    store = app.extensions["kgapp.serving"].current.store
    store.memo.clear()

    def down(*args, **kwargs):
        raise RemoteStoreError("cannot reach the SPARQL server at http://127.0.0.1:1/sparql: connection refused")

    store.client.post = down
    store.guard.looked_at = float("-inf")  # the manifest is re-read (and fails) too
    yield app.test_client()
    close_app(app)


@pytest.mark.parametrize("route", OUTAGE_ROUTES)
def test_a_store_outage_is_a_plain_502_on_every_route(outage, route):
    r = outage.get(route)
    body = r.get_data()  # a streamed export is read to its end here
    assert r.status_code == 502, (r.status_code, body[:300])
    assert r.mimetype == "text/plain" and body.count(b"\n") == 1 and b"cannot reach" in body


def test_readyz_says_unavailable_when_the_store_is_down(outage):
    r = outage.get("/readyz")
    assert r.status_code == 503 and r.get_json()["status"] == "unavailable"


@pytest.mark.parametrize("method, route", [("POST", "/export.ttl"), ("DELETE", "/id/code/cpt/64868"),
                                           ("PUT", "/readyz"), ("POST", "/.well-known/void")])
def test_werkzeug_refusals_are_plain_on_every_route(client, method, route):
    r = client.open(route, method=method)
    assert r.status_code == 405 and r.mimetype == "text/plain" and r.get_data().count(b"\n") == 1
    assert "GET" in r.headers["Allow"]
