"""Pages rendered ahead per build (kgapp.web.prerender): the bytes a live render gives, used only where they apply."""

from __future__ import annotations

import sqlite3
import threading
import time
import zlib

import pytest

from kgapp.config import Config
from kgapp.store.embedded import current_build
from kgapp.web import close_app, create_app, prerender, prerender_run

HEADERS = ("Content-Type", "Link", "Vary")


@pytest.fixture()
def apps(store_copy):
    """Over the same private store: an app that reads pre-rendered pages, one that never does, and the pages
    written by an app made as the background process makes its own."""
    ahead = create_app({"store": store_copy, "testing": True})
    live = create_app({"store": store_copy, "testing": True, "prerender_pages": False})
    renderer = create_app({"store": store_copy, "testing": True, "prerender_pages": False, "page_cache": False})
    folder = current_build(store_copy)
    written = prerender_run.render_all(renderer, folder)
    close_app(renderer)
    yield ahead, live, folder, written
    close_app(ahead)
    close_app(live)


def file_of(folder, **settings):
    return prerender.file_for(Config.from_mapping(settings), folder)


def pages_in(folder) -> list[str]:
    with sqlite3.connect(file_of(folder)) as db:
        return [r[0] for r in db.execute("SELECT path FROM pages ORDER BY path")]


def test_prerendered_pages_are_the_bytes_a_live_render_gives(apps):
    ahead, live, folder, written = apps
    paths = pages_in(folder)
    assert written == len(paths) > 100 and "/id/code/cpt/64868" in paths and prerender.is_complete(file_of(folder))
    a, b = ahead.test_client(), live.test_client()
    for path in paths:
        got, want = a.get(path, headers={"Accept": "text/html"}), b.get(path, headers={"Accept": "text/html"})
        assert (got.status_code, got.get_data()) == (want.status_code, want.get_data()), path
        assert [got.headers.get(h) for h in HEADERS] == [want.headers.get(h) for h in HEADERS], path
        assert got.headers["Content-Security-Policy"] == want.headers["Content-Security-Policy"]


def test_the_file_answers_html_only_and_only_without_a_query_string(apps):
    ahead, live, folder, _ = apps
    path = "/id/code/cpt/64612"
    with sqlite3.connect(file_of(folder)) as db:
        db.execute("UPDATE pages SET body = ? WHERE path = ?", (zlib.compress(b"from the file"), path))
    client = ahead.test_client()
    assert client.get(path, headers={"Accept": "text/html"}).get_data() == b"from the file"
    assert b"from the file" not in client.get(path + "?page=2", headers={"Accept": "text/html"}).get_data()
    assert client.get(path, headers={"Accept": "text/turtle"}).mimetype == "text/turtle"
    assert b"from the file" not in client.get(path, headers={"Accept": "text/html"},
                                              environ_overrides={"SCRIPT_NAME": "/kg"}).get_data()
    assert b"from the file" not in live.test_client().get(path, headers={"Accept": "text/html"}).get_data()


def test_a_background_process_renders_a_build_once(store_copy):
    folder = current_build(store_copy)
    process = prerender.start(Config.from_mapping({"store": store_copy}), folder)
    assert process is not None
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.returncode == 0 and prerender.is_complete(file_of(folder)) and len(pages_in(folder)) > 100
    assert prerender.start(Config.from_mapping({"store": store_copy}), folder) is None  # complete: nothing to do


def test_a_file_it_cannot_write_leaves_pages_to_live_renders(store_copy):
    folder = current_build(store_copy)
    file_of(folder).mkdir()  # in its place, something sqlite cannot open
    process = prerender.start(Config.from_mapping({"store": store_copy}), folder)
    assert process is not None and process.wait(timeout=120) == 0  # it stops quietly
    app = create_app({"store": store_copy, "testing": True})
    try:
        assert app.test_client().get("/id/code/cpt/64868", headers={"Accept": "text/html"}).status_code == 200
    finally:
        close_app(app)


def test_pages_rendered_under_other_settings_are_not_served(apps, store_copy):
    ahead, _, folder, _ = apps
    assert file_of(folder, page_size=2) != file_of(folder)
    other = create_app({"store": store_copy, "testing": True, "page_size": 2})
    try:
        page = other.test_client().get("/id/nerve/facial", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "Links 1–2 of" in page  # rendered live with its own page size, not read from the file
    finally:
        close_app(other)


def test_a_server_finds_the_file_when_it_appears_under_steady_requests(store_copy, monkeypatch):
    monkeypatch.setattr(prerender, "LOOK_EVERY", 0.1)
    folder = current_build(store_copy)
    reader = prerender.Prerendered(Config.from_mapping({"store": store_copy}), folder)
    assert reader.get("/id/code/cpt/64868") is None  # not rendered yet
    renderer = create_app({"store": store_copy, "testing": True, "prerender_pages": False, "page_cache": False})
    rendering = threading.Thread(target=prerender_run.render_all, args=(renderer, folder))
    rendering.start()
    found, deadline = None, time.monotonic() + 30
    while found is None and time.monotonic() < deadline:  # a request every 10 ms, before and after the file
        found = reader.get("/id/code/cpt/64868")
        time.sleep(0.01)
    rendering.join()
    close_app(renderer)
    assert found is not None and found[0].startswith(b"<!doctype html>")
    reader.close()
