"""The build an app serves, and the switch to a newer complete build without a restart.

An app serves one ``Served``: a store, its query executor (worker processes on that build) and the
build's lease (kgapp.store.lease), so `prune` never removes it. Each request takes the current
``Served`` for its whole life (a streamed export included) and gives it back at teardown. At most
once a second (or at once after SIGHUP, see ``request_reload``) a request looks at the store's
`current` link; when it names another complete build, that build is opened with new workers and
becomes current. Requests already running finish on the old one, which is closed (workers ended,
lease released) when the last of them is done. Remote stores re-read their manifest instead.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kgapp.config import Config
from kgapp.errors import KgappError
from kgapp.read.compare import presets
from kgapp.sparql.cache import ResultCache
from kgapp.sparql.executor import QueryExecutor
from kgapp.store import open_store
from kgapp.store.base import Store
from kgapp.store.embedded import EmbeddedStore, current_build
from kgapp.store.lease import Lease
from kgapp.web import prerender

log = logging.getLogger("kgapp.serving")
CHECK_EVERY = 1.0  # seconds between looks at `current` (a readlink and a stat)
PAGE_CACHE_BYTES = 64 * 1024 * 1024  # rendered entity pages kept per build (kgapp.web.page_cache)
RESPONSE_CACHE_BYTES = 64 * 1024 * 1024  # GET /sparql responses kept per build (bodies shared with the executor's)


@dataclass(eq=False)
class Served:
    store: Store
    executor: QueryExecutor
    lease: Lease | None
    users: int = 0
    retired: bool = False
    pages: ResultCache | None = None  # this build's rendered pages (kgapp.web.page_cache)
    responses: ResultCache | None = None  # this build's GET /sparql responses (kgapp.web.lean)
    prerendered: prerender.Prerendered | None = None  # its pages rendered ahead (kgapp.web.prerender)
    prerendering: subprocess.Popen | None = None  # the process rendering them, if this server started one

    @property
    def build(self) -> str | None:
        return self.store.manifest.get("build")

    def close(self) -> None:
        if self.prerendering is not None and self.prerendering.poll() is None:
            self.prerendering.terminate()  # its build is no longer served here; another server may go on
            self.prerendering.wait()
        if self.prerendered is not None:
            self.prerendered.close()
        self.executor.close()
        self.store.close()  # RocksDB's files now, not at the next garbage collection
        if self.lease is not None:
            self.lease.release()


def warm_pages(store: Store) -> threading.Thread:
    """Read in the background what every code page needs once per build (the compare presets: one query
    over every code, ~1.4 s at 945k triples), so the first page after a start or a switch does not wait."""
    def read() -> None:
        try:
            presets(store)
        except (KgappError, OSError):
            pass  # the build was closed meanwhile: the next page reads them itself
    thread = threading.Thread(target=read, name="kgapp-warm-pages", daemon=True)
    thread.start()
    return thread


class Serving:
    """The app's current build; ``acquire``/``release`` around every request that reads it."""

    def __init__(self, config: Config):
        self.config = config
        self._lock = threading.Lock()
        self._switching = threading.Lock()
        self._reload_asked = False
        self._pinned = False
        self._checked = time.monotonic()
        self._open_builds: list[Served] = []  # the current build and replaced ones still finishing requests
        self.on_switch: Callable[[Served], None] | None = None
        self.current = self._open(None)
        self.slots = self.current.executor.slots  # shared by every build's executor: one limit per app

    def _open(self, folder: Path | None) -> Served:
        store: Store = open_store(self.config.store, timeout=self.config.query_timeout) if folder is None \
            else EmbeddedStore.open_build(folder)
        lease = Lease(store.folder) if store.folder is not None else None
        executor = QueryExecutor(store, self.config, getattr(self, "slots", None))
        ahead = self.config.page_cache and self.config.prerender_pages and store.folder is not None
        process = None
        if not self.config.testing:
            executor.warm()
            if store.folder is not None:
                warm_pages(store)
            if ahead and store.folder is not None:
                process = prerender.start(self.config, store.folder)
        served = Served(store, executor, lease, pages=ResultCache(PAGE_CACHE_BYTES) if self.config.page_cache else None,
                        # kept where the executor keeps answers: a build that never changes (not a remote store)
                        responses=ResultCache(RESPONSE_CACHE_BYTES) if executor.cache is not None else None,
                        prerendered=prerender.Prerendered(self.config, store.folder) if ahead and store.folder else None,
                        prerendering=process)
        with self._lock:
            self._open_builds.append(served)
        return served

    def busy_slots(self) -> int:
        """Query slots in use across the builds still open (a replaced build may finish queries)."""
        with self._lock:
            return sum(s.executor.busy_slots() for s in self._open_builds)

    def _closed(self, served: Served) -> None:
        served.close()
        with self._lock:
            if served in self._open_builds:
                self._open_builds.remove(served)

    def acquire(self) -> Served:
        self.maybe_switch()
        with self._lock:
            served = self.current
            served.users += 1
            return served

    def release(self, served: Served) -> None:
        with self._lock:
            served.users -= 1
            done = served.retired and served.users == 0
        if done:
            self._closed(served)

    def request_reload(self) -> None:
        """Look at `current` on the next request, whenever the last look was (a SIGHUP handler calls this)."""
        self._reload_asked = True

    def pin(self, folder: Path) -> None:
        """Serve ``folder``'s build from now on, whatever `current` says (the pre-rendering process)."""
        if self.current.store.folder != folder:
            self.switch_to(folder)
        self._pinned = True

    def maybe_switch(self) -> None:
        folder = getattr(self.current.store, "folder", None)
        now = time.monotonic()
        if folder is None or self._pinned or (not self._reload_asked and now - self._checked < CHECK_EVERY):
            return
        if not self._switching.acquire(blocking=False):
            return  # another request is switching right now
        try:
            self._checked, self._reload_asked = now, False
            newest = current_build(folder.parent.parent)
            if newest is not None and newest != folder:
                self.switch_to(newest)
        finally:
            self._switching.release()

    def switch_to(self, folder: Path) -> None:
        try:
            fresh = self._open(folder)
        except (KgappError, OSError) as e:
            log.warning("could not open the new build %s; still serving %s: %s", folder.name, self.current.build, e)
            return
        with self._lock:
            old, self.current = self.current, fresh
            old.retired = True
            done = old.users == 0
        log.info("now serving build %s (was %s)", fresh.build, old.build)
        if self.on_switch is not None:
            self.on_switch(fresh)
        if done:
            self._closed(old)

    def close(self) -> None:
        with self._lock:
            current = self.current
            current.retired = True
        self._closed(current)
