"""Wide joins hashed (kgapp.sparql.hashjoin): taken only for wide plain BGPs, and the same answers."""

from __future__ import annotations

import random
from collections import Counter

import pyoxigraph as ox
import pytest

from kgapp.sparql.answer import run_query
from kgapp.sparql.hashjoin import rewrite
from kgapp.store.stats import compute

E = "http://e/"
PREFIX = f"PREFIX e: <{E}> "
WIDE = {"triples": 10_000, "properties": {f"{E}p": 5_000, f"{E}q": 4_000, f"{E}r": 3_000, f"{E}few": 3},
        "classes": {f"{E}C": 5_000}}


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s e:p ?x ; e:q ?y }",
    "SELECT ?s WHERE { ?s a e:C ; e:p ?x , ?z . ?x e:r ?w . }",
    "SELECT * WHERE { ?s <http://e/p> ?x . ?s e:q ?y FILTER(?x != ?y) FILTER isIRI(?s) }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s e:p ?x ; e:q ?y ; } GROUP BY ?x ORDER BY ?n LIMIT 3",
    "SELECT * WHERE { ?s e:p ?x ; e:q ?y } ORDER BY ?x LIMIT 3",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s e:p ?x ; e:q ?y } LIMIT 3",
    "SELECT * FROM <http://e/g> WHERE { ?s ?any ?x . ?x e:p ?y }",
])
def test_wide_plain_bgps_are_rewritten(query):
    rewritten = rewrite(PREFIX + query, WIDE)
    assert rewritten is not None and "{ SELECT * WHERE {" in rewritten
    assert rewritten.startswith(PREFIX) and rewritten.split("}")[-1] == (PREFIX + query).split("}")[-1]


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s e:p ?x }",  # one pattern: nothing to join
    "SELECT * WHERE { ?s e:p ?x ; e:few ?y }",  # a narrow pattern: the loop join from it is cheaper
    "SELECT * WHERE { ?s e:p ?x ; e:q <http://e/o> }",  # a constant object: narrow as far as the stats know
    'SELECT * WHERE { ?s e:p ?x ; e:q "text" }',  # a literal
    "SELECT * WHERE { <http://e/s> e:p ?x . ?x e:q ?y }",  # a constant subject
    "SELECT * WHERE { ?s e:p _:b . _:b e:q ?y }",  # a blank node is scoped to its BGP
    "SELECT * WHERE { ?s e:p [ e:q ?y ] }",
    "SELECT * WHERE { ?s e:p/e:q ?x . ?s e:r ?y }",  # a property path
    "SELECT * WHERE { ?s e:p ?x OPTIONAL { ?s e:q ?y } }",  # more than a BGP
    "SELECT * WHERE { ?s e:p ?x . ?s e:q ?y FILTER EXISTS { ?s e:r ?z } }",
    "SELECT * WHERE { { SELECT ?s WHERE { ?s e:p ?x } } ?s e:q ?y }",
    "SELECT * WHERE { ?s e:p ?x . ?s e:q 3 }",
    "SELECT * WHERE { ?s e:p ?x . ?s e:unknown ?y }",  # a property the store does not hold
    "SELECT * WHERE { ?s e:p ?x . ?t e:q ?y }",  # a cross product: streamed by the loop join, not built in memory
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
    "SELECT * WHERE { ?s e:p ?x . ?x e:q ?y . ?t e:r ?u }",
    "SELECT * WHERE { ?s e:p ?x . ?s <q> ?y }",  # a relative IRI: the stats cannot size it
    "CONSTRUCT { ?s e:p ?y } WHERE { ?s e:p ?x ; e:q ?y }",
    "ASK { ?s e:p ?x ; e:q ?y }",
    "SELECT * WHERE { ?s e:p ?x ; e:q ?y } LIMIT 3",  # the loop join stops after three rows
    "SELECT (EXISTS { ?s e:p ?x } AS ?b) WHERE { ?s e:p ?x ; e:q ?y }",
])
def test_other_queries_run_as_written(query):
    assert rewrite(PREFIX + query, WIDE) is None


def test_the_row_cap_bounds_the_loop_join_unless_every_solution_is_read():
    query = PREFIX + "SELECT * WHERE { ?s e:p ?x ; e:q ?y }"
    assert rewrite(query, WIDE, row_cap=10) is None  # the loop join stops after ten rows
    assert rewrite(query, WIDE, row_cap=100_000) is not None
    assert rewrite(query + " ORDER BY ?x", WIDE, row_cap=10) is not None  # the sort reads them all


def test_without_statistics_nothing_is_rewritten():
    assert rewrite(PREFIX + "SELECT * WHERE { ?s e:p ?x ; e:q ?y }", None) is None


