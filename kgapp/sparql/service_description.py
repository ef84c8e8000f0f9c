"""The SPARQL 1.1 Service Description of the endpoint: what it speaks, writes, and which graphs it holds."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID

from kgapp.formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS
from kgapp.namespaces import SD
from kgapp.store.base import Store

TITLE = "kgapp: US procedure-billing knowledge graph (CPT codes, nerves, modifiers, payers)"
FORMATS_NS = Namespace("http://www.w3.org/ns/formats/")
# The W3C's format IRIs, by kgapp format name (Oxigraph's own .iri for JSON-LD is not the W3C one).
FORMAT_IRIS = {
    "json": FORMATS_NS.SPARQL_Results_JSON, "xml": FORMATS_NS.SPARQL_Results_XML,
    "csv": FORMATS_NS.SPARQL_Results_CSV, "tsv": FORMATS_NS.SPARQL_Results_TSV,
    "turtle": FORMATS_NS.Turtle, "ntriples": FORMATS_NS["N-Triples"], "jsonld": FORMATS_NS["JSON-LD"],
    "rdfxml": FORMATS_NS.RDF_XML, "trig": FORMATS_NS.TriG, "nquads": FORMATS_NS["N-Quads"],
}


def _term(term: URIRef | ox.NamedNode | ox.BlankNode | ox.Literal
          ) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """rdflib namespace terms become Oxigraph IRIs; Oxigraph terms pass through."""
    return term if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)) else ox.NamedNode(str(term))


def service_description(store: Store, endpoint: str, void_url: str) -> list[ox.Triple]:
    """The description of the endpoint at ``endpoint``; ``void_url`` is where its VoID description lives."""
    service, dataset, default = ox.BlankNode("service"), ox.BlankNode("dataset"), ox.BlankNode("default")
    # (node, rdflib property, value): every subject here is a blank node, every predicate an IRI
    triples: list[tuple[ox.BlankNode, URIRef, URIRef | ox.NamedNode | ox.BlankNode | ox.Literal]] = [
        (service, RDF.type, SD.Service),
        (service, SD.endpoint, ox.NamedNode(endpoint)),
        (service, SD.supportedLanguage, SD.SPARQL11Query),
        # The default graph is the RDF merge of all named graphs (materialised at build time).
        (service, SD.feature, SD.UnionDefaultGraph),
        (service, SD.defaultDataset, dataset),
        (service, DCTERMS.title, ox.Literal(TITLE, language="en")),
        (service, RDFS.seeAlso, ox.NamedNode(void_url)),
        (dataset, RDF.type, SD.Dataset),
        (dataset, RDFS.seeAlso, ox.NamedNode(void_url)),
        (dataset, SD.defaultGraph, default),
        (default, RDF.type, SD.Graph),
        (default, VOID.triples, ox.Literal(store.triple_count)),
    ]
    triples += [(service, SD.resultFormat, FORMAT_IRIS[f.name])
                for f in RESULT_FORMATS + GRAPH_FORMATS + DATASET_FORMATS]
    counts = store.manifest.get("graphs", {})
    for index, name in enumerate(store.named_graphs()):
        named, graph = ox.BlankNode(f"named{index}"), ox.BlankNode(f"graph{index}")
        triples += [(dataset, SD.namedGraph, named), (named, RDF.type, SD.NamedGraph),
                    (named, SD.name, ox.NamedNode(name)), (named, SD.graph, graph), (graph, RDF.type, SD.Graph)]
        if name in counts:
            triples.append((graph, VOID.triples, ox.Literal(int(counts[name]))))
    # Grouped by subject (first appearance first) so Turtle writes each node once, readably.
    first_seen: dict[ox.BlankNode, int] = {}
    triples.sort(key=lambda t: first_seen.setdefault(t[0], len(first_seen)))
    return [ox.Triple(s, ox.NamedNode(str(p)), _term(o)) for s, p, o in triples]
