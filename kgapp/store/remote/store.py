"""A kgapp build on a SPARQL 1.1 server, behind the same interface as the embedded store.

On the server a build is one graph per source (their usual IRIs), the deduplicated union of all of
them in a graph of its own (``…/graph/_kgapp/union/<build id>``, named by the manifest) and the
manifest as a JSON literal in ``…/graph/_kgapp/manifest``.
Every query is sent with an explicit dataset of those graphs only: the union as default graph (the
protocol's several default-graph-uri are a bag merge on Virtuoso, so COUNTs would differ) and kgapp's
graphs as named graphs, so ``GRAPH ?g`` never reaches another tenant's graphs. An answer that a
builder's swap may have torn, or that was asked of a build the server no longer serves (its union is
dropped after the swap), is never kept (kgapp.store.remote.swap_guard).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyoxigraph as ox

from kgapp.formats import prefix_args
from kgapp.store.base import StoreUnavailable
from kgapp.store.remote.client import RemoteStoreError, SparqlClient
from kgapp.store.remote.dataset import check_forwardable, split_dataset
from kgapp.store.remote.graphs import NO_GRAPH, union_graph
from kgapp.store.remote.swap_guard import RETRY_AFTER, SwapGuard, SwapInProgress
from kgapp.store.spec import RemoteSpec

MANIFEST_TTL = 10.0  # seconds: a build elsewhere is noticed this quickly (there is no `current` link)


class RemoteStore:
    """A kgapp build on a SPARQL server; queries return pyoxigraph objects, so every surface works unchanged."""

    folder: Path | None = None  # nothing of the build is on this machine
    search_index: Path | None = None
    plans_in_caller = False  # the server sorts and joins; fetching every solution to sort here would cost more
    local: ox.Store | None = None  # pages read through SPARQL

    def __init__(self, spec: RemoteSpec, timeout: float = 10.0):
        self.spec = spec
        self.memo: dict[str, Any] = {}
        self.client = SparqlClient(spec, timeout)
        self.guard = SwapGuard(self.client, self.memo.clear)  # values derived from an old build are dropped
        self.guard.look()
        if self.guard.manifest is None and self.guard.clear_at == float("-inf"):
            self.guard.wait(time.monotonic() + timeout)  # a build is being swapped in: serve it once it is
        if self.guard.manifest is None:
            raise StoreUnavailable(f"no kgapp build on {spec} (run `kgapp build --store {spec}`)")

    @property
    def manifest(self) -> dict[str, Any]:
        """The served build's manifest, looked for again every MANIFEST_TTL seconds (a build elsewhere)."""
        if time.monotonic() - self.guard.looked_at > MANIFEST_TTL:
            try:
                self.guard.look()
            except RemoteStoreError:  # keep serving what we know; the query that follows reports the outage
                self.guard.looked_at = time.monotonic()
        return cast(dict[str, Any], self.guard.manifest)

    def named_graphs(self) -> list[str]:
        return sorted(self.manifest["graphs"])

    def query(self, sparql: str, *, default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, base_iri: str | None = None,
              prefixes: dict[str, str] | None = None) -> ox.QuerySolutions | ox.QueryBoolean | list[ox.Triple]:
        """Run ``sparql`` on the server with the embedded store's semantics (same signature, same result types)."""
        graph = check_forwardable(sparql, base_iri, prefixes)
        text, from_default, from_named = split_dataset(sparql, base_iri, prefixes)
        if default_graphs is None and named_graphs is None and (from_default or from_named):
            # FROM / FROM NAMED in the text: Virtuoso would add them to the protocol dataset instead of
            # obeying it, so kgapp sends them as protocol parameters, restricted to its own graphs.
            default_graphs, named_graphs = from_default, from_named
        prologue = f"BASE <{base_iri}>\n" if base_iri else ""
        prologue += "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in (prefixes or {}).items())
        deadline = time.monotonic() + self.client.timeout
        while True:  # an answer a swap may have torn is asked for again, of the new build (swap_guard)
            manifest = self.manifest
            asked_of = manifest["build"]
            answer = self.client.query(prologue + text, self._dataset(manifest, default_graphs, named_graphs), graph)
            if not self.guard.stands():
                self.guard.wait(deadline)
            elif self.guard.manifest is not None and self.guard.manifest["build"] == asked_of:
                return answer
            elif time.monotonic() > deadline:  # a new build on every try: give up as a swap would
                raise SwapInProgress("new builds keep being swapped in on the SPARQL server; retry in a few seconds",
                                     headers={"Retry-After": str(RETRY_AFTER)})

    def _dataset(self, manifest: dict[str, Any], default_graphs: list[str] | None,
                 named_graphs: list[str] | None) -> list[tuple[str, str]]:
        """The protocol's dataset parameters: the build's graphs only, its union as default graph unless told."""
        mine = manifest["graphs"]
        defaults = [union_graph(manifest)] if default_graphs is None else [g for g in default_graphs if g in mine]
        named = sorted(mine) if named_graphs is None else [g for g in named_graphs if g in mine]
        return [("default-graph-uri", g) for g in defaults or [NO_GRAPH]] + \
            [("named-graph-uri", g) for g in named or [NO_GRAPH]]

    def _graph_triples(self, graph: str) -> list[ox.Triple]:
        triples = cast(list[ox.Triple],  # a CONSTRUCT: always a list of triples from the server
                       self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"))
        expected = self.manifest["graphs"].get(graph)
        if expected is not None and len(triples) != expected:
            raise RemoteStoreError(f"the SPARQL server returned {len(triples)} of the {expected} triples of "
                                   f"<{graph}>; raise its result-size limit (Virtuoso: [SPARQL] ResultSetMaxRows)")
        return triples

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        for g in [graph] if graph else self.named_graphs():
            name = ox.NamedNode(g)
            for t in self._graph_triples(g):
                yield ox.Quad(t.subject, t.predicate, t.object, name)

    def dump(self, output: BinaryIO, fmt: ox.RdfFormat, graph: str | None = None,
             prefixes: dict[str, str] | None = None) -> None:
        """Serialise every named graph (or one graph) as the embedded store's dump does."""
        kwargs = prefix_args(fmt, prefixes) if prefixes else {}
        items = self._graph_triples(graph) if graph else self.quads()
        ox.serialize(items, output, fmt, **kwargs)

    def close(self) -> None:
        """Nothing is held open between requests (each query is its own HTTP request)."""

    @property
    def triple_count(self) -> int:
        return int(self.manifest.get("triples", 0))
