"""The linear reasoner gives exactly owlrl's OWL 2 RL closure (minus trivial axioms) on real and synthetic data."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kgapp.build import load_inputs
from kgapp.build.reason import infer, infer_owlrl
from kgapp.build.synth import synthesize
from kgapp.config import Config
from kgapp.namespaces import ID, KG


def test_same_as_owlrl_on_the_shipped_data():
    inputs = load_inputs(Config())
    fast = infer(inputs.asserted, inputs.ontology)
    assert set(fast) == set(infer_owlrl(inputs.asserted))
    assert len(fast) > 200


@pytest.mark.slow  # owlrl alone takes about a minute here
def test_same_as_owlrl_on_a_1000_code_synthetic_graph(tmp_path):
    """The slow half of this test is owlrl itself (about two minutes here)."""
    synthesize(1000, tmp_path / "data", seed=7)
    inputs = load_inputs(Config(data_dirs=(tmp_path / "data",)))
    fast = set(infer(inputs.asserted, inputs.ontology))
    assert len(inputs.asserted) > 70_000
    assert fast == set(infer_owlrl(inputs.asserted))


def test_expected_consequences(store):
    code = URIRef(ID["code/cpt/64868"])
    inputs = load_inputs(Config())
    inferred = infer(inputs.asserted, inputs.ontology)
    assert (code, KG.involvesNerve, ID["nerve/hypoglossal"]) in inferred  # sub-property
    assert (code, KG.hasProcedureType, ID["procedure-type/nerve-reconstruction"]) in inferred  # chain
    assert (code, KG.hasInformationGap, ID["gap/seed-000/payer-payment-rates"]) in inferred  # inverse
    assert (ID["nerve/hypoglossal"], RDF.type, KG.Nerve) in inferred  # subclass
    # trivial axioms are left out
    assert not any(p == OWL.sameAs for _, p, _ in inferred)
    assert (code, RDF.type, OWL.Thing) not in inferred
    assert (code, KG.targetNerve, ID["nerve/facial"]) not in inferred  # asserted, so not "inferred"


def test_unsupported_construct_falls_back_to_owlrl():
    ontology = Graph()
    ontology.parse(data="""
        @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix ex: <http://ex/> .
        ex:C owl:equivalentClass [ a owl:Restriction ; owl:onProperty ex:p ; owl:hasValue ex:v ] .
    """, format="turtle")
    data = Graph()
    data.parse(data="@prefix ex: <http://ex/> . ex:a ex:p ex:v .", format="turtle")
    inferred = infer(ontology + data, ontology)
    assert (URIRef("http://ex/a"), RDF.type, URIRef("http://ex/C")) in inferred


@pytest.mark.parametrize("turtle, expected", [
    # transitive property
    ("ex:t a owl:TransitiveProperty . ex:a ex:t ex:b . ex:b ex:t ex:c .", ("a", "t", "c")),
    # symmetric property
    ("ex:s a owl:SymmetricProperty . ex:a ex:s ex:b .", ("b", "s", "a")),
    # range typing
    ("ex:r rdfs:range ex:R . ex:a ex:r ex:b .", ("b", "type", "R")),
])
def test_rules_match_owlrl_on_small_cases(turtle, expected):
    prefixes = ("@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix ex: <http://ex/> . "
                "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . ")
    whole = Graph().parse(data=prefixes + turtle, format="turtle")
    schema = Graph()
    for t in whole:
        if t[1] in (RDF.type, RDFS.range) and str(t[0]).startswith("http://ex/") and t[1] != RDF.type or \
                t[2] in (OWL.TransitiveProperty, OWL.SymmetricProperty):
            schema.add(t)
    fast = infer(whole, schema)
    assert set(fast) == set(infer_owlrl(whole))
    s, p, o = expected
    pred = RDF.type if p == "type" else URIRef("http://ex/" + p)
    assert (URIRef("http://ex/" + s), pred, URIRef("http://ex/" + o)) in fast
