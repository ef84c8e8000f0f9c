"""A running server never loses its build: prune skips builds a server holds, and the server switches to a
newer complete build (on its own within a second, or at once on SIGHUP) with in-flight work finishing first."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

from ports import free_port
from processes import EXTRA, serve, stop_server, wait_ready

from kgapp.build import build
from kgapp.config import Config
from kgapp.sources import resource_dir
from kgapp.store import current_build, open_store
from kgapp.store.lease import Lease, is_leased
from kgapp.store.writer import KEEP_BUILDS, prune
from kgapp.web import close_app, create_app
from kgapp.web.serving import warm_pages

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def data_with(tmp_path, n: int):
    """A data folder that builds a store with ``n`` extra triples (so each build is told apart by its count)."""
    data = tmp_path / f"data{n}"
    shutil.copytree(resource_dir("data"), data)
    extra = "".join(f'<http://example.org/a> <http://example.org/note> "build {i}" .\n' for i in range(n))
    (data / "zz-extra.ttl").write_text(extra or EXTRA, encoding="utf-8")
    return data


def test_prune_never_removes_a_leased_build(store_copy, tmp_path):
    first = current_build(store_copy)
    lease = Lease(first)
    assert is_leased(first)
    for n in range(1, KEEP_BUILDS + 2):
        build(Config(store=store_copy, data_dirs=(data_with(tmp_path, n),)))
    assert first.is_dir() and (first / "manifest.json").is_file()  # without the lease it would be gone
    lease.release()
    assert not is_leased(first)
    prune(store_copy)
    assert not first.exists()


def test_an_app_holds_its_build_and_lets_go_after_switching(store_copy, tmp_path):
    app = create_app({"store": store_copy, "testing": True})
    serving = app.extensions["kgapp.serving"]
    first = current_build(store_copy)
    assert is_leased(first)
    in_flight = serving.acquire()  # a request still running on the first build
    build(Config(store=store_copy, data_dirs=(data_with(tmp_path, 1),)))
    serving.request_reload()
    r = app.test_client().get("/readyz")
    assert r.get_json()["build"] == current_build(store_copy).name != first.name
    assert app.extensions["kgapp.store"].manifest["build"] == current_build(store_copy).name  # the old key follows
    # the old build still answers the request that started on it, and is still held
    from kgapp.sparql.request import QueryRequest
    old = in_flight.executor.run(QueryRequest(COUNT), "application/sparql-results+json")
    assert json.loads(old.body)["results"]["bindings"] and is_leased(first)
    serving.release(in_flight)  # the last request on it ends: workers stop, lease released
    assert not is_leased(first) and in_flight.executor.worker_pids() == []
    close_app(app)


def get(port: int, path: str):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
        return r.status, json.loads(r.read())


def test_kgapp_serve_follows_four_builds_without_losing_a_query(store_copy, tmp_path):
    port = free_port()
    process = serve(store_copy, port)
    statuses: Counter = Counter()
    stop = threading.Event()

    def load():  # a steady client: every answer must be a 200
        deadline = time.monotonic() + 300  # bounded whatever happens
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                status, _ = get(port, "/sparql?query=" + urllib.parse.quote(COUNT))
            except urllib.error.HTTPError as e:
                status = e.code
            statuses[status] += 1

    try:
        wait_ready(port, 30)
        client = threading.Thread(target=load)
        client.start()
        served = []
        for n in range(1, 5):
            build(Config(store=store_copy, data_dirs=(data_with(tmp_path, n),)))
            new = current_build(store_copy).name
            if n % 2:
                process.send_signal(signal.SIGHUP)  # at once; the even builds are found by polling
            deadline = time.monotonic() + 10
            while (ready := get(port, "/readyz")[1])["build"] != new:
                assert time.monotonic() < deadline, f"still serving {ready['build']}, not {new}"
                time.sleep(0.1)
            served.append(ready["build"])
            _, answer = get(port, "/sparql?query=" + urllib.parse.quote(COUNT))
            assert int(answer["results"]["bindings"][0]["n"]["value"]) == ready["triples"]
        stop.set()
        client.join(30)
        assert len(set(served)) == 4
        assert statuses and set(statuses) == {200}, statuses
    finally:
        stop.set()
        stop_server(process)


def test_kept_responses_do_not_outlive_their_build(store_copy, tmp_path):
    app = create_app({"store": store_copy, "testing": True, "result_cache": True})
    client = app.test_client()
    try:
        counts = [client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": "text/csv"}).data
                  for _ in range(2)]
        assert counts[0] == counts[1] and app.extensions["kgapp.serving"].current.responses.hits == 1
        build(Config(store=store_copy, data_dirs=(data_with(tmp_path, 3),)))
        app.extensions["kgapp.serving"].request_reload()  # as SIGHUP does; every request here would be a hit
        after = client.get("/sparql", query_string={"query": COUNT}, headers={"Accept": "text/csv"}).data
        assert int(after.split()[-1]) == int(counts[0].split()[-1]) + 3
    finally:
        close_app(app)


def test_the_pages_presets_are_read_in_the_background_when_a_build_opens(store_path):
    store = open_store(store_path)
    warm_pages(store).join(60)
    assert store.memo["compare_presets"]  # what every code page needs, read once per build
    closed = open_store(store_path)
    closed.close()
    warm_pages(closed).join(60)  # closed meanwhile (a switch): the thread ends quietly, nothing kept
    assert "compare_presets" not in closed.memo
