"""Counts of a built store (triples, classes, properties, graphs, instance folders), computed once.

Pages, VoID and exports show these; on a million triples each is a full scan (seconds), so the
build computes them into the manifest and readers take them from there. A store without them
(an older build, a remote server) gets them computed on first use and kept for its lifetime.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, cast

import pyoxigraph as ox

from kgapp.store.base import Store, memoised


def _select(store: Store | ox.Store, query: str) -> ox.QuerySolutions:
    return cast(ox.QuerySolutions, store.query(query))  # a SELECT query: always solutions


def _rows(store: Store | ox.Store, query: str) -> dict[str, int]:
    return {r["k"].value: int(r["n"].value) for r in _select(store, query)}


def compute(store: Store | ox.Store, counted: tuple[dict[str, int], int] | None = None) -> dict[str, Any]:
    """The statistics of ``store`` (anything with a SPARQL ``query`` method over the default graph).

    ``counted``: the triples of each named graph and of the default graph, when the caller has just
    counted them (a build does, kgapp.store.writer.graph_counts): two full scans fewer.
    """
    typed = [r["s"].value for r in _select(store, "SELECT DISTINCT ?s WHERE { ?s a ?c FILTER isIRI(?s) }")]
    graphs, triples = counted if counted else (None, None)
    return {
        "triples": triples if triples is not None else int(next(iter(_select(
            store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value),
        # entities: named, typed resources (VoID's described entities); every kgapp node has a type
        "entities": len(typed),
        "classes": _rows(store, "SELECT (?c AS ?k) (COUNT(DISTINCT ?s) AS ?n) "
                                "WHERE { ?s a ?c FILTER(isIRI(?s) && isIRI(?c)) } GROUP BY ?c"),
        # VoID counts every class, also those whose only instances are blank nodes (SHACL results)
        "distinct_classes": int(next(iter(_select(
            store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }")))["n"].value),
        "properties": _rows(store, "SELECT (?p AS ?k) (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"),
        "graphs": {g: n for g, n in graphs.items() if n} if graphs is not None else _rows(
            store, "SELECT (?g AS ?k) (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"),
        "instance_folders": sorted({iri.rpartition("/")[0] + "/" for iri in typed}),
    }


RDF_TYPE = b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"


def from_lines(lines: Iterable[bytes], graphs: dict[str, int]) -> dict[str, Any]:
    """compute()'s statistics from the distinct N-Triples lines of a union (as pyoxigraph writes them: the
    three terms split by single spaces), for a build that never holds its union in a store; ``graphs``:
    the triples of each named graph."""
    triples, typed = 0, set()
    classes: Counter[bytes] = Counter()
    types: set[bytes] = set()
    properties: Counter[bytes] = Counter()
    for line in lines:
        s, p, rest = line.split(b" ", 2)
        triples += 1
        properties[p] += 1
        if p == RDF_TYPE:
            c = rest.rstrip()[:-2]  # the object, without " ."
            types.add(c)
            if s[:1] == b"<":
                typed.add(s)
                if c[:1] == b"<":
                    classes[c] += 1
    return {"triples": triples, "entities": len(typed), "classes": _iris(classes),
            "distinct_classes": len(types), "properties": _iris(properties),
            "graphs": {g: n for g, n in graphs.items() if n},
            "instance_folders": sorted({iri.rpartition("/")[0] + "/" for iri in map(_iri, typed)})}


def _iri(term: bytes) -> str:
    return term[1:-1].decode("utf-8")


def _iris(counts: Counter[bytes]) -> dict[str, int]:
    return {_iri(term): n for term, n in counts.items()}

def stats(store: Store) -> dict[str, Any]:
    """The store's statistics: from its manifest when the build recorded them, else computed once."""
    recorded = store.manifest.get("stats")
    return recorded if recorded else memoised(store, "stats", lambda: compute(store))
