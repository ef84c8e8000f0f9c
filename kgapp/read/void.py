"""The VoID description of the served dataset: size, endpoint, dumps (as subsets), one subset per named graph, sources.

The dumps are not all the same dataset: /export.ttl holds the asserted triples, /export.ttl?inferred=true
adds the inferred ones, and the quad formats (TriG, N-Quads) keep every graph's triples apart, so a
triple two graphs share counts twice there. Each of those four is a subset of the dataset with the
void:triples its own dump holds.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from rdflib.namespace import FOAF as FOAF_NS

from kgapp.formats import DATASET_FORMATS, GRAPH_FORMATS, RDF_FORMATS
from kgapp.namespaces import DCTERMS, INFERRED_GRAPH, KG, RDF, VOID, XSD, sparql_prologue
from kgapp.rights import RIGHTS
from kgapp.store.base import memoised
from kgapp.store.stats import stats

P = sparql_prologue()
MIT = "https://opensource.org/licenses/MIT"
# W3C's format IRIs, announced as void:feature so clients know which dumps they can read.
FEATURES = {"turtle": "Turtle", "ntriples": "N-Triples", "jsonld": "JSON-LD", "rdfxml": "RDF_XML",
            "trig": "TriG", "nquads": "N-Quads"}


def _lit(value, datatype=None) -> ox.Literal:
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(str(XSD.integer)))
    return ox.Literal(str(value), datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(str(value))


def xsd_datetime(stamp: str) -> ox.Literal:
    """A build's ``built_at`` (``…T10:15:00+0000``) as a valid xsd:dateTime (``…T10:15:00+00:00``)."""
    return _lit(re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", stamp), str(XSD.dateTime))


def inferred_only(store) -> int:
    """Triples only the reasoner states (an asserted export leaves them out), counted once per store."""
    return memoised(store, "void.inferred_only", lambda: int(next(iter(store.query(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} FILTER NOT EXISTS {{ "
        f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED_GRAPH}>) }} }}")))["n"].value))


def dump_subsets(store, counted: dict) -> list[tuple[str, str, int, tuple]]:
    """(fragment, title, triples, formats) of each dump: its URL suffix is ``?inferred=true`` or none."""
    graphs = counted["graphs"]
    asserted_quads = sum(n for g, n in graphs.items() if g != str(INFERRED_GRAPH))
    return [("asserted", "asserted triples", counted["triples"] - inferred_only(store), GRAPH_FORMATS),
            ("inferred", "asserted and inferred triples", counted["triples"], GRAPH_FORMATS),
            ("asserted-graphs", "asserted graphs", asserted_quads, DATASET_FORMATS),
            ("inferred-graphs", "asserted and inferred graphs", sum(graphs.values()), DATASET_FORMATS)]


def void_triples(store, root: str, base_iri: str) -> list[ox.Triple]:
    """VoID for the store served at ``root`` (absolute URL without trailing slash)."""
    ds = ox.NamedNode(f"{root}/.well-known/void#dataset")
    out: list[ox.Triple] = []

    def add(s, p, o):
        out.append(ox.Triple(s, ox.NamedNode(str(p)), o if not isinstance(o, str) else ox.NamedNode(o)))

    add(ds, RDF.type, str(VOID.Dataset))
    add(ds, DCTERMS.title, ox.Literal("kgapp: US procedure-billing knowledge graph", language="en"))
    add(ds, DCTERMS.description, ox.Literal(
        "CPT codes, the nerves they act on, procedure types, modifiers, payers, places of service and "
        "Medicare indicators, with the source of every statement in its own named graph.", language="en"))
    licenses = [r["l"].value for r in store.query(P + "SELECT DISTINCT ?l WHERE { ?o a owl:Ontology ; dcterms:license ?l }")]
    for lic in licenses or [MIT]:
        add(ds, DCTERMS.license, lic)  # kgapp's own work only; the rights statement says what is not
    add(ds, DCTERMS.rights, ox.Literal(RIGHTS, language="en"))
    if store.manifest.get("built_at"):
        add(ds, DCTERMS.modified, xsd_datetime(store.manifest["built_at"]))
    add(ds, FOAF_NS.homepage, f"{root}/")
    add(ds, VOID.sparqlEndpoint, f"{root}/sparql")
    for f in RDF_FORMATS:
        add(ds, VOID.feature, f"http://www.w3.org/ns/formats/{FEATURES[f.name]}")
    add(ds, VOID.uriSpace, _lit(base_iri))
    add(ds, VOID.uriLookupEndpoint, f"{root}/search?q=")
    for ns in (str(KG), "http://www.w3.org/2004/02/skos/core#", "http://www.w3.org/ns/prov#", str(DCTERMS)):
        add(ds, VOID.vocabulary, ns)
    counted = stats(store)  # recorded by the build: each of these is a full scan of the store
    for fragment, title, n, formats in dump_subsets(store, counted):
        sub = ox.NamedNode(f"{root}/.well-known/void#{fragment}")
        add(ds, VOID.subset, sub)
        add(sub, RDF.type, str(VOID.Dataset))
        add(sub, DCTERMS.title, ox.Literal(f"kgapp dump: {title}", language="en"))
        add(sub, VOID.triples, _lit(n))
        query = "?inferred=true" if fragment.startswith("inferred") else ""
        for f in formats:
            add(sub, VOID.dataDump, f"{root}/export.{f.extension}{query}")
    add(ds, VOID.triples, _lit(counted["triples"]))
    add(ds, VOID.entities, _lit(counted["entities"]))
    add(ds, VOID.classes, _lit(counted["distinct_classes"]))
    add(ds, VOID.properties, _lit(len(counted["properties"])))
    for p, n in sorted(counted["properties"].items()):
        part = ox.NamedNode(f"{root}/.well-known/void#property-{len(out)}")
        add(ds, VOID.propertyPartition, part)
        add(part, VOID.property, p)
        add(part, VOID.triples, _lit(n))
    for c, n in sorted(counted["classes"].items()):
        part = ox.NamedNode(f"{root}/.well-known/void#class-{len(out)}")
        add(ds, VOID.classPartition, part)
        add(part, VOID["class"], c)
        add(part, VOID.entities, _lit(n))
    for r in store.query(P + "SELECT ?c WHERE { ?c a kg:ProcedureCode FILTER isIRI(?c) } ORDER BY ?c LIMIT 5"):
        add(ds, VOID.exampleResource, r["c"].value)

    sources = {r["g"].value: r["src"].value for r in store.query(
        P + "SELECT ?g ?src WHERE { ?g prov:wasDerivedFrom ?src }")}
    counts = counted["graphs"]
    for g in store.named_graphs():
        sub = ox.NamedNode(g)  # the graph IRI names its subset, so VoID and provenance meet on one node
        add(ds, VOID.subset, sub)
        add(sub, RDF.type, str(VOID.Dataset))
        add(sub, VOID.triples, _lit(counts.get(g, 0)))
        if g in sources:
            add(sub, DCTERMS.source, sources[g])
            add(ds, DCTERMS.source, sources[g])
    return out
