"""A page's reads done in-process by pattern on the embedded store (no SPARQL parse, plan or per-query cost).

Why these stay bounded without a query worker: every lookup here names a node (a subject, or an object
with a cap on how many quads are read), so it reads that node's own quads for one pattern and no more,
the same work as the anchored SPARQL it replaces; and through kgapp.read.deadline each lookup, like each
query, starts only while the page is within the endpoint's time limit. Each function answers exactly what
the SPARQL next to its caller answers (tests/read/test_direct.py holds them equal); a remote store has no
``local`` store and keeps the SPARQL.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pyoxigraph as ox

from kgapp.namespaces import DCTERMS, INFERRED_GRAPH, RDF, RDFS, SH, SKOS, VALIDATION_GRAPH
from kgapp.read.deadline import Deadline

DEFAULT = ox.DefaultGraph()
TYPE = ox.NamedNode(str(RDF.type))
_LABEL_PREDICATES = tuple(ox.NamedNode(str(p)) for p in (SKOS.prefLabel, RDFS.label, DCTERMS.title, SKOS.notation))
_LABEL_AT = {p.value: n for n, p in enumerate(_LABEL_PREDICATES)}
_VALIDATION = ox.NamedNode(str(VALIDATION_GRAPH))
_SH = {k: ox.NamedNode(str(SH[k])) for k in ("focusNode", "value", "resultSeverity", "resultPath", "resultMessage",
                                             "ValidationResult")}


def reader(store) -> Any:
    """What answers ``quads_for_pattern`` for ``store`` (time-checked when it is a Deadline), or None when
    the store is not open in this process."""
    if store.local is None:
        return None
    return store if isinstance(store, Deadline) else store.local


def exists(r, iri: str) -> bool:
    """``iri`` is a subject, object or predicate of the default graph (the union of the named graphs)."""
    n = ox.NamedNode(iri)
    return any(next(iter(r.quads_for_pattern(*pattern, DEFAULT)), None) is not None
               for pattern in ((n, None, None), (None, None, n), (None, n, None)))


def outgoing(r, subject: ox.NamedNode) -> tuple[list[tuple], list]:
    """(predicate, object, graph) of every statement of ``subject`` in a named graph, and its quads in the
    default graph (read in the same pass: their label rows spare the page a lookup, see ``rows_of``)."""
    named, default = [], []
    for q in r.quads_for_pattern(subject, None, None, None):
        if type(q.graph_name) is ox.DefaultGraph:
            default.append(q)
        else:
            named.append((q.predicate, q.object, q.graph_name))
    return named, default


def incoming(r, iri: str, limit: int) -> list[tuple] | None:
    """(subject, predicate, graph) of the named-graph quads pointing at ``iri``, or None when there are more
    than ``limit``. Oxigraph reads the default graph first; it is the union of the named graphs, so more than
    ``limit`` quads there means more than ``limit`` named ones: at most 2 × (limit + 1) quads are read."""
    found, union = [], 0
    for q in r.quads_for_pattern(None, None, ox.NamedNode(iri), None):
        if type(q.graph_name) is ox.DefaultGraph:
            union += 1
            if union > limit:
                return None
        else:
            found.append((q.subject, q.predicate, q.graph_name))
            if len(found) > limit:
                return None
    return found


def qualified(r, objects: list, types: frozenset[str], skip: frozenset[str], memo: dict,
              names: dict | None = None) -> list[tuple]:
    """(node, predicate, object) for the statements (but ``skip``) of each node among ``objects`` (the objects
    of a page's statements, one per statement linking to it) typed with one of ``types``; a node's statements
    repeat once per statement and type, as a SPARQL join gives them. Nodes found untyped are kept in ``memo``.
    Each node's quads are read once; ``names`` (when given) gets the label rows of every IRI read, as
    ``label_rows`` gives them, so a page need not look those labels up again."""
    rows = []
    read: dict[str, list] = {}
    for x in objects:
        if isinstance(x, ox.Literal) or memo.get(x.value) is False:
            continue
        quads = read.get(x.value)
        if quads is None:
            quads = read[x.value] = list(r.quads_for_pattern(x, None, None, DEFAULT))
            if names is not None and type(x) is ox.NamedNode:
                names[x.value] = rows_of(quads)
        hits = sum(1 for q in quads if q.predicate == TYPE and q.object.value in types)
        if not hits:
            if isinstance(x, ox.NamedNode):
                memo[x.value] = False
            continue
        own = [(x, q.predicate, q.object) for q in quads if q.predicate.value not in skip]
        rows += own * hits
    return rows


def label_rows(r, iri: str) -> list[tuple[str | None, str | None]]:
    """(label, notation) rows for ``iri`` in the order kgapp.read.labels' query gives them: each OPTIONAL a
    nested loop over its matches (or one unbound), the label the first of prefLabel, rdfs:label, title."""
    n = ox.NamedNode(iri)
    return _label_product([[q.object for q in r.quads_for_pattern(n, p, None, DEFAULT)] for p in _LABEL_PREDICATES])


def rows_of(quads: list) -> list[tuple[str | None, str | None]]:
    """``label_rows`` of a node from all its default-graph quads (read in the index's order, so each
    predicate's objects come in the order a lookup by that predicate gives them)."""
    found: list[list] = [[], [], [], []]
    for q in quads:
        at = _LABEL_AT.get(q.predicate.value)
        if at is not None:
            found[at].append(q.object)
    return _label_product(found)


def _label_product(found: list[list]) -> list[tuple[str | None, str | None]]:
    found[0] = [o for o in found[0] if (o.language or "") in ("en", "")]
    found[1] = [o for o in found[1] if (o.language or "") in ("en", "")]
    return [(next((t.value for t in (pl, rl, dt) if t is not None), None), nt.value if nt is not None else None)
            for pl, rl, dt, nt in product(*(values or [None] for values in found))]


def conflicts(r, iri: str) -> list[tuple]:
    """(focus, path, value, message, severity) of the validation results whose focus node or value is ``iri``,
    distinct, ordered by message (unbound first, as ORDER BY ?msg)."""
    x = ox.NamedNode(iri)

    def objects(s, p, keep=lambda o: True) -> list:
        return [q.object for q in r.quads_for_pattern(s, _SH[p], None, _VALIDATION) if keep(q.object)] or [None]

    results = [(q.subject, x) for q in r.quads_for_pattern(None, _SH["focusNode"], x, _VALIDATION)]
    results += [(q.subject, focus) for q in r.quads_for_pattern(None, _SH["value"], x, _VALIDATION)
                for focus in objects(q.subject, "focusNode") if focus is not None]
    rows: dict[tuple, None] = {}
    for result, focus in results:
        if next(iter(r.quads_for_pattern(result, TYPE, _SH["ValidationResult"], _VALIDATION)), None) is None:
            continue
        for sev, path, value, msg in product(objects(result, "resultSeverity"),
                                             objects(result, "resultPath", lambda o: isinstance(o, ox.NamedNode)),
                                             objects(result, "value"), objects(result, "resultMessage")):
            if sev is not None:
                rows[tuple(t.value if t is not None else None for t in (focus, path, value, msg, sev))] = None
    return sorted(rows, key=lambda row: (row[3] is not None, row[3] or ""))


def stated_graphs(r, iris: list[str]) -> dict[str, list[str]]:
    """The named graphs (but the inferred one) that give each of ``iris`` a type, in order."""
    found = {}
    for iri in iris:
        graphs = sorted({q.graph_name.value for q in r.quads_for_pattern(ox.NamedNode(iri), TYPE, None, None)
                         if type(q.graph_name) is ox.NamedNode and q.graph_name.value != str(INFERRED_GRAPH)})
        if graphs:
            found[iri] = graphs
    return found
