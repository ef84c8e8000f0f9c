"""Materialise what the ontology implies (OWL 2 RL, as owlrl computes it) as a separate graph of inferred triples.

owlrl's forward chaining re-scans the whole graph on every round and grows superlinearly (minutes
at 100k triples). The ontology is small and changes rarely, so it is closed once with owlrl; the
instance-level rules it needs (sub-properties, inverses, domains, ranges, subclasses, transitive and
symmetric properties, two-step property chains) then run in one semi-naive pass over the data, linear
in the triples read and written. If the ontology uses a construct outside those rules (restrictions,
functional-property merges, sameAs…) the full owlrl closure is used instead, so the answer is always
owlrl's. A test compares both on real and synthetic data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import owlrl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

# owlrl's closure also restates the RDF/RDFS/OWL vocabularies and gives every term trivial facts
# (x sameAs x, x a owl:Thing, datatype declarations). Those carry no information about the domain,
# so they are not kept in the inferred graph.
_BUILTIN_PREFIXES = (str(RDF), str(RDFS), str(OWL), str(XSD))
_TRIVIAL_OBJECTS = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual, RDFS.Literal, RDFS.Datatype,
                    RDF.Property, RDFS.Class, OWL.Class}

# Constructs whose instance-level rules the linear pass does not implement.
_UNSUPPORTED = {OWL.hasValue, OWL.someValuesFrom, OWL.allValuesFrom, OWL.intersectionOf, OWL.unionOf,
                OWL.complementOf, OWL.oneOf, OWL.hasKey, OWL.sameAs, OWL.differentFrom, OWL.maxCardinality,
                OWL.maxQualifiedCardinality, OWL.disjointWith, OWL.propertyDisjointWith,
                OWL.AsymmetricProperty, OWL.IrreflexiveProperty, OWL.InverseFunctionalProperty}


def _is_trivial(s, p, o) -> bool:
    if isinstance(s, Literal):
        return True
    if isinstance(s, BNode) and p == RDF.type and isinstance(o, URIRef) and str(o).startswith(_BUILTIN_PREFIXES):
        return True
    if isinstance(s, URIRef) and str(s).startswith(_BUILTIN_PREFIXES):
        return True
    if p == OWL.sameAs and s == o:
        return True
    if p == RDF.type and o in _TRIVIAL_OBJECTS:
        return True
    if p in (OWL.equivalentClass, OWL.equivalentProperty, RDFS.subClassOf, RDFS.subPropertyOf) and s == o:
        return True
    return p == RDFS.subClassOf and o in (OWL.Thing, RDFS.Resource)


def _owlrl_closure(graph: Graph) -> Graph:
    closure = Graph()
    for triple in graph:
        closure.add(triple)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(closure)
    return closure


def infer_owlrl(asserted: Graph) -> Graph:
    """The reference: triples owlrl's full OWL 2 RL closure adds, without the trivial ones."""
    closure = _owlrl_closure(asserted)
    return _new_triples(closure, asserted)


def _new_triples(closure: Iterable, asserted: Graph) -> Graph:
    out = Graph()
    for triple in closure:
        if triple not in asserted and not _is_trivial(*triple):
            out.add(triple)
    return out


class _Rules:
    """Instance-level rule tables read off the closed schema."""

    def __init__(self, schema: Graph):
        self.superclasses = self._table(schema, RDFS.subClassOf)
        self.superproperties = self._table(schema, RDFS.subPropertyOf)
        self.domains = self._table(schema, RDFS.domain)
        self.ranges = self._table(schema, RDFS.range)
        self.inverses: dict = defaultdict(set)
        for p, q in schema.subject_objects(OWL.inverseOf):
            self.inverses[p].add(q)
            self.inverses[q].add(p)
        self.transitive = set(schema.subjects(RDF.type, OWL.TransitiveProperty))
        self.symmetric = set(schema.subjects(RDF.type, OWL.SymmetricProperty))
        self.functional = set(schema.subjects(RDF.type, OWL.FunctionalProperty))
        self.chains: list[tuple] = []
        self.supported = True
        for q, head in schema.subject_objects(OWL.propertyChainAxiom):
            steps = _collection(schema, head)
            if len(steps) != 2:
                self.supported = False
            else:
                self.chains.append((q, steps[0], steps[1]))
        # owlrl states x sameAs x for every term; only a sameAs between two terms needs equality rules.
        used = {p for s, p, o in schema if not (p == OWL.sameAs and s == o)}
        if (None, RDF.type, OWL.Restriction) in schema or used & _UNSUPPORTED or \
                set(schema.objects(None, RDF.type)) & _UNSUPPORTED:
            self.supported = False

    @staticmethod
    def _table(schema: Graph, predicate) -> dict:
        table: dict = defaultdict(set)
        for s, o in schema.subject_objects(predicate):
            if s != o:
                table[s].add(o)
        return table


