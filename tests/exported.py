"""What an export must hold: the store's union (less what only the reasoner says) and its graphs, in rdflib."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from kgapp.namespaces import INFERRED_GRAPH

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_rdflib(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:  # RDF 1.1: a simple literal is an xsd:string; rdflib spells it without
        return Literal(term.value)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def expected_graph(store, inferred: bool) -> Graph:
    """The union the store serves: its default graph, less what only the reasoner says unless asked."""
    g = Graph()
    for r in store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }"):
        g.add((to_rdflib(r["s"]), to_rdflib(r["p"]), to_rdflib(r["o"])))
    if not inferred:
        for r in store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} FILTER NOT EXISTS "
                             f"{{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED_GRAPH}>) }} }}"):
            g.remove((to_rdflib(r["s"]), to_rdflib(r["p"]), to_rdflib(r["o"])))
    return g


def expected_graphs(store, inferred: bool) -> dict[str, Graph]:
    out = {}
    for name in store.named_graphs():
        if name == str(INFERRED_GRAPH) and not inferred:
            continue
        g = out.setdefault(name, Graph())
        for q in store.quads(name):
            g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    return out


def assert_same_graphs(data: bytes, rdflib_format: str, want: dict[str, Graph]) -> None:
    """``data`` (a dataset export) holds exactly ``want``'s named graphs, each isomorphic to its expected one."""
    from rdflib import Dataset
    from rdflib.compare import isomorphic

    ds = Dataset()
    ds.parse(data=data, format=rdflib_format)
    got = {str(c.identifier): c for c in ds.graphs() if len(c)}
    assert set(got) == set(want)
    for name, graph in want.items():
        assert isomorphic(got[name], graph), name
