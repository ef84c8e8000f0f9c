"""Turn parsed source files into the rdflib graphs that pyshacl and the reasoner read."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from kgapp.namespaces import DEFAULT_BASE_IRI
from kgapp.sources import SourceFile, parse_quads, store_salt

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class _Terms:
    """Converts Oxigraph terms to rdflib terms, sharing one object per IRI (files repeat IRIs a lot)."""

    def __init__(self):
        self.iris: dict[str, URIRef] = {}

    def __call__(self, term):
        if isinstance(term, ox.NamedNode):
            iri = self.iris.get(term.value)
            if iri is None:
                iri = self.iris[term.value] = URIRef(term.value)
            return iri
        if isinstance(term, ox.BlankNode):
            return BNode(term.value)
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=self(term.datatype))


def to_graph(quads: Iterable[ox.Quad], graph: Graph | None = None) -> Graph:
    """Add the quads' triples to an rdflib graph (new if not given), for pyshacl and the reasoner."""
    graph = Graph() if graph is None else graph
    add, term = graph.add, _Terms()
    for q in quads:
        add((term(q.subject), term(q.predicate), term(q.object)))
    return graph


Parsed = list[tuple[SourceFile, list[ox.Quad]]]


def parse_sources(sources: Iterable[SourceFile], base_iri: str = DEFAULT_BASE_IRI,
                  progress: Callable[[str], None] | None = None, for_store: bool = False) -> Parsed:
    """Each source with its statements as Oxigraph quads (in the source's graph), parsed natively.

    Every parse of a file gives its blank nodes the same ids (kgapp.sources.parse_quads), so the store,
    the reasoner and the validator agree on the data's. ``for_store``: the shapes files' blank nodes get
    other ids, because the validation report copies some of them (shape paths), and those copies must
    stay apart from the shapes' own nodes in the store's default graph.
    """
    parsed = []
    for source in sources:
        quads = parse_quads(source, ox.NamedNode(str(source.graph)), base_iri, store_salt(source) if for_store else "")
        parsed.append((source, quads))
        if progress:
            progress(f"parsed {source.path.name}: {len(quads)} statements → <{source.graph}>")
    return parsed


def role_graphs(parsed: Iterable[tuple[SourceFile, list[ox.Quad]]]) -> dict[str, Graph]:
    """The triples of each role ("ontology", "shapes", "data") as one rdflib graph each."""
    graphs: dict[str, Graph] = {}
    for source, quads in parsed:
        to_graph(quads, graphs.setdefault(source.role, Graph()))
    return graphs


def role_triples(parsed: Iterable[tuple[SourceFile, list[ox.Quad]]], roles: tuple[str, ...]) -> set[tuple]:
    """The distinct triples of the given roles as rdflib terms (a set: cheaper than a Graph to fill)."""
    term = _Terms()
    return {(term(q.subject), term(q.predicate), term(q.object))
            for source, quads in parsed if source.role in roles for q in quads}


def load_sources(sources: Iterable[SourceFile], base_iri: str = DEFAULT_BASE_IRI,
                 progress: Callable[[str], None] | None = None) -> dict[str, Graph]:
    """The triples of each role ("ontology", "shapes", "data") as one rdflib graph each.

    The store does not need these: it bulk-loads the files natively (kgapp.store.writer).
    """
    graphs: dict[str, Graph] = {}
    for source in sources:
        graph = graphs.setdefault(source.role, Graph())
        before = len(graph)
        to_graph(parse_quads(source, ox.NamedNode(str(source.graph)), base_iri), graph)
        if progress:
            progress(f"loaded {source.path.name}: {len(graph) - before} new triples → <{source.graph}>")
    return graphs


def subjects_by_source(sources: Iterable[SourceFile], base_iri: str = DEFAULT_BASE_IRI) -> dict[str, set[str]]:
    """For each subject IRI or blank node id, the names of the files stating something about it."""
    index: dict[str, set[str]] = {}
    for source in sources:
        for q in parse_quads(source, ox.NamedNode(str(source.graph)), base_iri):
            index.setdefault(q.subject.value, set()).add(source.path.name)
    return index
