"""The query cases of the W3C SPARQL 1.1 Protocol test suite (adapted: local graphs, nothing fetched), and
what real clients found: relative IRIs, N3 and unknown format values, UTF-8 and charsets, form defaults."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from rdflib import Graph

from kgapp.web import close_app, create_app

GRAPH = "https://w3id.org/kgapp/graph/"
NERVES, MODIFIERS = GRAPH + "ref-nerves", GRAPH + "ref-modifiers"
SELECT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
GRAPHS = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
ASK = "ASK { ?s ?p ?o }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3"
DESCRIBE = "DESCRIBE <https://w3id.org/kgapp/id/code/cpt/64868>"
FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
SRJ = "application/sparql-results+json"
SRX = "application/sparql-results+xml"
RDF_TYPES = ("text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json")


def qs(**params) -> str:
    return urllib.parse.urlencode(params, doseq=True)


def solutions(r) -> int:
    return int(json.loads(r.data)["results"]["bindings"][0]["n"]["value"])


def is_graph(r) -> bool:
    fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/n-triples": "nt",
           "application/ld+json": "json-ld"}[r.mimetype]
    return len(Graph().parse(data=r.data, format=fmt)) > 0


# (case, method, query string, body, content type, accept, status, check(response, store) -> bool)
CASES = [
    ("query_get", "GET", qs(query=ASK), None, None, None, 200, lambda r, s: json.loads(r.data)["boolean"]),
    ("query_post_form", "POST", "", qs(query=ASK), FORM, None, 200, lambda r, s: json.loads(r.data)["boolean"]),
    ("query_post_direct", "POST", "", ASK, DIRECT, None, 200, lambda r, s: json.loads(r.data)["boolean"]),
    ("query_dataset_default_graph", "GET", qs(query=SELECT, **{"default-graph-uri": NERVES}), None, None, SRJ,
     200, lambda r, s: solutions(r) == len(list(s.quads(NERVES)))),
    ("query_dataset_default_graphs_get", "GET", qs(query=SELECT, **{"default-graph-uri": [NERVES, MODIFIERS]}),
     None, None, SRJ, 200, lambda r, s: solutions(r) > len(list(s.quads(NERVES)))),
    ("query_dataset_default_graphs_post", "POST", "", qs(query=SELECT, **{"default-graph-uri": [NERVES, MODIFIERS]}),
     FORM, SRJ, 200, lambda r, s: solutions(r) > len(list(s.quads(NERVES)))),
    ("query_dataset_named_graphs_post", "POST", "", qs(query=GRAPHS, **{"named-graph-uri": [NERVES, MODIFIERS]}),
     FORM, SRJ, 200, lambda r, s: solutions(r) == 2),
    ("query_dataset_named_graphs_get", "GET", qs(query=GRAPHS, **{"named-graph-uri": [NERVES, MODIFIERS]}),
     None, None, SRJ, 200, lambda r, s: solutions(r) == 2),
    ("query_dataset_full", "GET", qs(query=GRAPHS, **{"default-graph-uri": NERVES, "named-graph-uri": MODIFIERS}),
     None, None, SRJ, 200, lambda r, s: solutions(r) == 1),
    ("query_multiple_dataset", "POST", qs(**{"default-graph-uri": NERVES}), SELECT, DIRECT, SRJ, 200,
     lambda r, s: solutions(r) == len(list(s.quads(NERVES)))),
    ("query_content_type_select", "GET", qs(query=SELECT), None, None, None, 200,
     lambda r, s: r.mimetype in (SRJ, SRX, "text/csv", "text/tab-separated-values")),
    ("query_content_type_ask", "GET", qs(query=ASK), None, None, None, 200, lambda r, s: r.mimetype in (SRJ, SRX)),
    ("query_content_type_describe", "GET", qs(query=DESCRIBE), None, None, None, 200,
     lambda r, s: r.mimetype in RDF_TYPES and is_graph(r)),
    ("query_content_type_construct", "GET", qs(query=CONSTRUCT), None, None, None, 200,
     lambda r, s: r.mimetype in RDF_TYPES and is_graph(r)),
    ("query_relative_iri", "GET", qs(query="CONSTRUCT { <s> <p> 1 } WHERE {}"), None, None, "text/turtle", 200,
     lambda r, s: b"<http://localhost/s> <http://localhost/p> 1" in r.data),
    ("bad_query_method", "PUT", qs(query=ASK), None, None, None, 405, None),
    ("bad_multiple_queries", "GET", qs(query=[ASK, ASK]), None, None, None, 400, None),
    ("bad_query_wrong_media_type", "POST", "", ASK, "text/plain", None, 415, None),
    ("bad_query_missing_form_type", "POST", "", qs(query=ASK), None, None, 415, None),
    ("bad_query_missing_direct_type", "POST", "", ASK, None, None, 415, None),
    ("bad_query_non_utf8", "POST", "", "ASK { ?s ?p 'é' }".encode("iso-8859-1"), DIRECT, None, 400, None),
    ("bad_query_syntax", "GET", qs(query="ASK {"), None, None, None, 400, None),
    ("bad_update_get", "GET", qs(update="CLEAR ALL"), None, None, None, 403, None),
    ("bad_query_in_update_body", "POST", "", "CLEAR ALL", "application/sparql-update", None, 403, None),
]


@pytest.mark.parametrize("case, method, query, body, content_type, accept, status, check", CASES,
                         ids=[c[0] for c in CASES])
def test_w3c_protocol_query_case(client, store, case, method, query, body, content_type, accept, status, check):
    headers = {"Accept": accept} if accept else {}
    if content_type:
        headers["Content-Type"] = content_type
    data = body.encode() if isinstance(body, str) else body
    r = client.open("/sparql" + ("?" + query if query else ""), method=method, data=data, headers=headers)
    assert r.status_code == status, r.data
    if check is not None:
        assert check(r, store), r.data[:500]
    else:
        assert r.mimetype == "text/plain" and b"Traceback" not in r.data


# -- 1. relative IRIs resolve against the endpoint's URL, in every query form -----------------------

@pytest.mark.parametrize("query, accept", [
    ("CONSTRUCT { <s> <p> 1 } WHERE {}", "application/n-triples"),
    ("SELECT ?x WHERE { BIND(<s> AS ?x) }", "text/csv"),
    ("ASK { FILTER(<s> = <http://localhost/s>) }", SRJ),
])
def test_relative_iris_resolve_against_the_endpoint(client, query, accept):
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert r.status_code == 200, r.data
    assert b"http://localhost/s" in r.data or b"true" in r.data


def test_relative_iris_use_the_public_url_and_the_querys_own_base(make_app):
    client = make_app(public_url="https://kg.example.org").test_client()
    r = client.get("/sparql", query_string={"query": "SELECT ?x WHERE { BIND(<s> AS ?x) }"},
                   headers={"Accept": "text/csv"})
    assert "https://kg.example.org/s" in r.get_data(as_text=True)
    r = client.get("/sparql", query_string={"query": "BASE <http://ex.org/a/> SELECT ?x WHERE { BIND(<s> AS ?x) }"},
                   headers={"Accept": "text/csv"})
    assert "http://ex.org/a/s" in r.get_data(as_text=True)


# -- 2. unknown format values fall back to Accept; N3 is served as Turtle -----------------------------

def test_sparqlwrapper_n3_is_served_as_turtle(client):
    r = client.get("/sparql?" + qs(query=CONSTRUCT, format="n3", output="n3", results="n3"),
                   headers={"Accept": "application/turtle,text/turtle,text/rdf+n3,application/n-triples,"
                                      "application/n3,text/n3"})
    assert r.status_code == 200 and r.mimetype == "text/turtle" and is_graph(r)


@pytest.mark.parametrize("param", ["format", "output", "results"])
def test_an_unknown_format_value_leaves_it_to_accept(client, param):
    r = client.get("/sparql?" + qs(query=SELECT, **{param: "rdf+xml-ish"}), headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    r = client.get("/sparql?" + qs(query=SELECT, **{param: "xml"}), headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.mimetype == SRX  # a known value still decides


# -- 3./4. one 400 for invalid UTF-8 on every path; a declared charset is honoured ----------------------

@pytest.mark.parametrize("send", [
    lambda c: c.get("/sparql?query=SELECT%20(%22%E9%22%20AS%20?x)%20WHERE%20%7B%7D"),
    lambda c: c.post("/sparql", data="query=SELECT%20(%22%E9%22%20AS%20?x)%20WHERE%20%7B%7D", content_type=FORM),
    lambda c: c.post("/sparql", data=b'SELECT ("\xe9" AS ?x) WHERE {}', content_type=DIRECT),
], ids=["get", "form", "direct"])
def test_invalid_utf8_is_the_same_400_on_every_path(client, send):
    r = send(client)
    assert r.status_code == 400 and r.get_data(as_text=True).startswith("The query is not valid UTF-8: byte 0xe9")


@pytest.mark.parametrize("charset", ["utf-16", "UTF-16LE", "iso-8859-1", "utf-8"])
def test_a_direct_post_is_decoded_as_its_charset_declares(client, charset):
    query = 'SELECT ?x WHERE { BIND("café" AS ?x) }'
    r = client.post("/sparql", data=query.encode(charset), content_type=f"{DIRECT}; charset={charset}",
                    headers={"Accept": SRJ})
    assert r.status_code == 200, r.data
    assert json.loads(r.data)["results"]["bindings"][0]["x"]["value"] == "café"


@pytest.mark.parametrize("charset", ["x-klingon", "base64"])
def test_an_unknown_charset_is_415_naming_utf8(client, charset):
    r = client.post("/sparql", data=b"ASK {}", content_type=f"{DIRECT}; charset={charset}")
    assert r.status_code == 415 and "UTF-8" in r.get_data(as_text=True)


# -- 5. nothing in Accept fits: the form's default format; /sparql/ redirects ------------------------------

@pytest.mark.parametrize("query, accept, expected", [
    (CONSTRUCT, SRJ, "text/turtle"),
    (CONSTRUCT, "text/csv", "text/turtle"),
    (SELECT, "text/turtle", SRJ),
    (ASK, "text/csv", SRJ),
    (SELECT, "image/png", SRJ),
])
def test_no_acceptable_type_answers_the_forms_default(client, query, accept, expected):
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == expected


def test_an_explicit_format_that_cannot_serve_is_still_406(client):
    assert client.get("/sparql", query_string={"query": SELECT, "format": "turtle"}).status_code == 406


def test_trailing_slash_redirects_to_the_endpoint(client):
    r = client.get("/sparql/?" + qs(query=ASK))
    assert r.status_code == 308 and r.headers["Location"].endswith("/sparql?" + qs(query=ASK))
    r = client.get("/sparql/?" + qs(query=ASK), follow_redirects=True)
    assert r.status_code == 200 and json.loads(r.data)["boolean"] is True


def test_relative_iris_on_every_store(any_store_spec):
    app = create_app({"store": any_store_spec, "testing": True})
    try:
        r = app.test_client().get("/sparql", query_string={"query": "CONSTRUCT { <s> <p> 1 } WHERE {}"},
                                  headers={"Accept": "application/n-triples"})
        assert r.status_code == 200, r.data
        assert b"<http://localhost/s> <http://localhost/p>" in r.data
    finally:
        close_app(app)
