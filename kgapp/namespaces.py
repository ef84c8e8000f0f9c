"""The project's IRIs and prefixes: one place for every namespace the code, queries and pages use."""

import re

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, SKOS, VOID, XSD

KG = Namespace("https://w3id.org/kgapp/ontology#")
ID = Namespace("https://w3id.org/kgapp/id/")
GRAPH = Namespace("https://w3id.org/kgapp/graph/")
KGSH = Namespace("https://w3id.org/kgapp/shapes#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
UBERON = Namespace("http://purl.obolibrary.org/obo/UBERON_")

DEFAULT_BASE_IRI = str(ID)

# Named graphs that are not a source file.
ONTOLOGY_GRAPH = GRAPH["ontology"]
SHAPES_GRAPH = GRAPH["shapes"]
INFERRED_GRAPH = GRAPH["inferred"]
VALIDATION_GRAPH = GRAPH["validation"]

# Prefixes offered to every SPARQL query, the query page and every serialisation.
PREFIXES: dict[str, str] = {
    "kg": str(KG),
    "id": str(ID),
    "kgg": str(GRAPH),
    "kgsh": str(KGSH),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "prov": str(PROV),
    "dcterms": str(DCTERMS),
    "sh": str(SH),
    "void": str(VOID),
    "sd": str(SD),
    "uberon": str(UBERON),
}


def sparql_prologue(prefixes: dict[str, str] = PREFIXES) -> str:
    """The PREFIX lines for ``prefixes``, ready to put in front of a query."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items())


_LOCAL = re.compile(r"[A-Za-z0-9_\-.]*")


def curie(iri: str) -> str:
    """``kg:targetNerve`` for an IRI in a known namespace (the longest that fits), else the IRI itself."""
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")):
            best = prefix
    if best and _LOCAL.fullmatch(iri[len(PREFIXES[best]):]):
        return f"{best}:{iri[len(PREFIXES[best]):]}"
    return iri


__all__ = [
    "KG", "ID", "GRAPH", "KGSH", "SD", "UBERON", "DCTERMS", "OWL", "PROV", "RDF", "RDFS", "SH",
    "SKOS", "VOID", "XSD", "DEFAULT_BASE_IRI", "ONTOLOGY_GRAPH", "SHAPES_GRAPH", "INFERRED_GRAPH",
    "VALIDATION_GRAPH", "PREFIXES", "sparql_prologue", "curie",
]
