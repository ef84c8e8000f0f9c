"""The store interface every surface reads through, and the errors a store raises."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeAlias, TypeVar, cast, runtime_checkable

import pyoxigraph as ox

from kgapp.errors import KgappError

T = TypeVar("T")

# What ``Store.query`` returns: solutions (SELECT), a boolean (ASK), or triples (CONSTRUCT/DESCRIBE:
# lazily from the embedded store, as a list from a remote one).
QueryResult: TypeAlias = ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples | list[ox.Triple]


class StoreError(KgappError):
    """The store failed to answer (500 unless a subclass says otherwise)."""


class StoreUnavailable(StoreError):
    """There is no complete build to serve (never built, or the server holds none)."""

    status = 503


@runtime_checkable
class Store(Protocol):
    """A complete kgapp build, read-only: its default graph is the merge of all its named graphs."""

    # The build's manifest (id, graphs and their counts, statistics, sources); read-only, as a remote
    # store re-reads it from the server.
    @property
    def manifest(self) -> dict[str, Any]: ...

    # The local build folder when the build is on this machine (queries may then run in worker
    # processes that open it themselves, exports are cached in it); None for a remote server.
    folder: Path | None
    # The build's full-text index (kgapp.store.search_index), or None.
    search_index: Path | None
    # Values derived from this (immutable) build, computed once per opened store.
    memo: dict[str, Any]
    # kgapp plans around the store's evaluator in the caller: ORDER BY … LIMIT as a top-k over unordered
    # solutions (kgapp.sparql.topk) and wide joins hashed (kgapp.sparql.hashjoin). True for the embedded
    # store, whose sort reads the store on every comparison and whose joins look up row by row; false for
    # a server, which plans its own.
    plans_in_caller: bool
    # The pyoxigraph store itself when the build is open in this process: pages read a node's quads from
    # it by pattern (kgapp.read.direct) instead of through SPARQL; None for a remote server.
    @property
    def local(self) -> ox.Store | None: ...

    def query(self, sparql: str, *, default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, base_iri: str | None = None,
              prefixes: dict[str, str] | None = None) -> QueryResult: ...

    def named_graphs(self) -> list[str]: ...

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]: ...

    def dump(self, output: BinaryIO, fmt: ox.RdfFormat, graph: str | None = None,
             prefixes: dict[str, str] | None = None) -> None: ...

    @property
    def triple_count(self) -> int: ...

    def close(self) -> None:
        """Release what the store holds open (files, connections); later reads raise StoreUnavailable."""


def memoised(store: Store, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per opened store (builds never change, so neither does the value)."""
    if key not in store.memo:
        store.memo[key] = compute()
    return cast(T, store.memo[key])

