"""The pre-rendering process itself (kgapp.web.prerender starts it): an app pinned to one build renders its pages into the file."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
import time
import zlib
from pathlib import Path

from flask import Flask

from kgapp.config import Config
from kgapp.namespaces import KG
from kgapp.web.app import create_app
from kgapp.web.pages import page_url
from kgapp.web.prerender import CONFIG_ENV, KEPT_HEADERS, MAX_PAGES, file_for, is_complete

log = logging.getLogger("kgapp.prerender")
CODE = str(KG.ProcedureCode)
DUTY = 0.25  # the share of one core the renderer takes at most, pausing after each page


def chosen(store, base: str) -> list[str]:  # noqa: ANN001 - any Store
    """The IRIs to render, at most MAX_PAGES: the codes, then the members of each class, smallest class first
    (payers, modifiers, nerves… before the thousands of policy notes)."""
    under = f"FILTER (isIRI(?s) && STRSTARTS(STR(?s), {json.dumps(base)}))"
    picked = dict.fromkeys(r["s"].value for r in store.query(f"SELECT ?s WHERE {{ ?s a <{CODE}> {under} }} ORDER BY ?s"))
    classes = [r["t"].value for r in store.query(
        f"SELECT ?t (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ?t {under} }} GROUP BY ?t ORDER BY ?n ?t") if r["t"] is not None]
    for cls in classes:
        if len(picked) >= MAX_PAGES:
            break
        picked.update(dict.fromkeys(r["s"].value for r in store.query(f"SELECT ?s WHERE {{ ?s a <{cls}> {under} }} ORDER BY ?s")))
    return list(picked)[:MAX_PAGES]


def render_all(app: Flask, folder: Path) -> int:
    """Render the chosen pages of the app's build into its file in ``folder``; the number of pages written."""
    store, cpu = app.extensions["kgapp.serving"].current.store, time.thread_time()
    with app.app_context():
        paths = [page_url(iri) for iri in chosen(store, app.config["KGAPP"].base_iri)]
    _pause(cpu)
    db = sqlite3.connect(file_for(app.config["KGAPP"], folder))
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE IF NOT EXISTS pages (path TEXT PRIMARY KEY, body BLOB, headers TEXT)")
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
    done = {r[0] for r in db.execute("SELECT path FROM pages")}
    client, written = app.test_client(), 0
    for path in paths:
        if path is None or path in done:
            continue
        cpu = time.thread_time()
        try:
            response = client.get(path, headers={"Accept": "text/html"})
        except Exception:  # noqa: BLE001 - a page that fails here fails live too, where it is reported
            continue
        _pause(cpu)
        if response.status_code == 200:
            headers = [(k, v) for k, v in response.headers.items() if k in KEPT_HEADERS]
            db.execute("INSERT OR REPLACE INTO pages VALUES (?, ?, ?)",
                       (path, zlib.compress(response.get_data(), 1), json.dumps(headers)))
            written += 1
            if written % 200 == 0:
                db.commit()  # the server reads what is committed
    db.execute("INSERT OR REPLACE INTO meta VALUES ('complete', ?)", (time.strftime("%Y-%m-%dT%H:%M:%S"),))
    db.commit()
    db.close()
    return written


def _pause(cpu: float) -> None:
    """Sleep so that the work since ``cpu`` (this thread's CPU time then) took at most DUTY of one core.

    SCHED_IDLE alone is not enough: on two vCPUs, a renderer in the "idle" one cost lookups 12-15 % of their
    throughput; at a quarter of one core the cost was within the noise, and a build's pages take 4x longer."""
    time.sleep((time.thread_time() - cpu) * (1 / DUTY - 1))


def main(folder: Path) -> None:
    """The background process: idle priority, one per build, an app pinned to ``folder``."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)
    settings = {**json.loads(os.environ.get(CONFIG_ENV, "{}")), "testing": True, "page_cache": False,
                "prerender_pages": False, "result_cache": False, "metrics": False}
    path = file_for(Config.from_mapping(settings), folder)
    with open(path.with_suffix(".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another server's process renders these pages
        if is_complete(path):
            return
        app = create_app(settings)  # only once the file is this process's to write
        serving = app.extensions["kgapp.serving"]
        serving.pin(folder)
        started = time.monotonic()
        written = render_all(app, folder)
        log.warning("pre-rendered %d pages of build %s in %.1f s", written, folder.name, time.monotonic() - started)
        serving.close()


def run(folder: str) -> None:
    """The entry point ``start`` gives the child process."""
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        main(Path(folder))
    except (OSError, sqlite3.Error) as e:  # the build pruned meanwhile, a read-only folder: pages render live
        log.warning("pre-rendering stopped: %s", e)
