"""A swap announced ahead of time, so kgapp's readers never keep an answer that a swap could have torn.

Virtuoso reads at read committed: a query running while a large transaction commits can see some of
its rows old and some new (a test caught a union graph with 3,431 of its 4,025 quads), and SPARQL
gives a reader no snapshot to ask for. So kgapp's builder and readers keep a protocol on the server:

1. the builder writes a marker (the new build's id) into ``…/_kgapp/swap`` and lets GRACE seconds pass
   (checking the new build meanwhile);
2. it swaps the graphs in (one SQL transaction on the bulk path, DROP + MOVE per graph otherwise);
3. when the swap has returned, it removes the marker (also when the swap failed).

A reader keeps the time it sent the last request that found no marker: the marker, if any, was
written after that, and the swap starts GRACE later still. An answer received within FRESH (< GRACE)
of that time was read wholly before any swap. Otherwise the reader looks again once the answer is in:
no marker, the answer stands; a marker, the answer is dropped, the reader waits for the marker to go
(within the query's time budget, else 503 with Retry-After) and asks again, of the new build. Under
steady load that is one small query every FRESH seconds per process. A marker seen for longer than
STALE (a builder killed mid-swap) is ignored, with a warning. Clients that read the server directly
get its own isolation, not this.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pyoxigraph as ox

from kgapp.store.base import StoreUnavailable
from kgapp.store.remote.client import SparqlClient
from kgapp.store.remote.graphs import SWAP_GRAPH, SWAP_PROPERTY, read_state

# A reader's answer was read before any swap when it arrives within FRESH of its last look, whose read came before
# the marker, which came GRACE before the swap: GRACE ≥ FRESH suffices (the margin is for clock rates). Shorter
# means a rebuild waits less (the new build is checked meanwhile, 0.8 s at 860k triples) and a busy reader looks
# more often: one small query every FRESH seconds (0.75 s cut ~1.2 s of waiting off a rebuild at that size).
GRACE = 0.75  # seconds the builder waits between writing the marker and swapping
FRESH = 0.5  # seconds a reader trusts its last sighting of no marker
RETRY_AFTER = 5  # Retry-After for a reader a swap kept out: the marker stands GRACE, then the swap (~3 s at 860k)
STALE = 600.0  # seconds after which a marker is taken for one a killed builder left behind
POLL = 0.2  # seconds between looks while a swap runs
log = logging.getLogger(__name__)


class SwapInProgress(StoreUnavailable):
    """A new build was being swapped in on the server for the whole of the query's time budget: 503."""


def announce(client: SparqlClient, build_id: str) -> float:
    """Write the marker; returns the monotonic time from which the swap may start (GRACE seconds on, when every
    reader has had the time to see it: the builder checks the new build meanwhile)."""
    client.update(f"INSERT DATA {{ GRAPH <{SWAP_GRAPH}> {{ <{SWAP_GRAPH}> <{SWAP_PROPERTY}> {ox.Literal(build_id)} }} }}")
    return time.monotonic() + GRACE


def wait_until(ready: float) -> None:
    """Sleep until ``ready`` (announce's answer)."""
    time.sleep(max(0.0, ready - time.monotonic()))


def withdraw(client: SparqlClient) -> None:
    """Remove the marker: the swap is over (done or rolled back)."""
    client.update(f"DROP SILENT GRAPH <{SWAP_GRAPH}>", timeout=30)


class SwapGuard:
    """What one reader knows of the server: the manifest it serves and when it last saw no swap marker."""

    def __init__(self, client: SparqlClient, on_new_build: Callable[[], None]):
        self.client = client
        self.on_new_build = on_new_build
        self.manifest: dict[str, Any] | None = None
        self.clear_at = float("-inf")  # when the last request that found no marker was sent
        self.looked_at = float("-inf")
        self._marker: tuple[str, float] | None = None  # the marker seen, and since when
        self._lock = threading.Lock()

    def look(self) -> None:
        """Read the manifest and the marker; a new manifest is taken only when no swap is running."""
        sent = time.monotonic()
        manifest, marker = read_state(self.client)
        with self._lock:
            self.looked_at = max(self.looked_at, sent)
            if marker is None:
                self._marker = None
            else:
                if self._marker is None or self._marker[0] != marker:
                    self._marker = (marker, sent)
                if sent - self._marker[1] <= STALE:
                    return
                log.warning("the swap marker for build %s has stood for over %g s: taken for one a killed build "
                            "left behind; serving what the server holds", marker, STALE)
            self.clear_at = max(self.clear_at, sent)
            if manifest is not None and (self.manifest or {}).get("build") != manifest.get("build"):
                if self.manifest is not None:
                    self.on_new_build()
                self.manifest = manifest

    def stands(self) -> bool:
        """True when an answer received just now cannot have overlapped a swap (looks again if it must know)."""
        now = time.monotonic()
        if now < self.clear_at + FRESH:
            return True
        self.look()
        return self.clear_at >= now

    def wait(self, deadline: float) -> None:
        """Wait for the running swap to end; SwapInProgress if it outlasts ``deadline`` (a monotonic time)."""
        began = time.monotonic()
        while self.clear_at < began:
            if time.monotonic() + POLL > deadline:
                raise SwapInProgress("a new build is being swapped in on the SPARQL server; retry in a few seconds",
                                     headers={"Retry-After": str(RETRY_AFTER)})
            time.sleep(POLL)
            if self.looked_at < time.monotonic() - POLL:  # one look per POLL, whichever thread takes it
                self.look()
