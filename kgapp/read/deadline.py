"""A store whose queries stop being run once a page has used up the endpoint's time limit (503).

Pages query the store in the request thread, several small queries each, every one anchored on the
page's IRI (work bounded by the graph's size, as kgapp.sparql.bounded reasons for the endpoint). Oxigraph
cannot cancel a query, so the limit is checked before each query, and before each lookup by pattern
(kgapp.read.direct): a page ends at most one such query or lookup after ``query_timeout`` and answers 503
with Retry-After, as /sparql does.
"""

from __future__ import annotations

import time
from typing import Any

from kgapp.errors import ProtocolError

RETRY_AFTER = "5"


class PageTimeout(ProtocolError):
    """A page that took longer than ``query_timeout`` (503 with Retry-After)."""


class Deadline:
    """``store`` with a clock: ``query`` refuses to start once ``seconds`` have passed since creation."""

    def __init__(self, store: Any, seconds: float):
        self._store = store
        self._seconds = seconds
        self._until = time.monotonic() + seconds

    def _check(self) -> None:
        if time.monotonic() > self._until:
            raise PageTimeout(503, f"This page took longer than the {self._seconds:g} s this server allows "
                                   "and was stopped; try again shortly.", {"Retry-After": RETRY_AFTER})

    def query(self, *args: Any, **kwargs: Any) -> Any:
        self._check()
        return self._store.query(*args, **kwargs)

    def quads_for_pattern(self, *pattern: Any) -> Any:
        """The local store's lookup by pattern (only when ``local`` is not None), refused once time is up."""
        self._check()
        return self._store.local.quads_for_pattern(*pattern)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
