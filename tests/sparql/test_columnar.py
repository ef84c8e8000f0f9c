"""Queries that read every solution, answered from the build's columns (kgapp.sparql.columnar): the same
answers as Oxigraph's, the shapes it takes and leaves, the row cap, and the columns a build writes."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

import kgapp.sparql.columnar as columnar
from kgapp.formats import by_name
from kgapp.sparql.answer import run_query
from kgapp.sparql.columnar import solutions_query
from kgapp.sparql.columnar_query import read_plan
from kgapp.sparql.results import write_result
from kgapp.store import EmbeddedStore
from kgapp.store.columns import Columns, open_columns, write_columns

E = "http://e/"
PREFIX = f"PREFIX e: <{E}> "


def _columns(store: ox.Store, folder: Path) -> Columns:
    """Columns of ``store``'s default graph, written as a build writes them (from N-Triples lines)."""
    folder.mkdir(parents=True, exist_ok=True)
    nt = folder / "all.nt"
    with open(nt, "wb") as f:
        f.write(b"# a comment line, as the export files open with\n")
        store.dump(f, ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    write_columns(folder, [nt])
    columns = open_columns(folder, len(store))
    assert columns is not None
    return columns


def _rows(result) -> list[tuple[str | None, ...]]:
    return [tuple(None if r[v] is None else str(r[v]) for v in result.variables) for r in result]


def _random_store(rng: random.Random) -> ox.Store:
    store = ox.Store()
    nodes = [ox.NamedNode(f"{E}n{i}") for i in range(rng.randint(2, 20))]
    classes = [ox.NamedNode(f"{E}C{i}") for i in range(3)]
    kind = rng.choice(["string", "lang", "integer", "mixed", "blank"])
    literals = {"string": [ox.Literal(v) for v in ("a", "b", "", "é", "B", 'q"t', "z\n")],
                "lang": [ox.Literal(v, language=t) for v in ("a", "b", "é") for t in ("en", "fr")],
                "integer": [ox.Literal(str(v), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
                            for v in (-3, 0, 2, 10, 100)],
                "mixed": [ox.Literal("a"), ox.Literal("b", language="en"), ox.Literal("1.5", datatype=ox.NamedNode(
                    "http://www.w3.org/2001/XMLSchema#decimal"))],
                "blank": [ox.BlankNode(f"b{i}") for i in range(3)]}[kind]
    for _ in range(rng.randint(0, 150)):
        s = rng.choice(nodes)
        roll = rng.random()
        if roll < 0.25:
            store.add(ox.Quad(s, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), rng.choice(classes)))
        elif roll < 0.5:
            store.add(ox.Quad(s, ox.NamedNode(E + "label"), rng.choice(literals)))
        else:
            store.add(ox.Quad(s, ox.NamedNode(E + rng.choice("pq")), rng.choice(nodes)))
    return store


PATTERNS = ["?a a ?c", "?a a e:C0", "?a e:label ?l", "?a e:p ?b", "?b e:q ?d", "?a e:q ?a", "?a ?r ?b",
            "e:n1 e:p ?b", "?b e:label ?m", "?a e:p e:n2", '?a e:label "a"', "?a e:label 2", '?b e:label """é"""',
            "?a e:label 10 ."]


def _random_query(rng: random.Random) -> str:
    patterns = rng.sample(PATTERNS, rng.randint(1, 3))
    where = " . ".join(patterns)
    bound = sorted({w[1:] for p in patterns for w in p.split() if w.startswith("?")})
    if not bound:
        return PREFIX + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"
    if rng.random() < 0.5:  # an aggregate
        groups = rng.sample(bound, rng.randint(0, min(2, len(bound))))
        count = rng.choice(["COUNT(*)", f"COUNT(?{rng.choice(bound)})", f"COUNT(DISTINCT ?{rng.choice(bound)})"])
        select = " ".join(f"?{g}" for g in groups) + f" ({count} AS ?n)"
        keys = groups + ["n"]
        tail = f" GROUP BY {' '.join('?' + g for g in groups)}" if groups else ""
    else:
        shown = rng.sample(bound, rng.randint(1, len(bound)))
        select = ("DISTINCT " if rng.random() < 0.3 else "") + " ".join(f"?{v}" for v in shown)
        keys, tail = shown, ""
    if rng.random() < 0.7:
        order = rng.sample(keys, rng.randint(1, len(keys)))
        tail += " ORDER BY " + " ".join(rng.choice([f"?{k}", f"DESC(?{k})", f"ASC(?{k})"]) for k in order)
    if rng.random() < 0.5:
        tail += f" LIMIT {rng.randint(0, 6)}" + (f" OFFSET {rng.randint(0, 4)}" if rng.random() < 0.5 else "")
    return PREFIX + f"SELECT {select} WHERE {{ {where} }}{tail}"


def _order_keys(query: str) -> list[str]:
    if " ORDER BY " not in query:
        return []
    clause = query.split(" ORDER BY ")[1].split(" LIMIT ")[0]
    return [part.strip("?()").replace("DESC(?", "").replace("ASC(?", "") for part in clause.split()]


@pytest.mark.parametrize("seed", range(6))
def test_random_queries_give_oxigraphs_answers(seed, tmp_path):
    rng = random.Random(seed)
    taken = 0
    for round_ in range(8):
        store = _random_store(rng)
        columns = _columns(store, tmp_path / f"{seed}-{round_}")
        for _ in range(25):
            query = _random_query(rng)
            values = solutions_query(query, columns)
            if values is None:
                continue
            taken += 1
            want, got = store.query(query), store.query(values)
            want_rows, got_rows = _rows(want), _rows(got)
            assert [v.value for v in got.variables] == [v.value for v in want.variables], query
            keys = [[v.value for v in want.variables].index(k) for k in _order_keys(query)]
            assert [tuple(r[k] for k in keys) for r in got_rows] == [tuple(r[k] for k in keys) for r in want_rows], query
            if " LIMIT " not in query and " OFFSET " not in query:
                assert Counter(got_rows) == Counter(want_rows), query
            else:
                assert len(got_rows) == len(want_rows), query
    assert taken >= 60  # most random queries are of the shape taken


@pytest.mark.parametrize("query", [
    "SELECT ?t (COUNT(?c) AS ?n) WHERE { ?c e:p ?t } GROUP BY ?t",
    "SELECT ?t (COUNT(?c) AS ?n) WHERE { ?c a e:C ; e:p ?t ; e:q ?code } GROUP BY ?t ORDER BY DESC(?n)",
    "SELECT ?c ?n ?label WHERE { ?c a e:C ; e:q ?n ; e:label ?label } ORDER BY DESC(?label) ?n LIMIT 20",
    "select distinct ?c where { ?s a ?c } order by asc(?c) offset 1",
    "SELECT ?p (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?p",
    "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s e:p ?o ; e:q ?x , ?y ; . <http://e/s> e:p ?s }",
])
def test_the_shapes_taken(query):
    assert read_plan(PREFIX + query) is not None


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s e:p ?o }",  # every variable: left to Oxigraph's own order of them
    "SELECT ?s WHERE { ?s e:p ?o FILTER(?o != e:x) }",
    'SELECT ?s WHERE { ?s e:label "a"@en } ORDER BY ?s',  # a tagged or typed literal
    'SELECT ?s WHERE { ?s e:label "a"^^e:t } ORDER BY ?s',
    "SELECT ?s WHERE { ?s e:label 1.5 } ORDER BY ?s",
    "SELECT ?s WHERE { ?s e:label 1e3 } ORDER BY ?s",
    "SELECT ?s WHERE { ?s e:label -1 } ORDER BY ?s",
    'SELECT ?s WHERE { "a" e:label ?s } ORDER BY ?s',  # a literal subject
    "SELECT ?s WHERE { ?s e:p _:b }",
    "SELECT ?s WHERE { ?s e:p/e:q ?o }",
    "SELECT ?s WHERE { ?s e:p ?o OPTIONAL { ?o e:q ?x } }",
    "SELECT ?s FROM <http://e/g> WHERE { ?s e:p ?o }",
    "SELECT ?s WHERE { ?s e:p ?o . ?t e:q ?x }",  # a cross product
    "SELECT ?s ?x WHERE { ?s e:p ?o }",  # ?x unbound
    "SELECT ?s (COUNT(*) AS ?n) WHERE { ?s e:p ?o }",  # ?s neither grouped nor aggregated: an error
    "SELECT ?o (COUNT(*) AS ?n) WHERE { ?s e:p ?o } GROUP BY ?o HAVING (COUNT(*) > 1)",
    "SELECT (SUM(?o) AS ?n) WHERE { ?s e:p ?o }",
    "SELECT DISTINCT ?s WHERE { ?s e:p ?o } ORDER BY ?o",  # the order of a column not projected
    "SELECT ?s WHERE { ?s e:p ?o ; e:q ?x } LIMIT 3",  # streamed by Oxigraph, which stops at the third
    "SELECT ?s WHERE { ?s <p> ?o } ORDER BY ?s",  # a relative IRI
    "SELECT ?s WHERE { ?s x:p ?o } ORDER BY ?s",  # an undeclared prefix: Oxigraph's error
    "ASK { ?s e:p ?o }",
    "CONSTRUCT { ?s e:p ?o } WHERE { ?s e:p ?o }",
])
def test_other_queries_are_left_to_oxigraph(query):
    assert read_plan(PREFIX + query) is None


