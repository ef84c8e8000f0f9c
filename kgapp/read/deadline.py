"""A store whose queries stop being run once a page has used up the endpoint's time limit (503).

Pages query the store in the request thread, several small queries each, every one anchored on the
page's IRI (work bounded by the graph's size, as kgapp.sparql.bounded reasons for the endpoint). Oxigraph
cannot cancel a query, so the limit is checked before each query: a page ends at most one such query
after ``query_timeout`` and answers 503 with Retry-After, as /sparql does.
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

    def query(self, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() > self._until:
            raise PageTimeout(503, f"This page took longer than the {self._seconds:g} s this server allows "
                                   "and was stopped; try again shortly.", {"Retry-After": RETRY_AFTER})
        return self._store.query(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
