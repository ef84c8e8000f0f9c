"""A kgapp build on a SPARQL 1.1 server, behind the same interface as the embedded store.

On the server a build is one graph per source (their usual IRIs), the deduplicated union of all of
them in ``…/graph/_kgapp/default`` and the manifest as a JSON literal in ``…/graph/_kgapp/manifest``.
Every query is sent with an explicit dataset of those graphs only: the union as default graph (the
protocol's several default-graph-uri are a bag merge on Virtuoso, so COUNTs would differ) and kgapp's
graphs as named graphs, so ``GRAPH ?g`` never reaches another tenant's graphs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyoxigraph as ox

from kgapp.formats import prefix_args
from kgapp.namespaces import GRAPH
from kgapp.store.base import StoreUnavailable
from kgapp.store.remote.client import RemoteStoreError, SparqlClient
from kgapp.store.remote.dataset import check_forwardable, split_dataset
from kgapp.store.spec import RemoteSpec

RESERVED = str(GRAPH) + "_kgapp/"  # graphs kgapp keeps for itself on the server
UNION_GRAPH = RESERVED + "default"
MANIFEST_GRAPH = RESERVED + "manifest"
PENDING_GRAPH = RESERVED + "pending"
NO_GRAPH = RESERVED + "none"  # never written: naming it is how to ask for an empty dataset part
MANIFEST_PROPERTY = MANIFEST_GRAPH + "#json"
MANIFEST_TTL = 10.0  # seconds: a build elsewhere is noticed this quickly (there is no `current` link)


def read_manifest(client: SparqlClient) -> dict[str, Any] | None:
    """The manifest of the build on the server, or None when there is none."""
    rows = list(cast(ox.QuerySolutions, client.query(  # a SELECT query: always solutions
        f"SELECT ?json WHERE {{ ?m <{MANIFEST_PROPERTY}> ?json }}",
        [("default-graph-uri", MANIFEST_GRAPH), ("named-graph-uri", NO_GRAPH)], graph=False)))
    return json.loads(rows[0]["json"].value) if rows else None


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
        manifest = read_manifest(self.client)
        if manifest is None:
            raise StoreUnavailable(f"no kgapp build on {spec} (run `kgapp build --store {spec}`)")
        self._manifest, self._read_at = manifest, time.monotonic()

    @property
    def manifest(self) -> dict[str, Any]:
        if time.monotonic() - self._read_at > MANIFEST_TTL:
            try:
                fresh = read_manifest(self.client) or self._manifest
                if fresh.get("build") != self._manifest.get("build"):
                    self.memo.clear()  # values derived from the old build (labels, presets…)
                self._manifest = fresh
            except RemoteStoreError:
                pass  # keep serving what we know; the query that follows reports the outage
            self._read_at = time.monotonic()
        return self._manifest

    def named_graphs(self) -> list[str]:
        return sorted(self.manifest["graphs"])

    def _own(self, graphs: list[str]) -> list[str]:
        """The given graphs that are kgapp's: any other is as absent as it is from the embedded store."""
        mine = set(self.manifest["graphs"])
        return [g for g in graphs if g in mine]

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
        defaults = [UNION_GRAPH] if default_graphs is None else self._own(default_graphs)
        named = self.named_graphs() if named_graphs is None else self._own(named_graphs)
        params = [("default-graph-uri", g) for g in defaults or [NO_GRAPH]]
        params += [("named-graph-uri", g) for g in named or [NO_GRAPH]]
        prologue = f"BASE <{base_iri}>\n" if base_iri else ""
        prologue += "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in (prefixes or {}).items())
        return self.client.query(prologue + text, params, graph)

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
