"""Entity pages rendered ahead, per build, by a background process at idle priority; the server reads them back.

A build never changes, so its pages can be written once. When a server opens a local build it starts a
process on it (setting ``prerender_pages``, on with ``page_cache``) that makes its own app pinned to the
build and renders pages as HTML through the views a request takes: the codes', then each class's members,
smallest class first, up to MAX_PAGES. Each body (zlib) goes with its headers into
``pages-<hash>.sqlite`` in the build's folder as it is rendered (the hash: of the settings pages depend
on). The process runs under SCHED_IDLE (else at the highest niceness) and pauses after each page to use at
most a quarter of one core (kgapp.web.prerender_run.DUTY); one renders a file at a time (a lock), none
once it is complete. A request for a page's HTML, without a query string, with the app at the root path,
is then answered from the file (kgapp.web.page_cache) with the bytes a live render gives; anything else is
rendered live, as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import fields
from pathlib import Path

from kgapp.config import Config

log = logging.getLogger("kgapp.prerender")
RENDERING = ("base_iri", "page_size")  # the settings a page's HTML depends on: each set has its own file
CONFIG_ENV = "KGAPP_PRERENDER_CONFIG"
LOOK_EVERY = 5.0  # seconds between looks for a file that is not there yet
KEPT_HEADERS = ("Content-Type", "Link", "Vary", "Content-Disposition")  # a page's own headers, kept with it
MAX_PAGES = 30_000  # at 945k triples: 77 s of CPU (~5 min at DUTY), 171 MB
Page = tuple[bytes, int, list[tuple[str, str]]]


def file_for(config: Config, folder: Path) -> Path:
    """The file of ``folder``'s pages as rendered under ``config`` (``pages-<hash of its RENDERING>.sqlite``)."""
    digest = hashlib.sha256(json.dumps([getattr(config, name) for name in RENDERING]).encode()).hexdigest()
    return folder / f"pages-{digest[:12]}.sqlite"


def start(config: Config, folder: Path) -> subprocess.Popen | None:
    """Start pre-rendering ``folder``'s pages in the background, unless they are complete (None then)."""
    if is_complete(file_for(config, folder)):
        return None
    simple = {f.name: getattr(config, f.name) for f in fields(config)
              if isinstance(getattr(config, f.name), (str, int, float, bool)) and f.name != "testing"}
    env = {**os.environ, CONFIG_ENV: json.dumps({**simple, "store": str(folder.parent.parent)})}
    try:
        return subprocess.Popen([sys.executable, "-c", "import sys; from kgapp.web.prerender_run import run; run(sys.argv[1])",
                                 str(folder)], env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)  # in the server's group: stopped and measured with it
    except OSError as e:
        log.warning("could not start pre-rendering pages (%s); pages are rendered on request", e)
        return None


def is_complete(path: Path) -> bool:
    """Whether the file at ``path`` holds every page chosen for it."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return db.execute("SELECT value FROM meta WHERE key = 'complete'").fetchone() is not None
    except sqlite3.Error:
        return False


class Prerendered:
    """The pre-rendered pages of one build, read in the request threads."""

    def __init__(self, config: Config, folder: Path):
        self.path = file_for(config, folder)
        self._local = threading.local()
        self._looked = float("-inf")
        self._opened: list[sqlite3.Connection] = []

    def get(self, path: str) -> Page | None:
        db = getattr(self._local, "db", None)
        if db is None:
            now = time.monotonic()
            if now - self._looked < LOOK_EVERY:
                return None
            self._looked = now  # one look at the folder every LOOK_EVERY, however many requests come
            if not self.path.exists():
                return None
            try:
                db = self._local.db = sqlite3.connect(self.path, check_same_thread=False)
            except sqlite3.Error:
                return None
            self._opened.append(db)
        try:
            rows = db.execute("SELECT body, headers FROM pages WHERE path = ?", (path,)).fetchall()  # no lock kept
        except sqlite3.Error:
            return None  # being created this very moment: rendered live
        return (zlib.decompress(rows[0][0]), 200, [tuple(h) for h in json.loads(rows[0][1])]) if rows else None

    def close(self) -> None:
        """Close the file in every thread (the build is closed: no request reads it any more)."""
        for db in self._opened:
            db.close()
        self._opened.clear()
        self._local = threading.local()
