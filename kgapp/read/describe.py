"""Everything the graph says about one IRI: statements with labels, sources and inferred marks, and its RDF."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from kgapp.namespaces import (
    INFERRED_GRAPH,
    KG,
    RDF,
    SKOS,
    curie,
    sparql_prologue,
)
from kgapp.read import direct
from kgapp.read.annotate import Conflict, Reading, annotate
from kgapp.read.incoming import incoming_rows
from kgapp.read.labels import labels, valid_iri
from kgapp.read.outgoing import outgoing
from kgapp.read.sections import RANK, SECTIONS, section_of
from kgapp.read.sources import sources_for
from kgapp.read.vocab import graph_set, indicator_notes

P = sparql_prologue()
MAX_INCOMING = 1000  # incoming triples in an RDF description
INCOMING_PAGE = 100  # (subject, property) pairs of "what refers to this" a page shows at once
MAX_BNODE_DEPTH = 8  # deep enough for SHACL lists and OWL axioms; data nodes have none
_INFERRED = [str(INFERRED_GRAPH)]
# IRI Terms kept per opened store: the shared ones (predicates, nerves, types…) come back at once after a
# clear, and a small cap keeps the garbage collector from walking hundreds of thousands of them.
MAX_TERMS = 20_000


@dataclass
class Term:
    """One end of a statement, ready to show: IRI (with label), blank node or literal."""

    value: str
    kind: str  # "iri" | "bnode" | "literal"
    label: str = ""
    language: str | None = None
    datatype: str | None = None


@dataclass
class Statement:
    predicate: Term
    other: Term  # the object of an outgoing statement, the subject of an incoming one
    graphs: list[str] = field(default_factory=list)
    note: str = ""  # what an indicator value means, in words
    details: list[Statement] = field(default_factory=list)  # a qualified node's own statements
    conflicts: list[Conflict] = field(default_factory=list)  # SHACL warnings naming this statement
    reading: Reading | None = None  # kgapp's interpretation behind it (the report's words, a confidence)
    from_reading: bool = False  # only kgapp's reading graphs hold it

    @property
    def inferred(self) -> bool:
        """Only the reasoner says it: no source graph holds it."""
        return self.graphs == _INFERRED


@dataclass
class Description:
    iri: str
    label: str
    sections: list[tuple[str, list[Statement]]]
    incoming: list[Statement]
    sources: dict[str, dict]  # graph IRI → {"source", "title", "file", "n"} for footnotes
    incoming_truncated: bool = False  # more incoming links exist than this page shows
    incoming_total: int = 0  # (subject, property) pairs pointing here
    incoming_page: int = 1
    incoming_size: int = INCOMING_PAGE
    conflicts: list[Conflict] = field(default_factory=list)  # conflicts about this IRI that no row shows

    @property
    def empty(self) -> bool:
        return not self.sections and not self.incoming


def _term(node, names: dict[str, str]) -> Term:
    if isinstance(node, ox.NamedNode):
        return Term(node.value, "iri", names.get(node.value, node.value))
    if isinstance(node, ox.BlankNode):
        return Term(node.value, "bnode", names.get("_:" + node.value, "anonymous node"))
    dt = node.datatype.value if node.datatype else None
    return Term(node.value, "literal", node.value, node.language, dt)


def _terms(store, names: dict[str, str]):
    """``_term`` over ``names``, an IRI's Term made once per opened store (its label is the build's, and
    Terms are never changed once made), so shared predicates and values are not rebuilt on every page."""
    memo = getattr(store, "memo", None)
    known: dict[str, Term] = memo.setdefault("iri_terms", {}) if memo is not None else {}
    if len(known) > MAX_TERMS:
        known.clear()

    def term(node) -> Term:
        if type(node) is ox.NamedNode:
            found = known.get(node.value)
            if found is None:
                found = known[node.value] = Term(node.value, "iri", names.get(node.value, node.value))
            return found
        return _term(node, names)
    return term


def _kind(cls: str, names: dict[str, str]) -> str:
    """A class's label, or its local name in words when the graph has none (sh:ValidationResult → validation result)."""
    name = names.get(cls, cls)
    if name != curie(cls):
        return name
    local = re.split(r"[#/:]", cls)[-1]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower()


def code_notation(store, iri: str, d: Description | None = None) -> str | None:
    """The notation of ``iri`` when it is a procedure code (its page then links to the claim check); from
    the statements of ``d`` when given (the description of ``iri``)."""
    if d is not None:
        rows = [s for _, group in d.sections for s in group]
        a, code, notation = str(RDF.type), str(KG.ProcedureCode), str(SKOS.notation)
        if not any(s.predicate.value == a and s.other.value == code for s in rows):
            return None
        return next((s.other.value for s in rows if s.predicate.value == notation), None)
    rows = list(store.query(P + f"SELECT ?n WHERE {{ <{iri}> a kg:ProcedureCode ; skos:notation ?n }} LIMIT 1"))
    return rows[0]["n"].value if rows else None


def exists(store, iri: str) -> bool:
    """The IRI is a subject, predicate, object or named graph of the store."""
    if not valid_iri(iri):
        return False
    if iri in graph_set(store):
        return True
    r = direct.reader(store)
    if r is not None:
        return direct.exists(r, iri)
    return bool(store.query(f"ASK {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} UNION {{ ?s <{iri}> ?o }} }}"))