def test_an_order_the_ranks_do_not_reproduce_is_left_to_oxigraph(tmp_path):
    store = ox.Store()
    s, p = ox.NamedNode(E + "s"), ox.NamedNode(E + "p")
    store.add(ox.Quad(s, p, ox.Literal("a")))
    store.add(ox.Quad(ox.NamedNode(E + "t"), p, ox.Literal("b", language="en")))
    store.add(ox.Quad(ox.NamedNode(E + "u"), ox.NamedNode(E + "q"), ox.BlankNode("x")))
    columns = _columns(store, tmp_path)
    assert solutions_query(PREFIX + "SELECT ?s ?o WHERE { ?s e:p ?o } ORDER BY ?o", columns) is None  # two kinds
    assert solutions_query(PREFIX + "SELECT ?o WHERE { ?s e:q ?o }", columns) is None  # VALUES has no blank nodes
    assert solutions_query(PREFIX + "SELECT ?s WHERE { ?s e:q ?o } ORDER BY ?s", columns) is not None


def test_a_join_past_the_bound_is_left_to_oxigraph(tmp_path, monkeypatch):
    store = ox.Store()
    for i in range(30):
        store.add(ox.Quad(ox.NamedNode(f"{E}s{i}"), ox.NamedNode(E + "p"), ox.NamedNode(E + "o")))
    columns = _columns(store, tmp_path)
    query = PREFIX + "SELECT (COUNT(*) AS ?n) WHERE { ?a e:p ?o . ?b e:p ?o }"
    assert _rows(store.query(solutions_query(query, columns))) == [('"900"^^<http://www.w3.org/2001/XMLSchema#integer>',)]
    monkeypatch.setattr(columnar, "MAX_ROWS", 899)
    assert solutions_query(query, columns) is None
    monkeypatch.setattr(columnar, "MAX_ROWS", 900)
    assert solutions_query(query, columns) is not None

    def out_of_memory(*args):
        raise MemoryError  # as numpy does past the worker's RLIMIT_DATA

    monkeypatch.setattr(columnar, "_join", out_of_memory)
    assert solutions_query(query, columns) is None


