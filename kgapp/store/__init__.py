"""Where the graph lives: the embedded Oxigraph store (default) or a SPARQL 1.1 server, behind one interface."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from kgapp.store.base import QueryResult, Store, StoreError, StoreUnavailable, memoised
from kgapp.store.embedded import MANIFEST, EmbeddedStore, current_build
from kgapp.store.remote.store import RemoteStore
from kgapp.store.spec import RemoteSpec, parse_store


def open_store(store: str | os.PathLike[str] | RemoteSpec, timeout: float = 10.0) -> Store:
    """The store a setting names (a path, ``oxigraph:PATH``, ``sparql:URL…``); ``timeout`` bounds remote requests."""
    where = parse_store(store)
    if isinstance(where, RemoteSpec):
        return RemoteStore(where, timeout)
    return EmbeddedStore(where)


if TYPE_CHECKING:
    def _conforms(embedded: EmbeddedStore, remote: RemoteStore) -> tuple[Store, Store]:
        """Both stores implement the Store protocol: a drift between them fails mypy here."""
        return embedded, remote


__all__ = ["MANIFEST", "EmbeddedStore", "QueryResult", "RemoteStore", "Store", "StoreError", "StoreUnavailable",
           "current_build", "memoised", "open_store"]
