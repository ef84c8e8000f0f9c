"""Every result format the endpoint writes, parsed back by a real parser; content negotiation edge cases."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
import urllib.request

import pyoxigraph as ox
import pytest
from iris import CPT
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.query import Result

from kgapp.formats import DATASET_FORMATS, FORMATS, GRAPH_FORMATS, RESULT_FORMATS, by_name

SELECT = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
          "SELECT ?code ?n ?label WHERE { ?code a <https://w3id.org/kgapp/ontology#ProcedureCode> ; "
          "skos:notation ?n ; skos:prefLabel ?label } ORDER BY ?n")
ASK = "ASK { <https://w3id.org/kgapp/id/code/cpt/64612> ?p ?o }"
CONSTRUCT = "CONSTRUCT WHERE { <https://w3id.org/kgapp/id/code/cpt/64612> ?p ?o }"
CODES = ["64600", "64612", "64864", "64866", "64868"]

# rdflib's parser names for each kgapp format (a new kgapp format fails below until it is listed).
RDFLIB = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "trig": "trig",
          "nquads": "nquads", "json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"}
QUERY_FORMATS = [f for f in FORMATS if f.kind in ("results", "rdf", "dataset")]


def get(client, query: str, accept: str | None = None, **params):
    headers = {"Accept": accept} if accept is not None else {}
    return client.get("/sparql", query_string={"query": query, **params}, headers=headers)


def expected_graph(store) -> Graph:
    """The CONSTRUCT result straight from the store, as rdflib reads its N-Triples."""
    return Graph().parse(data=ox.serialize(store.query(CONSTRUCT), format=ox.RdfFormat.N_TRIPLES), format="nt")


# -- every format, by name and by media type ----------------------------------------------------------

@pytest.mark.parametrize("fmt", RESULT_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("how", ["accept", "format"])
def test_select_in_every_results_format(client, fmt, how):
    r = get(client, SELECT, fmt.media_type) if how == "accept" else get(client, SELECT, "*/*", format=fmt.name)
    assert r.status_code == 200, r.data
    assert r.headers["Content-Type"] == fmt.media_type + "; charset=utf-8"
    result = Result.parse(io.BytesIO(r.data), format=RDFLIB[fmt.name])
    assert [str(v) for v in result.vars] == ["code", "n", "label"]
    rows = list(result)
    assert [str(row[1]) for row in rows] == CODES
    assert str(rows[0][0]) == CPT + "64600"


def test_csv_and_tsv_by_the_csv_module(client):
    rows = list(csv.reader(io.StringIO(get(client, SELECT, "text/csv").get_data(as_text=True))))
    assert rows[0] == ["code", "n", "label"] and [r[1] for r in rows[1:]] == CODES
    tsv = get(client, SELECT, "text/tab-separated-values").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE))
    # TSV keeps RDF term syntax: IRIs in <>, literals quoted with their tags.
    assert rows[0] == ["?code", "?n", "?label"] and rows[1][0] == f"<{CPT}64600>" and rows[1][1] == '"64600"'


@pytest.mark.parametrize("fmt", [f for f in RESULT_FORMATS if f.name in ("json", "xml")], ids=lambda f: f.name)
def test_ask_in_json_and_xml(client, fmt):
    r = get(client, ASK, fmt.media_type)
    assert r.status_code == 200 and r.headers["Content-Type"] == fmt.content_type
    assert Result.parse(io.BytesIO(r.data), format=RDFLIB[fmt.name]).askAnswer is True


@pytest.mark.parametrize("fmt", [f for f in RESULT_FORMATS if f.name in ("csv", "tsv")], ids=lambda f: f.name)
def test_ask_in_csv_or_tsv_is_406(client, fmt):
    # SPARQL 1.1 CSV/TSV define no boolean result, so kgapp offers none rather than invent one: asked by
    # format= that is 406; asked by Accept alone, the ASK's default (JSON) answers.
    r = get(client, ASK, format=fmt.name)
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.get_data(as_text=True)
    for accept in (fmt.media_type, f"{fmt.media_type}, */*;q=0.1"):
        assert get(client, ASK, accept).headers["Content-Type"].startswith("application/sparql-results+json")


@pytest.mark.parametrize("fmt", GRAPH_FORMATS + DATASET_FORMATS, ids=lambda f: f.name)
@pytest.mark.parametrize("how", ["accept", "format"])
def test_construct_in_every_rdf_format(client, store, fmt, how):
    r = get(client, CONSTRUCT, fmt.media_type) if how == "accept" else get(client, CONSTRUCT, format=fmt.name)
    assert r.status_code == 200, r.data
    assert r.headers["Content-Type"] == fmt.media_type + "; charset=utf-8"
    if fmt.kind == "dataset":
        parsed = Dataset()
        parsed.parse(data=r.data, format=RDFLIB[fmt.name])
        graph = Graph()
        for s, p, o, _ in parsed.quads():
            graph.add((s, p, o))
    else:
        graph = Graph().parse(data=r.data, format=RDFLIB[fmt.name])
    assert len(graph) > 10
    assert isomorphic(graph, expected_graph(store))


def test_describe_in_turtle(client):
    r = get(client, "DESCRIBE <https://w3id.org/kgapp/id/nerve/facial>", "text/turtle")
    graph = Graph().parse(data=r.data, format="turtle")
    assert (URIRef("https://w3id.org/kgapp/id/nerve/facial"), None, None) in graph


def test_every_query_format_is_covered():
    assert {f.name for f in QUERY_FORMATS} <= set(RDFLIB)


# -- content negotiation ------------------------------------------------------------------------------

@pytest.mark.parametrize("query, accept, expected", [
    (SELECT, None, "json"),
    (SELECT, "*/*", "json"),
    (SELECT, "", "json"),
    (SELECT, "application/json", "json"),
    (SELECT, "application/xml", "xml"),
    (SELECT, "text/*", "csv"),
    (SELECT, "text/csv;q=0.5, application/sparql-results+xml;q=0.9", "xml"),
    (SELECT, "application/sparql-results+json;q=0, */*;q=0.1", "xml"),
    (SELECT, "text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", "xml"),
    (SELECT, "application/x-unknown, text/tab-separated-values;q=0.2", "tsv"),
    (SELECT, "TEXT/CSV", "csv"),
    (CONSTRUCT, "*/*", "turtle"),
    (CONSTRUCT, None, "turtle"),
    (CONSTRUCT, "application/json", "jsonld"),
    (CONSTRUCT, "application/xml", "rdfxml"),
    (CONSTRUCT, "application/n-quads", "nquads"),
    (CONSTRUCT, "application/rdf+xml;q=0.3, text/turtle;q=0.2", "rdfxml"),
    (CONSTRUCT, "text/turtle;q=0, application/*", "ntriples"),
    (ASK, "application/sparql-results+xml, application/sparql-results+json;q=0.9", "xml"),
    # What Jena's command-line clients send for a SELECT/ASK and for a CONSTRUCT.
    (SELECT, "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
             "text/tab-separated-values;q=0.7, text/csv;q=0.5, application/json;q=0.2, */*;q=0.1", "json"),
    (ASK, "text/csv, application/sparql-results+xml;q=0.5, */*;q=0.1", "xml"),
    (CONSTRUCT, "text/turtle, application/n-triples;q=0.9, application/ld+json;q=0.8, "
                "application/rdf+xml;q=0.7, */*;q=0.3", "turtle"),
])
def test_negotiation(client, query, accept, expected):
    r = get(client, query, accept)
    assert r.status_code == 200, r.data
    assert r.headers["Content-Type"] == by_name(expected).content_type


@pytest.mark.parametrize("query, accept", [
    (SELECT, "application/x-unknown"),
    (SELECT, "text/turtle"),
    (SELECT, "*/*;q=0"),
    (CONSTRUCT, "application/sparql-results+json"),
    (CONSTRUCT, "text/csv"),
    (CONSTRUCT, "image/png, text/html"),
])
def test_unacceptable_gets_the_forms_default(client, query, accept):
    # As Fuseki does: nothing in Accept fits, so the form's default format answers (not 406).
    r = get(client, query, accept)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == (RESULT_FORMATS if query == SELECT else GRAPH_FORMATS)[0].content_type


@pytest.mark.parametrize("query, params, accept, expected", [
    (SELECT, {"format": "csv"}, "application/sparql-results+json", "csv"),  # format beats Accept
    (SELECT, {"format": "TSV"}, None, "tsv"),
    (SELECT, {"format": "text/csv"}, None, "csv"),  # a media type as the value
    (SELECT, {"format": ["nonsense", "xml"]}, None, "xml"),  # first known value wins
    (SELECT, {"format": ["tsv", "text/tab-separated-values"]}, None, "tsv"),  # as SPARQLWrapper sends it
    (CONSTRUCT, {"format": "json"}, None, "jsonld"),
    (CONSTRUCT, {"format": "xml"}, None, "rdfxml"),
    (CONSTRUCT, {"format": "ttl"}, None, "turtle"),
    (CONSTRUCT, {"format": ["json-ld", "application/ld+json"]}, None, "jsonld"),
    (CONSTRUCT, {"format": "nquads"}, "text/turtle", "nquads"),
])
def test_format_parameter(client, query, params, accept, expected):
    r = get(client, query, accept, **params)
    assert r.status_code == 200, r.data
    assert r.headers["Content-Type"] == by_name(expected).content_type


@pytest.mark.parametrize("query, fmt", [(SELECT, "turtle"), (CONSTRUCT, "csv"), (ASK, "tsv")])
def test_format_parameter_not_offered_is_406(client, query, fmt):
    r = get(client, query, format=fmt)
    assert r.status_code == 406 and "format=" in r.get_data(as_text=True)


def test_format_parameter_in_a_form_post(client):
    r = client.post("/sparql", data={"query": SELECT, "format": "csv"})
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(r.get_data(as_text=True))))[1][1] == "64600"


def test_unicode_survives_every_results_format(client):
    query = 'SELECT ?x WHERE { BIND("Facial–hypoglossal é ✓"@en AS ?x) }'
    for fmt in RESULT_FORMATS:
        r = get(client, query, format=fmt.name)
        assert "Facial–hypoglossal é ✓" in r.data.decode("utf-8")
    assert json.loads(get(client, query).data)["results"]["bindings"][0]["x"]["xml:lang"] == "en"


@pytest.mark.parametrize("fmt", QUERY_FORMATS, ids=lambda f: f.name)
def test_every_format_over_real_http(live_server, fmt):
    query = SELECT if fmt.kind == "results" else CONSTRUCT
    url = live_server.url + "/sparql?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": fmt.media_type}), timeout=30) as r:
        assert r.headers["Content-Type"] == fmt.content_type and r.headers["Vary"] == "Accept"
        body = r.read()
    assert int(r.headers["Content-Length"]) == len(body) > 0
    if fmt.kind == "results":
        assert [str(row[1]) for row in Result.parse(io.BytesIO(body), format=RDFLIB[fmt.name])] == CODES
    else:
        parsed = Dataset()
        parsed.parse(data=body, format=RDFLIB[fmt.name])
        assert len(list(parsed.quads())) > 10