def _bnode_rows(store, iri: str, construct: bool = False):
    """Statements of blank nodes hanging from ``iri``, level by level (CBD closure)."""
    chain = f"<{iri}> ?p0 ?b0 . FILTER(isBlank(?b0))"
    for depth in range(MAX_BNODE_DEPTH):
        head = f"?b{depth} ?p ?o"
        query = f"CONSTRUCT {{ {head} }}" if construct else f"SELECT (?b{depth} AS ?b) ?p ?o"
        rows = list(store.query(f"{query} WHERE {{ {chain} {head} }}"))
        if not rows:
            return
        yield from rows
        chain += f" ?b{depth} ?p{depth + 1} ?b{depth + 1} . FILTER(isBlank(?b{depth + 1}))"


def describe_triples(store, iri: str) -> list[ox.Triple]:
    """Outgoing and incoming triples of ``iri`` plus its blank-node closure (a symmetric CBD)."""
    triples = list(store.query(f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}"))
    triples += _bnode_rows(store, iri, construct=True)
    triples += store.query(f"CONSTRUCT {{ ?s ?p <{iri}> }} WHERE {{ ?s ?p <{iri}> }} LIMIT {MAX_INCOMING}")
    return list(dict.fromkeys(triples))


def describe(store, iri: str, incoming_page: int = 1, incoming_size: int = INCOMING_PAGE) -> Description:
    """Gather what the page of ``iri`` shows with a handful of queries; "what refers to this" comes a page
    of ``incoming_size`` (subject, property) pairs at a time, ordered by property and subject."""
    out, qualified = outgoing(store, iri)
    inc, total = incoming_rows(store, iri, incoming_page, incoming_size)
    # Blank nodes hang from this IRI only when one is the object of its statements.
    bnodes = [(r["b"], r["p"], r["o"]) for r in _bnode_rows(store, iri)] \
        if any(isinstance(o, ox.BlankNode) for _, o, _ in out) else []
    meanings = indicator_notes(store)
    notes = {(p.value, o.value): meanings[(p.value, o.value)] for p, o, _ in out if (p.value, o.value) in meanings}

    nodes = {iri}
    for rows, at in ((out, (0, 1)), (qualified, (1, 2)), (bnodes, (1, 2))):  # predicates and objects
        nodes.update(row[i].value for row in rows for i in at if type(row[i]) is ox.NamedNode)
    nodes.update(r[k].value for r in inc for k in "sp" if isinstance(r[k], ox.NamedNode))
    names = labels(store, nodes | {r["st"].value for r in inc if r["st"] is not None})
    for r in inc:
        if isinstance(r["s"], ox.BlankNode) and r["st"] is not None:
            text = r["sl"].value if r["sl"] is not None else ""
            text = text if len(text) <= 160 else text[:157] + "…"
            names["_:" + r["s"].value] = _kind(r["st"].value, names) + (f": {text}" if text else "")

    term = _terms(store, names)
    details: dict[str, list[Statement]] = {}
    for rows in (qualified, bnodes):
        for x, p, o in rows:
            details.setdefault(x.value, []).append(Statement(term(p), term(o)))

    for stmts in details.values():
        stmts.sort(key=lambda s: (RANK.get(s.predicate.value, 999), s.predicate.label, s.other.label))
        for s in stmts:
            if s.other.kind == "bnode":
                s.details = details.get(s.other.value, [])  # nested lists and shapes; the template caps depth

    merged: dict[tuple, Statement] = {}
    for p, o, g in out:
        key = (p, o)
        if key not in merged:
            other = term(o)
            merged[key] = Statement(term(p), other, note=notes.get((p.value, other.value), ""),
                                    details=details.get(other.value, []))
        merged[key].graphs.append(g.value)
    incoming: dict[tuple, Statement] = {}
    for r in inc:
        key = (r["s"], r["p"])
        graphs = incoming.setdefault(key, Statement(term(r["p"]), term(r["s"]))).graphs
        if r["g"].value not in graphs:
            graphs.append(r["g"].value)

    statements = sorted(merged.values(), key=lambda s: (RANK.get(s.predicate.value, 999), s.predicate.label,
                                                        s.inferred, s.other.label))
    grouped: dict[str, list[Statement]] = {}
    for s in statements:
        grouped.setdefault(section_of(s.predicate.value), []).append(s)
    sections = [(title, grouped[title]) for title in SECTIONS if title in grouped]
    incoming_list = sorted(incoming.values(), key=lambda s: (s.predicate.label, s.other.label))
    every = [s for _, group in sections for s in group] + incoming_list
    unplaced = annotate(store, iri, statements)
    return Description(iri, names[iri], sections, incoming_list, _sources(store, every),
                       incoming_truncated=total > incoming_page * incoming_size, conflicts=unplaced,
                       incoming_total=total, incoming_page=incoming_page, incoming_size=incoming_size)


def _sources(store, statements: list[Statement]) -> dict[str, dict]:
    return sources_for(store, {g for s in statements for g in s.graphs})


__all__ = ["Term", "Statement", "Description", "describe", "describe_triples", "exists", "sources_for", "KG"]
