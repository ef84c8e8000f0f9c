"""VoID: the dataset description counts what the store holds and points at endpoint, dumps and subsets."""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID

from kgapp.formats import GRAPH_FORMATS, RDF_FORMATS

ROOT = "http://localhost"
DS = URIRef(f"{ROOT}/.well-known/void#dataset")


@pytest.fixture()
def void(client) -> Graph:
    r = client.get("/.well-known/void")
    assert r.status_code == 200 and r.content_type.startswith("text/turtle")
    return Graph().parse(data=r.data, format="turtle")


def count(store, query: str) -> int:
    return int(next(iter(store.query(query)))["n"].value)


def test_dataset_counts_match_the_store(void, store):
    assert (DS, RDF.type, VOID.Dataset) in void
    assert int(void.value(DS, VOID.triples)) == count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(void.value(DS, VOID.classes)) == count(store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }")
    assert int(void.value(DS, VOID.properties)) == count(store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }")
    assert int(void.value(DS, VOID.entities)) > 200


def test_endpoint_dumps_license_and_uri_space(void, client):
    assert (DS, VOID.sparqlEndpoint, URIRef(f"{ROOT}/sparql")) in void
    dumps = set(void.objects(DS, VOID.dataDump))
    assert dumps == {URIRef(f"{ROOT}/export.{f.extension}") for f in RDF_FORMATS}
    for dump in dumps:
        assert client.get(dump.removeprefix(ROOT)).status_code == 200
    assert (DS, DCTERMS.license, URIRef("https://opensource.org/licenses/MIT")) in void
    assert (DS, VOID.uriSpace, Literal("https://w3id.org/kgapp/id/")) in void


def test_one_subset_per_named_graph_with_its_size_and_source(void, store):
    subsets = set(void.objects(DS, VOID.subset))
    assert {str(s) for s in subsets} == set(store.named_graphs())
    seed = URIRef("https://w3id.org/kgapp/graph/seed-000-64868")
    n = count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{seed}> {{ ?s ?p ?o }} }}")
    assert int(void.value(seed, VOID.triples)) == n
    assert (seed, DCTERMS.source, URIRef("https://w3id.org/kgapp/id/source/seed-000")) in void
    assert (DS, DCTERMS.source, URIRef("https://w3id.org/kgapp/id/source/seed-000")) in void


@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
def test_void_in_every_graph_format(client, fmt):
    by_suffix = client.get(f"/void.{fmt.extension}")
    by_accept = client.get("/.well-known/void", headers={"Accept": fmt.media_type})
    assert by_suffix.status_code == by_accept.status_code == 200
    assert by_suffix.content_type == by_accept.content_type == fmt.content_type
    assert by_suffix.data == by_accept.data


def test_void_status_codes(client):
    assert client.get("/void.exe").status_code == 404
    assert client.get("/void.html").status_code == 404
    assert client.get("/.well-known/void", headers={"Accept": "image/png"}).status_code == 406
