"""What refers to an IRI, one page at a time: (subject, property) pairs ordered by property, then subject.

A node with few incoming quads has them read at once and paged here. One with more (a nerve that
thousands of codes target) is counted per property with one aggregate query, and only the properties
that the page shows have their subjects read; the graphs are read for the page's subjects only.
Oxigraph's ORDER BY over thousands of rows takes seconds, so subjects are sorted in Python.
"""

from __future__ import annotations

import pyoxigraph as ox

from kgapp.namespaces import sparql_prologue
from kgapp.read import direct

P = sparql_prologue()
SMALL = 1000  # incoming quads read at once; above this a node is paged property by property


def incoming_rows(store, iri: str, page: int, size: int) -> tuple[list[dict], int]:
    """The incoming quads of page ``page`` (rows with s, p, g, and st/sl for blank subjects) and the total
    number of (subject, property) pairs."""
    quads = _quads(store, iri)
    first = (page - 1) * size
    if quads is not None:
        pairs = sorted({(p.value, s.value, isinstance(s, ox.BlankNode)) for s, p, _ in quads})
        total, window = len(pairs), pairs[first:first + size]
        shown = {(s, p) for p, s, _ in window}
        rows = [{"s": s, "p": p, "g": g} for s, p, g in quads if (s.value, p.value) in shown]
    else:
        total, rows = _paged(store, iri, first, size)
    blanks = {r["s"].value for r in rows if isinstance(r["s"], ox.BlankNode)}
    about = {}
    if blanks:  # a blank node pointing here (a validation result, say) reads as its type and label
        about = {r["s"].value: r for r in store.query(P + f"""SELECT ?s ?st ?sl WHERE {{ ?s ?p <{iri}>
            FILTER(isBlank(?s)) OPTIONAL {{ ?s a ?st }} OPTIONAL {{ ?s rdfs:label|sh:resultMessage ?sl }} }}""")}
    for r in rows:
        found = about.get(r["s"].value) if isinstance(r["s"], ox.BlankNode) else None
        r["st"], r["sl"] = (found["st"], found["sl"]) if found is not None else (None, None)
    return rows, total


def _quads(store, iri: str) -> list[tuple] | None:
    """(subject, predicate, graph) of every quad pointing at ``iri``, or None when there are more than SMALL."""
    r = direct.reader(store)
    if r is not None:
        return direct.incoming(r, iri, SMALL)
    rows = list(store.query(f"SELECT ?s ?p ?g WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} }} LIMIT {SMALL + 1}"))
    return [(r["s"], r["p"], r["g"]) for r in rows] if len(rows) <= SMALL else None


def _paged(store, iri: str, first: int, size: int) -> tuple[int, list[dict]]:
    counts = sorted((r["p"].value, int(r["n"].value)) for r in store.query(
        f"SELECT ?p (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p <{iri}> }} GROUP BY ?p"))
    rows: list[dict] = []
    start = 0
    for predicate, n in counts:
        lo, hi = max(first, start), min(first + size, start + n)
        if lo < hi:
            subjects = sorted({(r["s"].value, isinstance(r["s"], ox.BlankNode)): r["s"] for r in store.query(
                f"SELECT DISTINCT ?s WHERE {{ ?s <{predicate}> <{iri}> }}")}.items())
            rows += _graphs(store, iri, predicate, [term for _, term in subjects[lo - start:hi - start]])
        start += n
    return start, rows


def _graphs(store, iri: str, predicate: str, subjects: list) -> list[dict]:
    """One row per (subject, graph) stating ``subject predicate iri``, for the given subjects."""
    p = ox.NamedNode(predicate)
    named = [s for s in subjects if isinstance(s, ox.NamedNode)]
    rows = []
    if named:
        values = " ".join(f"<{s.value}>" for s in named)
        rows += [{"s": r["s"], "p": p, "g": r["g"]} for r in store.query(
            f"SELECT ?s ?g WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s <{predicate}> <{iri}> }} }}")]
    blank = {s.value for s in subjects if isinstance(s, ox.BlankNode)}
    if blank:  # blank nodes cannot be named in a query: read this property's blank subjects and keep ours
        rows += [{"s": r["s"], "p": p, "g": r["g"]} for r in store.query(
            f"SELECT ?s ?g WHERE {{ GRAPH ?g {{ ?s <{predicate}> <{iri}> }} FILTER(isBlank(?s)) }}")
            if r["s"].value in blank]
    return rows
