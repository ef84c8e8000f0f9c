"""The graphs kgapp keeps for itself on a SPARQL server, and the manifest and swap marker it reads there."""

from __future__ import annotations

import json
from typing import Any, cast

import pyoxigraph as ox

from kgapp.namespaces import GRAPH
from kgapp.store.remote.client import SparqlClient

RESERVED = str(GRAPH) + "_kgapp/"  # graphs kgapp keeps for itself on the server
UNION_GRAPH = RESERVED + "default"  # the union of builds whose manifest names none; the source key of every union
UNIONS = RESERVED + "union/"  # each build's union, under its build id: the manifest names it, nothing is copied
MANIFEST_GRAPH = RESERVED + "manifest"
PENDING_GRAPH = RESERVED + "pending"
SWAP_GRAPH = RESERVED + "swap"  # holds a marker while a builder swaps (kgapp.store.remote.swap_guard)
NO_GRAPH = RESERVED + "none"  # never written: naming it is how to ask for an empty dataset part
MANIFEST_PROPERTY = MANIFEST_GRAPH + "#json"
SWAP_PROPERTY = SWAP_GRAPH + "#build"


def union_graph(manifest: dict[str, Any] | None) -> str:
    """The graph that holds the union of the build ``manifest`` describes (kgapp's default graph)."""
    return str((manifest or {}).get("union", UNION_GRAPH))


def read_manifest(client: SparqlClient) -> dict[str, Any] | None:
    """The manifest of the build on the server, or None when there is none."""
    return read_state(client)[0]


def read_state(client: SparqlClient) -> tuple[dict[str, Any] | None, str | None]:
    """The manifest (or None) and the id of the build a builder is swapping in (or None), in one query."""
    rows = list(cast(ox.QuerySolutions, client.query(  # a SELECT query: always solutions
        f"SELECT ?json ?swap WHERE {{ {{ ?m <{MANIFEST_PROPERTY}> ?json }} UNION "
        f"{{ GRAPH <{SWAP_GRAPH}> {{ ?b <{SWAP_PROPERTY}> ?swap }} }} }}",
        [("default-graph-uri", MANIFEST_GRAPH), ("named-graph-uri", SWAP_GRAPH)], graph=False)))
    manifests = [r["json"].value for r in rows if r["json"] is not None]
    swaps = sorted(r["swap"].value for r in rows if r["swap"] is not None)
    return (json.loads(manifests[0]) if manifests else None), (swaps[0] if swaps else None)
