"""The SPARQL 1.1 Protocol at /sparql: methods, datasets, errors, CORS, read-only refusal, real clients."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgapp.sparql_text import is_update, prologue, query_form, service_position, tokens
from kgapp.web import create_app

GRAPH = "https://w3id.org/kgapp/graph/"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CODES = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
         "SELECT ?n WHERE { ?c a <https://w3id.org/kgapp/ontology#ProcedureCode> ; skos:notation ?n } ORDER BY ?n")
ALL_CODES = ["64600", "64612", "64864", "64866", "64868"]
JSON_RESULTS = "application/sparql-results+json"


@pytest.fixture(scope="module")
def module_client(store_path):
    """One client for the property tests (Hypothesis runs many examples per test function)."""
    return create_app({"store": store_path, "testing": True}).test_client()


def http(live_server, method: str, path: str = "/sparql", body: bytes | None = None, headers: dict | None = None):
    """A real HTTP request; returns (status, headers, body) for errors as for successes."""
    req = urllib.request.Request(live_server.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read()


def notations(data: bytes, var: str = "n") -> list[str]:
    return [b[var]["value"] for b in json.loads(data)["results"]["bindings"]]


# -- the three ways to send a query, over real HTTP -------------------------------------------------

def test_get(live_server):
    status, headers, body = http(live_server, "GET", "/sparql?" + urllib.parse.urlencode({"query": CODES}))
    assert status == 200
    assert headers["Content-Type"] == JSON_RESULTS + "; charset=utf-8"
    assert notations(body) == ALL_CODES


def test_post_form(live_server):
    status, headers, body = http(live_server, "POST", body=urllib.parse.urlencode({"query": CODES}).encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and notations(body) == ALL_CODES


def test_post_query_body(live_server):
    status, headers, body = http(live_server, "POST", body=CODES.encode(),
                                 headers={"Content-Type": "application/sparql-query; charset=UTF-8"})
    assert status == 200 and notations(body) == ALL_CODES


def test_head_answers_like_get_without_body(client):
    r = client.head("/sparql", query_string={"query": CODES})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(JSON_RESULTS) and r.data == b""


# -- datasets: protocol parameters select local graphs only ----------------------------------------

def count(client, query: str = COUNT, **params) -> int:
    r = client.get("/sparql", query_string={"query": query, **params})
    assert r.status_code == 200, r.data
    return int(notations(r.data)[0])


def test_default_graph_uri_selects_one_graph(client, store):
    nerves = len(list(store.quads(GRAPH + "ref-nerves")))
    assert count(client) == store.triple_count
    assert count(client, **{"default-graph-uri": GRAPH + "ref-nerves"}) == nerves
    both = count(client, **{"default-graph-uri": [GRAPH + "ref-nerves", GRAPH + "ref-modifiers"]})
    assert both > nerves


def test_protocol_dataset_overrides_from(client):
    query = f"SELECT (COUNT(*) AS ?n) FROM <{GRAPH}ref-modifiers> WHERE {{ ?s ?p ?o }}"
    assert count(client, query, **{"default-graph-uri": GRAPH + "ref-nerves"}) == count(
        client, COUNT, **{"default-graph-uri": GRAPH + "ref-nerves"})


def test_named_graph_uri_limits_graph_patterns(client):
    query = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert count(client, query) >= 10
    assert count(client, query, **{"named-graph-uri": [GRAPH + "ref-nerves", GRAPH + "ref-modifiers"]}) == 2
    # Only named graphs given: the default graph is empty, as the Protocol's dataset says.
    assert count(client, COUNT, **{"named-graph-uri": GRAPH + "ref-nerves"}) == 0


@pytest.mark.parametrize("params", [
    {"default-graph-uri": "http://example.org/elsewhere"},
    {"named-graph-uri": "http://example.org/elsewhere"},
])
def test_unknown_graphs_are_empty_not_fetched(client, params):
    assert count(client, "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
                 **params) == 0


def test_from_a_remote_iri_uses_local_graphs_only(client):
    assert count(client, "SELECT (COUNT(*) AS ?n) FROM <http://example.org/remote.ttl> WHERE { ?s ?p ?o }") == 0


# -- errors: precise status, plain text, never a traceback ------------------------------------------

def assert_plain_error(r, status: int) -> str:
    assert r.status_code == status, r.data
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Access-Control-Allow-Origin"] == "*" and "Accept" in r.headers["Vary"]
    text = r.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    return text


def test_malformed_query_is_400_with_position(client):
    text = assert_plain_error(client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"}), 400)
    assert "error at 1:25: expected" in text  # Oxigraph's own message, line:column


def test_unknown_prefix_is_400_no_implicit_prefixes(client):
    text = assert_plain_error(client.get("/sparql", query_string={"query": "SELECT * WHERE { ?c a kg:Code }"}), 400)
    assert "error at 1:" in text


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o .service SILENT <http://example.org/sparql> { ?s ?p ?o } }",
    "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ?p ?o . SERVICE ?ep { ?s ?p ?o } }",
])
def test_service_is_refused(client, query):
    assert "SERVICE" in assert_plain_error(client.get("/sparql", query_string={"query": query}), 400)


@pytest.mark.parametrize("query", [
    "PREFIX service: <http://example.org/> SELECT ?service WHERE { ?service service:x 'SERVICE' } # SERVICE",
    "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o }",
])
def test_the_word_service_elsewhere_is_fine(client, query):
    assert client.get("/sparql", query_string={"query": query}).status_code == 200


@pytest.mark.parametrize("query", [
    "SELECT ?x WHERE { BIND(<http://example.org/f>(1) AS ?x) }",
    "CONSTRUCT { ?s ?p ?x } WHERE { ?s ?p ?o BIND(<http://example.org/f>(?o) AS ?x) } LIMIT 1",
])
@pytest.mark.parametrize("accept", ["application/sparql-results+json", "text/csv", "text/turtle", "*/*"])
def test_evaluation_errors_are_400(client, query, accept):
    r = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    if r.status_code != 406:
        assert "not supported" in assert_plain_error(r, 400)


def test_missing_query_in_post_is_400(client):
    assert_plain_error(client.post("/sparql", data={"format": "json"}), 400)


@pytest.mark.parametrize("query_string, data, content_type", [
    ({"query": "ASK {}"}, "ASK {}", "application/sparql-query"),  # twice
    ({"query": ["ASK {}", "ASK {}"]}, None, None),  # repeated
    ({"query": "  "}, None, None),  # empty
])
def test_bad_query_parameters_are_400(client, query_string, data, content_type):
    method = client.post if data else client.get
    assert_plain_error(method("/sparql", query_string=query_string, data=data, content_type=content_type), 400)


def test_query_body_not_utf8_is_400(client):
    assert_plain_error(client.post("/sparql", data=b"ASK { \xff }", content_type="application/sparql-query"), 400)


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None, "multipart/form-data; boundary=x"])
def test_wrong_post_content_type_is_415(client, content_type):
    text = assert_plain_error(client.post("/sparql", data=b"query=ASK%7B%7D", content_type=content_type), 415)
    assert "application/sparql-query" in text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "TRACE", "PROPFIND"])
def test_other_methods_are_405_with_allow(client, method):
    r = client.open("/sparql", method=method, query_string={"query": "ASK {}"})
    assert_plain_error(r, 405)
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST", "OPTIONS"}


def test_too_large_body_is_plain_413(client, app):
    size = app.config["MAX_CONTENT_LENGTH"] + 10
    r = client.post("/sparql", data=b"query=" + b"A" * size, content_type="application/x-www-form-urlencoded")
    assert_plain_error(r, 413)


# -- read-only ----------------------------------------------------------------------------------------

UPDATE = "INSERT DATA { <http://example.org/s> <http://example.org/p> 'o' }"


@pytest.mark.parametrize("send", [
    lambda c: c.post("/sparql", data={"update": UPDATE}),
    lambda c: c.post("/sparql", data=UPDATE, content_type="application/sparql-update"),
    lambda c: c.get("/sparql", query_string={"update": UPDATE}),
    lambda c: c.get("/sparql", query_string={"query": UPDATE}),
    lambda c: c.post("/sparql", data="LOAD <http://example.org/data.ttl>", content_type="application/sparql-query"),
    lambda c: c.post("/sparql", data={"query": "# comment\nPREFIX ex: <http://e/#>\nDROP ALL"}),
    lambda c: c.post("/sparql", data={"query": "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"}),
], ids=["form-update", "update-body", "get-update", "query-insert", "load", "drop", "with-delete"])
def test_updates_are_403_and_change_nothing(client, store, send):
    before = count(client)
    assert "read-only" in assert_plain_error(send(client), 403)
    assert count(client) == before == store.triple_count
    assert count(client, "ASK { <http://example.org/s> ?p ?o }".replace("ASK", "SELECT (COUNT(*) AS ?n) WHERE")) == 0


# -- CORS -----------------------------------------------------------------------------------------------

def test_cors_preflight(live_server):
    status, headers, body = http(live_server, "OPTIONS", headers={
        "Origin": "http://yasgui.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 204 and body == b""
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert headers["Access-Control-Allow-Headers"] == "Content-Type, Accept"


@pytest.mark.parametrize("query_string, accept", [
    ({"query": "ASK {}"}, JSON_RESULTS), ({}, "text/turtle"), ({}, "text/html"), ({"query": "ASK {"}, "*/*")])
def test_cors_and_vary_on_every_response(client, query_string, accept):
    r = client.get("/sparql", query_string=query_string, headers={"Origin": "http://x.example", "Accept": accept})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in r.headers["Vary"]


# -- a standard client --------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # inside SPARQLWrapper
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_select_ask_construct(live_server, method):
    from rdflib import Graph, URIRef
    from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

    sw = SPARQLWrapper(live_server.url + "/sparql")
    sw.setMethod(method)
    sw.setQuery(CODES)
    sw.setReturnFormat(JSON)
    assert [b["n"]["value"] for b in sw.query().convert()["results"]["bindings"]] == ALL_CODES

    sw.setQuery("ASK { <https://w3id.org/kgapp/id/code/cpt/64868> ?p ?o }")
    assert sw.query().convert()["boolean"] is True
    sw.setReturnFormat(XML)
    assert sw.query().convert().getElementsByTagName("boolean")[0].firstChild.data == "true"

    sw.setQuery("DESCRIBE <https://w3id.org/kgapp/id/code/cpt/64868>")
    graph = sw.query().convert()  # RDF/XML, parsed by rdflib
    assert isinstance(graph, Graph) and (URIRef("https://w3id.org/kgapp/id/code/cpt/64868"), None, None) in graph
    sw.setReturnFormat(TURTLE)
    turtle = Graph().parse(data=sw.query().convert(), format="turtle")
    assert len(turtle) == len(graph)


# -- no client input makes a 500 ------------------------------------------------------------------------

@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.text(max_size=80) | st.sampled_from(["SELECT", "ASK {", "PREFIX : <x>", "SERVICE", "SELECT * {",
                                                   "SELECT * { BIND(<u:f>() AS ?x) }", "DESCRIBE <u:x>"]),
       accept=st.sampled_from(["*/*", "text/csv;q=abc", "application/x-nothing", "", ",;,", "text/*;q=0"]),
       fmt=st.sampled_from([None, "json", "csv", "turtle", "bogus", "", "text/csv"]),
       graphs=st.lists(st.text(max_size=20), max_size=2))
def test_any_input_gets_a_clean_answer(module_client, query, accept, fmt, graphs):
    params = {"query": query, "default-graph-uri": graphs}
    if fmt is not None:
        params["format"] = fmt
    r = module_client.get("/sparql", query_string=params, headers={"Accept": accept})
    assert r.status_code in (200, 400, 403, 406), (r.status_code, r.data)
    if r.status_code != 200:
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=60))
def test_any_query_body_gets_a_clean_answer(module_client, body):
    r = module_client.post("/sparql", data=body, content_type="application/sparql-query")
    assert r.status_code in (200, 400, 403, 406)


# -- the lexer that judges requests before they run ----------------------------------------------------

@pytest.mark.parametrize("text, form", [
    ("PREFIX ex: <http://e/#x> SELECT * {}", "SELECT"),
    ("BASE <http://x/#> PREFIX : <u:> # SELECT\n ask {}", "ASK"),
    ("construct where { ?s ?p ?o }", "CONSTRUCT"),
    ("# a comment with INSERT\nDESCRIBE <x>", "DESCRIBE"),
    ("insert data {}", "INSERT"),
    ("PREFIX : <http://e/> CLEAR GRAPH :g", "CLEAR"),
    ("nonsense", None),
    ("", None),
])
def test_query_form(text, form):
    assert query_form(text) == form
    assert is_update(text) == (form in ("INSERT", "CLEAR"))


@pytest.mark.parametrize("text, position", [
    ("SELECT*{SERVICE<x>{}}", (1, 9)),
    ("SELECT * {\n ?s ?p ?o.SERVICE <x> {} }", (2, 11)),
    ("SELECT * { ?s ex:a. SERVICE <x> {} }", (1, 21)),
    ("SELECT * { ?s ex:a.SERVICE ?o }", None),  # a local name may hold a dot
    ("SELECT ?service { ?s ?p '''a'' SERVICE''' }", None),
    ('SELECT * { ?s ?p "SERVICE" } # SERVICE', None),
])
def test_service_position(text, position):
    assert service_position(text) == position


def test_prefixes_resolved_against_a_base_keep_their_empty_fragment():
    toks = tokens("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX rel: <terms#> SELECT * {}")
    base, declared = prologue(toks, "http://localhost/sparql")
    assert declared == {"skos": "http://www.w3.org/2004/02/skos/core#", "rel": "http://localhost/terms#"}
