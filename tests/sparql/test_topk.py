"""ORDER BY … LIMIT as a top-k (kgapp.sparql.topk): the same order as Oxigraph's sort, or Oxigraph's sort."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest

from kgapp.sparql.answer import run_query
from kgapp.sparql.topk import MAX_K, plan, top_k

E = "http://e/"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
WHERE = f"SELECT ?s ?l ?q WHERE {{ ?s <{E}p> ?l OPTIONAL {{ ?s <{E}q> ?q }} }}"


@pytest.mark.parametrize("query, keys, limit, offset", [
    (WHERE + " ORDER BY ?l LIMIT 5", (("l", False),), 5, 0),
    (WHERE + " ORDER BY DESC(?l) ?s LIMIT 20 OFFSET 10", (("l", True), ("s", False)), 20, 10),
    (WHERE + " order by asc ( ?q ) offset 3 limit 120", (("q", False),), 120, 3),
    ("PREFIX e: <http://e/> SELECT ?s (COUNT(*) AS ?n) WHERE { ?s e:p ?l } GROUP BY ?s ORDER BY DESC(?n) LIMIT 3",
     (("n", True),), 3, 0),
])
def test_the_shapes_it_takes(query, keys, limit, offset):
    shape = plan(query)
    assert shape is not None and (shape.keys, shape.limit, shape.offset) == (keys, limit, offset)
    assert "ORDER" not in shape.unordered.upper().split("}")[-1]  # the unordered query ends before ORDER BY


@pytest.mark.parametrize("query", [
    WHERE + " ORDER BY ?l",  # no LIMIT: every row is wanted anyway
    WHERE + " ORDER BY STR(?l) LIMIT 5",  # an expression
    WHERE + " ORDER BY (?l) LIMIT 5",
    WHERE + f" ORDER BY ?l LIMIT {MAX_K + 1}",
    WHERE + " LIMIT 5",
    WHERE + " ORDER BY ?l LIMIT 5 VALUES ?l { \"a\" }",  # a trailing VALUES clause
    f"SELECT * WHERE {{ {{ SELECT ?s WHERE {{ ?s <{E}p> ?l }} ORDER BY ?l LIMIT 5 }} }}",  # inner ORDER BY only
    f"CONSTRUCT {{ ?s <{E}p> ?l }} WHERE {{ ?s <{E}p> ?l }} ORDER BY ?l LIMIT 5",
    f"ASK {{ ?s <{E}p> ?l }}",
])
def test_the_shapes_it_leaves_to_oxigraph(query):
    assert plan(query) is None


def _store(rng: random.Random, kinds: list[str]) -> ox.Store:
    store = ox.Store()
    for _ in range(rng.randint(0, 150)):
        s = ox.NamedNode(f"{E}{rng.randint(0, 10**6)}")
        text = rng.choice(["a", "b", "B", "ab", "é", "", "a b", "Zé", "\U0001F600", "aa"])
        value = {"string": ox.Literal(text), "lang": ox.Literal(text, language=rng.choice(["en", "fr", "en-us"])),
                 "integer": ox.Literal(str(rng.randint(-3, 30)), datatype=XSD_INTEGER),
                 "iri": ox.NamedNode(f"{E}o{rng.randint(0, 9)}")}[rng.choice(kinds)]
        store.add(ox.Quad(s, ox.NamedNode(f"{E}p"), value))
        if rng.random() < 0.5:
            store.add(ox.Quad(s, ox.NamedNode(f"{E}q"), ox.Literal(str(rng.randint(0, 5)), datatype=XSD_INTEGER)))
    return store


def _rows(result) -> list[tuple[str, ...]]:
    return [tuple(str(row[v]) for v in ("s", "l", "q")) for row in result]


@pytest.mark.parametrize("seed", range(6))
def test_the_same_order_as_oxigraph_on_random_graphs(seed):
    rng, compared = random.Random(seed), 0
    for _ in range(60):
        kinds = rng.choice([["string"], ["lang"], ["integer"], ["iri", "string"], ["iri", "lang"], ["iri"]])
        store = _store(rng, kinds)
        order = rng.choice(["?l", "DESC(?l)", "?q ?l", "DESC(?q) ?s", "ASC(?l) DESC(?s)", "?l ?s", "DESC(?l) DESC(?s)"])
        query = WHERE + f" ORDER BY {order} LIMIT {rng.randint(0, 40)}" + rng.choice(["", " OFFSET 3"])
        fast = top_k(store.query, plan(query))
        assert fast is not None, query  # one literal kind per column: never a fallback here
        fast_rows, slow_rows = _rows(fast), _rows(store.query(query))
        columns = [i for i, v in enumerate(("s", "l", "q")) if f"?{v}" in order]
        assert [tuple(r[i] for i in columns) for r in fast_rows] == [tuple(r[i] for i in columns) for r in slow_rows]
        if "?s" in order:  # subjects are unique per label and q: no ties, so the very same rows
            assert fast_rows == slow_rows, query
        every = set(_rows(store.query(WHERE)))
        assert set(fast_rows) <= every  # each row is a solution of the query
        compared += 1
    assert compared == 60


def test_two_literal_kinds_in_a_column_fall_back_to_oxigraph():
    store = ox.Store()
    for i, value in enumerate([ox.Literal("b"), ox.Literal("3", datatype=XSD_INTEGER), ox.Literal("a", language="en")]):
        store.add(ox.Quad(ox.NamedNode(f"{E}{i}"), ox.NamedNode(f"{E}p"), value))
    query = WHERE + " ORDER BY ?l LIMIT 2"
    assert top_k(store.query, plan(query)) is None


def test_a_blank_node_in_a_kept_row_falls_back_to_oxigraph():
    store = ox.Store()
    store.add(ox.Quad(ox.BlankNode(), ox.NamedNode(f"{E}p"), ox.Literal("a")))
    assert top_k(store.query, plan(WHERE + " ORDER BY ?l LIMIT 2")) is None


ORDERED = ("PREFIX kg: <https://w3id.org/kgapp/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
           "SELECT ?c ?n ?label WHERE { ?c a kg:ProcedureCode ; skos:notation ?n ; skos:prefLabel ?label } "
           "ORDER BY DESC(?label) ?n LIMIT 4 OFFSET 1")


def test_the_endpoint_answers_the_same_bytes_with_the_top_k_and_without(make_app):
    on = make_app(fast_path=True, result_cache=False).test_client()
    off = make_app(fast_path=False, result_cache=False).test_client()
    for accept in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv"):
        a = on.get("/sparql", query_string={"query": ORDERED}, headers={"Accept": accept})
        b = off.get("/sparql", query_string={"query": ORDERED}, headers={"Accept": accept})
        assert a.status_code == b.status_code == 200
        assert a.data == b.data and a.data.count(b"cpt/") >= 4


def test_run_query_uses_it_only_when_asked_and_the_store_gains(store):
    fast = _rows_of(run_query(store, ORDERED, planned=True))
    assert fast == _rows_of(run_query(store, ORDERED, planned=False)) and len(fast) == 4


def _rows_of(result) -> list[tuple[str, ...]]:
    return [tuple(str(row[v]) for v in ("c", "n", "label")) for row in result]


def test_a_runaway_ordered_query_is_still_stopped(make_app):
    client = make_app(fast_path=True, result_cache=False, query_timeout=1).test_client()
    runaway = "SELECT ?a ?b WHERE { ?a ?p ?x . ?b ?q ?y . ?c ?r ?z } ORDER BY ?a ?b LIMIT 5"
    assert plan(runaway) is not None
    r = client.get("/sparql", query_string={"query": runaway})
    # stopped by the time limit, or first by the per-worker memory limit (query_memory)
    assert r.status_code == 503 and "and was stopped" in r.get_data(as_text=True)
