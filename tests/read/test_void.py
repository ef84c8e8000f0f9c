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
    dumps = {d for sub in void.objects(DS, VOID.subset) for d in void.objects(sub, VOID.dataDump)}
    assert dumps == {URIRef(f"{ROOT}/export.{f.extension}{q}") for f in RDF_FORMATS for q in ("", "?inferred=true")}
    for dump in dumps:
        assert client.get(dump.removeprefix(ROOT)).status_code == 200
    assert (DS, DCTERMS.license, URIRef("https://opensource.org/licenses/MIT")) in void
    assert (DS, VOID.uriSpace, Literal("https://w3id.org/kgapp/id/")) in void


def parsed_dump(client, url: str) -> tuple[int, int]:
    """(distinct triples, quads) of the dump at ``url``, parsed back."""
    from rdflib import Dataset
    data = client.get(url.removeprefix(ROOT)).data
    ext = url.split("?")[0].rsplit(".", 1)[1]
    ds = Dataset()
    ds.parse(data=data, format={"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml", "trig": "trig",
                                "nq": "nquads"}[ext])
    quads = list(ds.quads((None, None, None, None)))
    return len({q[:3] for q in quads}), len(quads)


def test_each_dump_is_a_subset_whose_count_matches_the_dump(void, client):
    described = 0
    for sub in void.objects(DS, VOID.subset):
        dumps = list(void.objects(sub, VOID.dataDump))
        if not dumps:
            continue
        stated = int(void.value(sub, VOID.triples))
        for dump in dumps:
            distinct, quads = parsed_dump(client, str(dump))
            described += 1
            assert stated == (quads if str(dump).split("?")[0].endswith((".trig", ".nq")) else distinct), dump
    assert described == 12
    assert void.value(DS, VOID.dataDump) is None  # the whole dataset has no single dump: its subsets do


def test_modified_is_a_valid_xsd_datetime(void):
    from rdflib.namespace import XSD
    modified = void.value(DS, DCTERMS.modified)
    assert modified.datatype == XSD.dateTime and modified.toPython().tzinfo is not None


def test_one_subset_per_named_graph_with_its_size_and_source(void, store):
    subsets = {s for s in void.objects(DS, VOID.subset) if "/.well-known/void#" not in str(s)}
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


def test_void_says_the_cpt_content_is_not_under_kgapps_licence(void):
    from kgapp.rights import RIGHTS

    rights = [str(o) for _, p, o in void if str(p).endswith("/rights")]
    assert rights == [RIGHTS] and "AMA" in RIGHTS and "not licensed by kgapp" in RIGHTS


def test_pages_carry_the_rights_statement(client):
    assert "not licensed by kgapp" in client.get("/").get_data(as_text=True)
