"""Materialise what the ontology implies (OWL 2 RL via owlrl) as a separate graph of inferred triples."""

from __future__ import annotations

import owlrl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

# owlrl's closure also restates the RDF/RDFS/OWL vocabularies and gives every term trivial facts
# (x sameAs x, x a owl:Thing, datatype declarations). Those carry no information about the domain,
# so they are not kept in the inferred graph.
_BUILTIN_PREFIXES = (str(RDF), str(RDFS), str(OWL), str(XSD))
_TRIVIAL_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual, RDFS.Literal, RDFS.Datatype,
                    RDF.Property, RDFS.Class, OWL.Class}


def _is_trivial(s, p, o) -> bool:
    if isinstance(s, Literal) or isinstance(s, BNode) and p == RDF.type and isinstance(o, URIRef) and str(o).startswith(_BUILTIN_PREFIXES):
        return True
    if p == OWL.sameAs and s == o:
        return True
    if p == RDF.type and o in _TRIVIAL_OBJECTS:
        return True
    if isinstance(s, URIRef) and str(s).startswith(_BUILTIN_PREFIXES):
        return True
    if p in (OWL.equivalentClass, OWL.equivalentProperty, RDFS.subClassOf, RDFS.subPropertyOf) and s == o:
        return True
    if p == RDFS.subClassOf and o in (OWL.Thing, RDFS.Resource):
        return True
    if p == RDF.type and o in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty) \
            and isinstance(s, URIRef) and str(s).startswith(_BUILTIN_PREFIXES):
        return True
    return False


def infer(asserted: Graph) -> Graph:
    """Triples the OWL 2 RL closure of ``asserted`` adds, without owlrl's trivial axioms."""
    closure = Graph()
    for triple in asserted:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(closure)
    inferred = Graph()
    for triple in closure:
        if triple not in asserted and not _is_trivial(*triple):
            inferred.add(triple)
    return inferred
