"""Health checks for orchestrators: /healthz says the process answers, /readyz that the store does."""

from __future__ import annotations


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.data == b"ok\n" and r.headers["Content-Type"].startswith("text/plain")


def test_readyz_names_the_open_build(client, store):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ready", "triples": store.triple_count, "build": store.manifest["build"]}
    assert store.triple_count > 1000


def test_readyz_is_503_without_a_store(app):
    served = app.extensions["kgapp.serving"].current
    real, served.store = served.store, None
    try:
        r = app.test_client().get("/readyz")
        assert r.status_code == 503 and r.get_json()["status"] == "unavailable"
        assert app.test_client().get("/healthz").status_code == 200  # up, just not ready
    finally:
        served.store = real  # closed with the app


def test_readyz_is_503_when_the_store_fails(app):
    class Broken:
        def query(self, text, **kwargs):
            raise OSError("IO error: the store files are gone")

    served = app.extensions["kgapp.serving"].current
    real, served.store = served.store, Broken()
    try:
        r = app.test_client().get("/readyz")
        assert r.status_code == 503 and "files are gone" in r.get_json()["reason"]
    finally:
        served.store = real  # closed with the app