def _collection(graph: Graph, head) -> list:
    items = []
    while head and head != RDF.nil:
        items.append(graph.value(head, RDF.first))
        head = graph.value(head, RDF.rest)
    return items


def _materialise(rules: _Rules, triples: set) -> set:
    """Semi-naive forward chaining of the instance rules; returns the triples not in ``triples``."""
    indexed = rules.transitive | {p for _, p1, p2 in rules.chains for p in (p1, p2)}
    out_index: dict = defaultdict(lambda: defaultdict(set))  # p -> s -> {o}
    in_index: dict = defaultdict(lambda: defaultdict(set))  # p -> o -> {s}
    for s, p, o in triples:
        if p in indexed:
            out_index[p][s].add(o)
            in_index[p][o].add(s)
    chains_by_first = defaultdict(list)
    chains_by_second = defaultdict(list)
    for q, p1, p2 in rules.chains:
        chains_by_first[p1].append((q, p2))
        chains_by_second[p2].append((q, p1))
    known = set(triples)
    new: set = set()
    agenda = list(triples)

    def emit(t):
        if t not in known:
            known.add(t)
            new.add(t)
            agenda.append(t)
            if t[1] in indexed:
                out_index[t[1]][t[0]].add(t[2])
                in_index[t[1]][t[2]].add(t[0])

    while agenda:
        s, p, o = agenda.pop()
        resource_object = not isinstance(o, Literal)
        if p == RDF.type:
            for c in rules.superclasses.get(o, ()):
                emit((s, RDF.type, c))
        for q in rules.superproperties.get(p, ()):
            emit((s, q, o))
        for c in rules.domains.get(p, ()):
            emit((s, RDF.type, c))
        if resource_object:
            for c in rules.ranges.get(p, ()):
                emit((o, RDF.type, c))
            for q in rules.inverses.get(p, ()):
                emit((o, q, s))
            if p in rules.symmetric:
                emit((o, p, s))
        if p in rules.transitive:
            for z in list(out_index[p].get(o, ())):
                emit((s, p, z))
            for x in list(in_index[p].get(s, ())):
                emit((x, p, o))
        for q, p2 in chains_by_first.get(p, ()):
            for z in list(out_index[p2].get(o, ())):
                emit((s, q, z))
        for q, p1 in chains_by_second.get(p, ()):
            for x in list(in_index[p1].get(s, ())):
                emit((x, q, o))
    return new


def _functional_clash(rules: _Rules, triples: set) -> bool:
    """Two values of a functional property would make owlrl infer sameAs; leave that to owlrl."""
    if not rules.functional:
        return False
    seen: dict = {}
    return any(p in rules.functional and seen.setdefault((s, p), o) != o for s, p, o in triples)


def infer(asserted: Graph | set[tuple], ontology: Graph | None = None) -> Graph:
    """Triples the OWL 2 RL closure of ``asserted`` (a graph, or a set of rdflib triples) adds, without
    owlrl's trivial axioms.

    ``ontology`` is the schema part of ``asserted`` (closed with owlrl on its own); without it the
    whole graph goes through owlrl.
    """
    if ontology is None:
        return infer_owlrl(_as_graph(asserted))
    schema = _owlrl_closure(ontology)
    rules = _Rules(schema)
    triples = set(asserted)
    if not rules.supported or _functional_clash(rules, triples):
        return infer_owlrl(_as_graph(asserted))
    schema_triples = set(schema)
    new = _materialise(rules, triples | schema_triples)
    return _new_triples(new | schema_triples, asserted)


def _as_graph(triples: Graph | set[tuple]) -> Graph:
    if isinstance(triples, Graph):
        return triples
    graph = Graph()
    for triple in triples:
        graph.add(triple)
    return graph
