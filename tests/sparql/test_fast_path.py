"""The endpoint's fast paths: bounded queries answered in-process and the per-build result cache give the
same answers as the worker path, and the time limit, the row cap and fairness still hold."""

from __future__ import annotations

import json
import logging

import pytest

from kgapp.sparql.bounded import is_bounded, is_narrow
from kgapp.web.lean import LeanSparql

P = ("PREFIX kg: <https://w3id.org/kgapp/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
     "PREFIX cpt: <https://w3id.org/kgapp/id/code/cpt/> ")
LOOKUP = P + 'SELECT ?c ?label WHERE { ?c skos:notation "64868" ; skos:prefLabel ?label }'
BOUNDED = [
    LOOKUP,
    P + "SELECT * WHERE { cpt:64612 ?p ?o }",
    P + "SELECT ?c WHERE { ?c a kg:ProcedureCode ; kg:targetNerve ?n } LIMIT 3",
    P + 'ASK { ?c skos:notation "64600" }',
    P + "CONSTRUCT { cpt:64868 ?p ?o } WHERE { cpt:64868 ?p ?o }",
    P + "CONSTRUCT WHERE { cpt:64866 kg:donorNerve ?n }",
    P + 'SELECT ?c { ?c skos:prefLabel "no such label"@en }',
]
UNBOUNDED = [
    "SELECT * WHERE { ?s ?p ?o }",
    P + "SELECT ?c WHERE { ?c kg:targetNerve ?n . ?d kg:targetNerve ?n }",  # two subjects: a join of joins
    P + "SELECT ?c WHERE { ?c kg:targetNerve ?n }",  # no anchor
    P + 'SELECT ?c WHERE { ?c ?p "64868" }',  # a variable predicate on a variable subject
    P + 'SELECT ?c WHERE { ?c skos:notation "64868" FILTER(true) }',
    P + 'SELECT ?c WHERE { ?c skos:notation "64868" OPTIONAL { ?c ?p ?o } }',
    P + 'SELECT ?c WHERE { ?c skos:broader* cpt:64868 }',
    P + 'SELECT DISTINCT ?c WHERE { ?c skos:notation "64868" }',
    P + 'SELECT ?c WHERE { ?c skos:notation "64868" } ORDER BY ?c',
    P + 'SELECT (COUNT(*) AS ?n) WHERE { ?c skos:notation "64868" }',
    P + 'SELECT ?c WHERE { GRAPH ?g { ?c skos:notation "64868" } }',
    P + 'SELECT ?c WHERE { ?c skos:notation "64868" } OFFSET 1000000',
    P + 'SELECT ?c WHERE { ?c skos:notation _:b }',
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "not a query { ?c <x:p> 1 }",
]
FORMATS = ["application/sparql-results+json", "application/sparql-results+xml", "text/csv",
           "text/tab-separated-values", "text/turtle", "application/n-triples", "application/ld+json"]


@pytest.mark.parametrize("query", BOUNDED)
def test_bounded_queries_are_recognised(query):
    assert is_bounded(query)


@pytest.mark.parametrize("query", UNBOUNDED)
def test_anything_else_goes_to_a_worker(query):
    assert not is_bounded(query) and not is_narrow(query)


# Narrow: a constant subject or a string anchor. The others are anchored on an IRI object or a boolean only.
NARROW = [True, True, False, True, True, True, True]


@pytest.mark.parametrize("query, narrow", [*zip(BOUNDED, NARROW, strict=True),
                                           (P + "SELECT ?c WHERE { ?c kg:flagged true ; skos:notation ?n }", False),
                                           (P + 'SELECT ?c WHERE { ?c a kg:ProcedureCode ; skos:notation "1"^^<x:t> }',
                                            True)])
def test_a_bounded_star_is_narrow_when_a_constant_subject_or_a_string_anchors_it(query, narrow):
    assert is_bounded(query) and is_narrow(query) == narrow


@pytest.fixture()
def fast_and_slow(make_app):
    return (make_app(fast_path=True, result_cache=False).test_client(),
            make_app(fast_path=False, result_cache=False).test_client())


