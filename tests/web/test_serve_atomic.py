"""Serving is atomic: an app opens only a complete build, keeps it while a new one is swapped in, and
`kgapp serve` never serves a half-store_copy store."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from ports import free_port
from processes import EXTRA, serve, stop_server, wait_ready

from kgapp.build import build
from kgapp.config import Config
from kgapp.sources import resource_dir
from kgapp.store import MANIFEST, StoreUnavailable, current_build
from kgapp.web import close_app, create_app

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def partial_build(root: Path) -> Path:
    """A build folder as a crash half-way leaves it: files, but no manifest."""
    folder = root / "builds" / "29991231T235959-deadbeef"
    shutil.copytree(current_build(root) / "oxigraph", folder / "oxigraph")
    return folder


def point_current_at(root: Path, folder: Path) -> None:
    (root / "current").unlink()
    (root / "current").symlink_to(os.path.relpath(folder, root))


def count(client) -> int:
    r = client.get("/sparql", query_string={"query": COUNT})
    assert r.status_code == 200, r.data
    return int(json.loads(r.data)["results"]["bindings"][0]["n"]["value"])


def test_a_partial_build_is_never_opened(store_copy):
    complete = current_build(store_copy)
    partial = partial_build(store_copy)
    app = create_app({"store": store_copy, "testing": True})  # a newer partial folder is ignored
    assert app.test_client().get("/readyz").get_json()["build"] == complete.name
    close_app(app)

    point_current_at(store_copy, partial)
    assert current_build(store_copy) is None
    with pytest.raises(StoreUnavailable):
        create_app({"store": store_copy, "testing": True})


def test_an_app_answers_throughout_a_build_then_switches_to_it(store_copy, tmp_path):
    app = create_app({"store": store_copy, "testing": True, "query_timeout": 1})
    client = app.test_client()
    before, first = count(client), current_build(store_copy)

    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    (data / "zz-extra.ttl").write_text(EXTRA, encoding="utf-8")
    answers: list[int] = []
    builder = threading.Thread(target=build, args=(Config(store=store_copy, data_dirs=(data,)),))
    builder.start()
    while builder.is_alive():  # the app answers throughout the build and the swap: the old build, then the new
        answers.append(count(client))
    builder.join()
    assert current_build(store_copy) != first
    assert answers and set(answers) <= {before, before + 1} and answers == sorted(answers)

    deadline = time.monotonic() + 5  # the app looks at `current` at most once a second
    while client.get("/readyz").get_json()["build"] != current_build(store_copy).name:
        assert time.monotonic() < deadline, "the app never switched to the new build"
        time.sleep(0.1)
    assert count(client) == before + 1
    # A worker started after the switch (the runaway query kills the old one) opens the new build too.
    assert client.get("/sparql", query_string={"query": RUNAWAY}).status_code == 503
    assert count(client) == before + 1
    close_app(app)


@pytest.mark.parametrize("bend", ["complete", "current-is-partial"])
def test_kgapp_serve_serves_only_a_complete_build(store_copy, bend):
    complete = current_build(store_copy)
    if bend == "current-is-partial":
        point_current_at(store_copy, partial_build(store_copy))
    port = free_port()
    process = serve(store_copy, port)
    try:
        ready = wait_ready(port, 60 if bend != "complete" else 15)
        served = current_build(store_copy)
        assert served is not None and (served / MANIFEST).is_file()
        assert ready["status"] == "ready" and ready["build"] == served.name
        assert ready["build"] != "29991231T235959-deadbeef"
        if bend == "complete":
            assert served == complete
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/sparql?query=ASK%7B%7D", timeout=10) as r:
            assert r.status == 200
    finally:
        stop_server(process)
