"""The SPARQL 1.1 Service Description of the endpoint: what it speaks, writes, and which graphs it holds."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, RDF, RDFS, VOID

from .formats import GRAPH_FORMATS, DATASET_FORMATS, RESULT_FORMATS
from .namespaces import SD
from .store import EmbeddedStore

TITLE = "kgapp: US procedure-billing knowledge graph (CPT codes, nerves, modifiers, payers)"


def _term(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """rdflib namespace terms become Oxigraph IRIs; Oxigraph terms pass through."""
    return term if isinstance(term, (ox.NamedNode, ox.BlankNode, ox.Literal)) else ox.NamedNode(str(term))


def service_description(store: EmbeddedStore, endpoint: str, void_url: str) -> list[ox.Triple]:
    """The description of the endpoint at ``endpoint``; ``void_url`` is where its VoID description lives."""
    service, dataset, default = ox.BlankNode("service"), ox.BlankNode("dataset"), ox.BlankNode("default")
    triples: list[tuple] = [
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
    # Format IRIs come from Oxigraph (http://www.w3.org/ns/formats/…), so they match what it writes.
    triples += [(service, SD.resultFormat, ox.NamedNode(f.ox_results.iri)) for f in RESULT_FORMATS]
    triples += [(service, SD.resultFormat, ox.NamedNode(f.ox_rdf.iri)) for f in GRAPH_FORMATS + DATASET_FORMATS]
    counts = store.manifest.get("graphs", {})
    for index, name in enumerate(store.named_graphs()):
        named, graph = ox.BlankNode(f"named{index}"), ox.BlankNode(f"graph{index}")
        triples += [(dataset, SD.namedGraph, named), (named, RDF.type, SD.NamedGraph),
                    (named, SD.name, ox.NamedNode(name)), (named, SD.graph, graph), (graph, RDF.type, SD.Graph)]
        if name in counts:
            triples.append((graph, VOID.triples, ox.Literal(int(counts[name]))))
    # Grouped by subject (first appearance first) so Turtle writes each node once, readably.
    first_seen: dict = {}
    triples.sort(key=lambda t: first_seen.setdefault(t[0], len(first_seen)))
    return [ox.Triple(_term(s), _term(p), _term(o)) for s, p, o in triples]