@pytest.mark.parametrize("accept", FORMATS)
@pytest.mark.parametrize("query", BOUNDED)
def test_the_fast_path_answers_as_the_worker_path_does(fast_and_slow, query, accept):
    fast, slow = fast_and_slow
    a, b = (c.get("/sparql", query_string={"query": query}, headers={"Accept": accept}) for c in (fast, slow))
    assert (a.status_code, a.headers["Content-Type"], a.headers.get("X-KGApp-Rows")) == \
        (b.status_code, b.headers["Content-Type"], b.headers.get("X-KGApp-Rows"))
    assert a.data == b.data


def test_bounded_queries_do_not_start_a_worker(make_app):
    app = make_app(fast_path=True, result_cache=False)
    client, executor = app.test_client(), app.extensions["kgapp.serving"].current.executor
    for query in BOUNDED:
        assert client.get("/sparql", query_string={"query": query}).status_code == 200
    assert executor.worker_pids() == []
    assert client.get("/sparql", query_string={"query": UNBOUNDED[0] + " LIMIT 1"}).status_code == 200
    assert len(executor.worker_pids()) == 1


def test_the_row_cap_applies_on_the_fast_path(make_app):
    client = make_app(fast_path=True, result_cache=False, max_rows=2).test_client()
    r = client.get("/sparql", query_string={"query": P + "SELECT * WHERE { cpt:64612 ?p ?o }"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.headers["X-KGApp-Truncated"] == "true" and r.headers["X-KGApp-Rows"] == "2"
    assert len(json.loads(r.data)["results"]["bindings"]) == 2
    r = client.get("/sparql", query_string={"query": P + "CONSTRUCT WHERE { cpt:64612 ?p ?o }"},
                   headers={"Accept": "application/n-triples"})
    assert r.headers["X-KGApp-Truncated"] == "true" and r.headers["X-KGApp-Rows"] == "2"


def test_a_runaway_query_is_still_stopped_with_both_fast_paths_on(make_app):
    client = make_app(fast_path=True, result_cache=True, query_timeout=1).test_client()
    for _ in range(2):  # a stopped query is never cached
        r = client.get("/sparql", query_string={"query": UNBOUNDED[-2]})
        assert r.status_code == 503 and "longer than the 1 s" in r.get_data(as_text=True)


def test_the_cache_gives_the_same_bytes_and_is_per_request_shape(make_app):
    app = make_app(result_cache=True)
    client, served = app.test_client(), app.extensions["kgapp.serving"].current
    first = client.get("/sparql", query_string={"query": LOOKUP})
    again = client.get("/sparql", query_string={"query": LOOKUP})
    assert first.data == again.data and served.responses.hits == 1  # GET: the response as sent (kgapp.web.lean)
    assert _headers(first) == _headers(again)
    assert served.executor.cache.hits == 0  # the executor was not asked again
    xml = client.get("/sparql", query_string={"query": LOOKUP}, headers={"Accept": "application/sparql-results+xml"})
    assert xml.data.startswith(b"<?xml") and served.responses.hits == 1  # another format: another entry
    posted = client.post("/sparql", data={"query": LOOKUP})  # Flask's path: the executor's cache
    assert posted.data == first.data and served.executor.cache.hits == 1
    capped = make_app(result_cache=True, max_rows=0).test_client().get("/sparql", query_string={"query": LOOKUP})
    assert capped.headers["X-KGApp-Truncated"] == "true"


def _headers(response) -> list[tuple[str, str]]:
    return sorted((k, v) for k, v in response.headers.items() if k != "Date")


def test_the_cache_can_be_turned_off(make_app):
    served = make_app(result_cache=False).extensions["kgapp.serving"].current
    assert served.executor.cache is None and served.responses is None


def test_a_kept_response_is_per_endpoint_url(make_app):
    client = make_app(result_cache=True).test_client()
    relative = {"query": "SELECT (<rel> AS ?x) WHERE {}"}  # resolved against the endpoint's URL
    bodies = [client.get("/sparql", query_string=relative, headers={"Host": host, "Accept": "text/csv"}).data
              for host in ("localhost:5000", "127.0.0.1:5000", "localhost:5000")]
    assert bodies == [b"x\r\nhttp://localhost:5000/rel\r\n", b"x\r\nhttp://127.0.0.1:5000/rel\r\n", bodies[0]]


def test_refusals_and_errors_are_not_kept(make_app):
    app = make_app(result_cache=True)
    client = app.test_client()
    for _ in range(2):
        assert client.get("/sparql", query_string={"query": "SELECT ?x WHERE { ?x"}).status_code == 400
    assert len(app.extensions["kgapp.serving"].current.responses) == 0


def test_a_cached_answer_still_counts_for_fairness(make_app):
    client = make_app(result_cache=True, rate_limit=0.1, rate_burst=2).test_client()
    statuses = [client.get("/sparql", query_string={"query": LOOKUP}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


SHAPES = [  # (query string, Accept): answers and refusals the lean GET path gives instead of Flask's
    ({"query": LOOKUP}, "application/sparql-results+json"),
    ({"query": LOOKUP, "format": "csv"}, None),
    ({"query": LOOKUP, "format": "turtle"}, None),  # 406
    ({"query": "SELECT ?x WHERE { ?x"}, None),  # 400
    ({"query": "INSERT DATA { <x:a> <x:b> <x:c> }"}, None),  # 403
    ({"query": "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }"}, None),  # 400
    ({"query": ""}, None),
    ({"query": [LOOKUP, LOOKUP]}, None),
    ({"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "not an iri"}, None),
    ({"query": "SELECT ?s WHERE { <rel> ?p ?s }"}, "text/csv"),  # the base IRI: the endpoint's URL
]


@pytest.mark.parametrize("args, accept", SHAPES)
def test_the_lean_get_path_answers_as_flask_does(fast_and_slow, args, accept):
    fast, slow = fast_and_slow
    a, b = (c.get("/sparql", query_string=args, headers={"Accept": accept} if accept else {}) for c in (fast, slow))
    assert a.status_code == b.status_code and a.data == b.data
    assert sorted((k, v) for k, v in a.headers.items() if k != "Date") == \
        sorted((k, v) for k, v in b.headers.items() if k != "Date")


def test_the_lean_path_is_taken_only_with_the_fast_path_on(make_app):
    assert isinstance(make_app(fast_path=True).wsgi_app, LeanSparql)
    assert not isinstance(make_app(fast_path=False).wsgi_app, LeanSparql)


def test_a_too_long_query_is_413_on_the_lean_path(make_app):
    r = make_app(max_query_length=10).test_client().get("/sparql", query_string={"query": LOOKUP})
    assert r.status_code == 413 and r.headers["Access-Control-Allow-Origin"] == "*"


def test_a_kept_response_is_logged_and_counted_as_any_other(make_app, caplog):
    app = make_app(result_cache=True, metrics=True)
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="kgapp.query"):
        for _ in range(2):
            assert client.get("/sparql", query_string={"query": LOOKUP}).status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "kgapp.query"]
    assert app.extensions["kgapp.serving"].current.responses.hits == 1
    assert len(lines) == 2 and [_without_ms(line) for line in lines] == [_without_ms(lines[0])] * 2
    assert "form=SELECT" in lines[1] and "rows=" in lines[1] and "query=" in lines[1]
    scrape = client.get("/metrics").get_data(as_text=True)
    assert 'kgapp_http_requests_total{route="/sparql",status="200"} 2.0' in scrape
    assert 'kgapp_query_duration_seconds_count{form="SELECT"} 2.0' in scrape


def _without_ms(line: str) -> str:
    return " ".join(part for part in line.split() if not part.startswith("ms="))


def test_a_lookup_asks_no_planner_but_a_star_of_wide_patterns_is_still_hashed(store, monkeypatch):
    from kgapp.sparql import answer

    asked: list[str] = []
    for name in ("solutions_query", "plan", "hashed"):
        real = getattr(answer, name)
        monkeypatch.setattr(answer, name, lambda *a, _n=name, _r=real, **k: asked.append(_n) or _r(*a, **k))
    lookup = 'SELECT ?c ?l WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> "64612" ; ' \
             '<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }'
    assert list(answer.run_query(store, lookup, planned=True))  # the code is found ...
    assert asked == ["hashed"]  # ... with neither the columns nor the top-k asked (a star may still be wide)
    asked.clear()
    ordered = "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 3"
    assert len(list(answer.run_query(store, ordered, planned=True))) == 3
    assert asked == ["solutions_query", "hashed", "plan"]  # any other query: every planner, as before
