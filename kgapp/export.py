"""Serialise the store for other tools: every RDF format, asserted graphs with or without inferred ones."""

from __future__ import annotations

from typing import BinaryIO

import pyoxigraph as ox

from .formats import by_name
from .namespaces import INFERRED_GRAPH, PREFIXES


def exported_graphs(store, inferred: bool) -> list[str]:
    """The graphs an export contains: every asserted graph, plus the inferred one when asked."""
    return [g for g in store.named_graphs() if inferred or g != str(INFERRED_GRAPH)]


def _distinct_triples(store, graphs: list[str]):
    """The union of ``graphs`` as distinct triples, streamed from the store."""
    values = " ".join(f"<{g}>" for g in graphs)
    query = f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
    for row in store.query(query):
        yield ox.Triple(row["s"], row["p"], row["o"])


def _quads(store, graphs: list[str]):
    for g in graphs:
        yield from store.quads(g)


def write_export(store, fmt: str, output: BinaryIO, inferred: bool = False) -> None:
    """Write the export in format ``fmt`` (a kgapp.formats name) to a binary stream."""
    f = by_name(fmt)
    if f is None or f.kind not in ("rdf", "dataset"):
        raise ValueError(f"unknown export format: {fmt}")
    graphs = exported_graphs(store, inferred)
    if not graphs:
        return
    items = _quads(store, graphs) if f.kind == "dataset" else _distinct_triples(store, graphs)
    kwargs = {"prefixes": PREFIXES} if f.name in ("turtle", "trig") else {}
    ox.serialize(items, output, f.ox_rdf, **kwargs)