def _store(rng: random.Random) -> ox.Store:
    store = ox.Store()
    nodes = [ox.NamedNode(f"{E}n{i}") for i in range(rng.randint(3, 25))]
    literals = [ox.Literal(v) for v in ("a", "b", "", "é")] + [ox.Literal("1", language="en")]
    for _ in range(rng.randint(0, 200)):
        p = ox.NamedNode(E + rng.choice("pqr"))
        o = rng.choice(nodes + literals) if p.value != E + "r" else rng.choice(nodes)
        graph = rng.choice([ox.DefaultGraph(), ox.NamedNode(f"{E}g")])
        store.add(ox.Quad(rng.choice(nodes), p, o, graph))
        if rng.random() < 0.2:
            store.add(ox.Quad(rng.choice(nodes), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                              ox.NamedNode(f"{E}C")))
    return store


def _bgp(rng: random.Random) -> str:
    variables, used = ["?s", "?x", "?y", "?z"], ["?s"]
    patterns = []
    for _ in range(rng.randint(2, 4)):
        s, o = rng.choice(used), rng.choice(variables)  # joined to what came before (mostly a connected BGP)
        if rng.random() < 0.2:
            o, s = s, rng.choice(variables)
        used += [s, o]
        if rng.random() < 0.2:
            patterns.append(f"{s} a e:C")
        else:
            patterns.append(f"{s} {rng.choice(['e:p', 'e:q', 'e:r', '?any'])} {o}")
    body = " . ".join(patterns)
    body += rng.choice(["", " FILTER(isIRI(?s))", " FILTER(?x != ?y)", " FILTER(STR(?s) < \"http://e/n5\")"])
    return PREFIX + "SELECT * WHERE { " + body + " }"


def _solutions(result) -> Counter:
    names = [v.value for v in result.variables]
    return Counter(tuple(str(row[n]) for n in names) for row in result)


@pytest.mark.parametrize("seed", range(5))
def test_the_same_solutions_on_random_graphs(seed):
    rng, rewritten = random.Random(seed), 0
    for _ in range(80):
        store, query = _store(rng), _bgp(rng)
        # any store sized as wide: the statistics decide whether to rewrite, never the answers
        stats = {"triples": 10**6, "properties": {E + p: 10**5 for p in "pqr"}, "classes": {E + "C": 10**5}}
        fast = rewrite(query, stats)
        if fast is None:
            continue
        rewritten += 1
        assert _solutions(store.query(fast)) == _solutions(store.query(query)), query
    assert rewritten >= 60


def test_the_statistics_of_a_store_choose_for_it():
    store = ox.Store()
    for i in range(300):
        store.add(ox.Quad(ox.NamedNode(f"{E}n{i}"), ox.NamedNode(E + "p"), ox.Literal(str(i))))
        store.add(ox.Quad(ox.NamedNode(f"{E}n{i}"), ox.NamedNode(E + "q"), ox.Literal(str(i % 7))))
    store.add(ox.Quad(ox.NamedNode(f"{E}n1"), ox.NamedNode(E + "few"), ox.Literal("x")))
    stats = compute(store)
    assert rewrite(PREFIX + "SELECT * WHERE { ?s e:p ?x ; e:q ?y }", stats) is not None
    assert rewrite(PREFIX + "SELECT * WHERE { ?s e:p ?x ; e:few ?y }", stats) is None


WIDE_CODES = ("PREFIX kg: <https://w3id.org/kgapp/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
              "SELECT ?c ?n ?label WHERE { ?c skos:notation ?n ; skos:prefLabel ?label }")


def test_the_endpoint_hashes_a_wide_join_and_answers_the_same(store, make_app):
    assert rewrite(WIDE_CODES, store.manifest["stats"]) is not None  # the shipped graph's stats choose it
    planned = _solutions(run_query(store, WIDE_CODES, planned=True))
    assert planned == _solutions(run_query(store, WIDE_CODES, planned=False)) and sum(planned.values()) >= 50
    on = make_app(fast_path=True, result_cache=False).test_client()
    off = make_app(fast_path=False, result_cache=False).test_client()
    for accept in ("application/sparql-results+json", "text/csv"):
        a = on.get("/sparql", query_string={"query": WIDE_CODES + " ORDER BY ?n ?c ?label"}, headers={"Accept": accept})
        b = off.get("/sparql", query_string={"query": WIDE_CODES + " ORDER BY ?n ?c ?label"}, headers={"Accept": accept})
        assert a.status_code == b.status_code == 200 and a.data == b.data and a.data.count(b"cpt/") >= 5