def test_the_row_cap_still_cuts_the_answer(tmp_path):
    store = ox.Store()
    for i in range(10):
        store.add(ox.Quad(ox.NamedNode(f"{E}s{i}"), ox.NamedNode(E + "p"), ox.Literal(f"v{i}")))
    columns = _columns(store, tmp_path)
    values = solutions_query(PREFIX + "SELECT ?o WHERE { ?s e:p ?o } ORDER BY DESC(?o)", columns, row_cap=3)
    written = write_result(store.query(values), by_name("csv"), 3)
    assert written.truncated and written.rows == 3
    assert written.body.decode().split() == ["o", "v9", "v8", "v7"]


def test_a_build_writes_columns_of_its_default_graph(store_path):
    store = EmbeddedStore(store_path)
    columns = open_columns(store.folder, store.triple_count)
    assert columns is not None and columns.count == store.triple_count
    held = {" ".join(columns.terms(row)) for row in columns.triples.tolist()}
    assert held == {f"{q.subject} {q.predicate} {q.object}"
                    for q in store.local.quads_for_pattern(None, None, None, ox.DefaultGraph())}


def test_columns_that_do_not_match_the_manifest_are_not_used(store_path):
    store = EmbeddedStore(store_path)
    assert open_columns(store.folder, store.triple_count + 1) is None
    assert open_columns(store.folder.parent, store.triple_count) is None  # no columns there


GROUPED = ("PREFIX kg: <https://w3id.org/kgapp/ontology#> SELECT ?t (COUNT(?c) AS ?n) "
           "WHERE { ?c a kg:ProcedureCode ; kg:hasProcedureType ?t } GROUP BY ?t ORDER BY DESC(?n) ?t")


def test_the_endpoints_path_answers_from_the_columns_as_oxigraph_does(store_path, monkeypatch):
    store = EmbeddedStore(store_path)
    asked: list[str] = []
    real = columnar.values_query
    monkeypatch.setattr(columnar, "values_query", lambda names, rows: asked.append("columns") or real(names, rows))
    planned = _rows(run_query(store, GROUPED, planned=True, row_cap=100))
    assert asked == ["columns"]
    assert planned == _rows(store.query(GROUPED)) and len(planned) >= 3
    asked.clear()
    _rows(run_query(store, GROUPED, default_graphs=[], planned=True))  # a protocol dataset: Oxigraph's
    assert asked == []
