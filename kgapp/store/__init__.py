"""Where the graph lives: the embedded Oxigraph store (default) or a SPARQL 1.1 server, behind one interface."""

from __future__ import annotations

import os

from kgapp.store.base import Store, StoreError, StoreUnavailable, memoised
from kgapp.store.embedded import MANIFEST, EmbeddedStore, current_build
from kgapp.store.remote.store import RemoteStore
from kgapp.store.spec import RemoteSpec, parse_store


def open_store(store: str | os.PathLike | RemoteSpec, timeout: float = 10.0) -> Store:
    """The store a setting names (a path, ``oxigraph:PATH``, ``sparql:URL…``); ``timeout`` bounds remote requests."""
    where = parse_store(store)
    if isinstance(where, RemoteSpec):
        return RemoteStore(where, timeout)
    return EmbeddedStore(where)


__all__ = ["MANIFEST", "EmbeddedStore", "RemoteStore", "Store", "StoreError", "StoreUnavailable",
           "current_build", "memoised", "open_store"]
