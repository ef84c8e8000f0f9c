"""kgapp on a real Virtuoso: the same answers, pages and exports as the embedded store; builds that only touch kgapp's graphs."""

from __future__ import annotations

import shutil
import time

import pytest
from answers import answer
from first_build import assert_a_killed_one_is_dropped_by_the_next, assert_loaded_in_place
from rdflib import Graph
from rdflib.compare import isomorphic
from rebuilds import SCENARIOS, RemotePath
from swap_probe import (
    assert_a_reader_that_knew_the_old_build_is_answered_by_the_new,
    assert_old_or_new,
)
from virtuoso import clear_kgapp_graphs, graphs_on

from kgapp.build import build
from kgapp.config import Config
from kgapp.queries import load_queries
from kgapp.read.compare import compare
from kgapp.read.describe import describe
from kgapp.read.summary import code_summary
from kgapp.sources import resource_dir
from kgapp.store import open_store
from kgapp.store.remote import build as remote_build
from kgapp.store.remote import swap_guard
from kgapp.store.remote import upload as remote_upload
from kgapp.store.remote.client import RemoteQueryError, SparqlClient
from kgapp.store.remote.graphs import (
    MANIFEST_GRAPH,
    PENDING_GRAPH,
    RESERVED,
    SWAP_GRAPH,
    SWAP_PROPERTY,
)
from kgapp.store.remote.swap_guard import withdraw
from kgapp.web import close_app, create_app

FOREIGN = "urn:x-other-tenant:graph"
CODE = "https://w3id.org/kgapp/id/code/cpt/64868"


@pytest.fixture(scope="module")
def remote(remote_store_spec):
    return open_store(remote_store_spec)


@pytest.fixture()
def server(remote_store_spec) -> SparqlClient:
    """kgapp's HTTP client, used directly: what the server holds, outside kgapp's dataset rules."""
    return SparqlClient(Config.from_mapping({"store": remote_store_spec}).store, 30)


@pytest.mark.parametrize("query", load_queries(), ids=lambda q: q.slug)
def test_competency_questions_give_identical_answers(query, store, remote):
    expected = answer(store, query.text)
    assert expected, "every competency question has an answer"
    assert answer(remote, query.text) == expected


def test_same_graphs_and_counts(store, remote):
    assert remote.named_graphs() == store.named_graphs()
    assert remote.triple_count == store.triple_count
    q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    assert answer(remote, q) == answer(store, q)
    assert answer(remote, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }") == [(("n", f'"{store.triple_count}"^^'
                                                                         "<http://www.w3.org/2001/XMLSchema#integer>"),)]


def test_the_remote_build_records_the_same_statistics(store, remote):
    recorded = remote.manifest["stats"]
    assert recorded["classes"] == store.manifest["stats"]["classes"]
    assert recorded["instance_folders"] == store.manifest["stats"]["instance_folders"]


@pytest.mark.parametrize("line", [
    ("64868", ["50"], "22", "aetna", ["G51.0", "R29.810"]),
    ("64612", ["LT", "RT", "59"], "11", "cigna", ["G51.31"]),
    ("64600", ["24", "80"], "24", "medicare", ["S04.31", "Z99.999"]),
    ("64869", [], None, None, []),
], ids=lambda line: line[0])
def test_the_claim_check_finds_the_same_on_both_stores(store, remote, line):
    from kgapp.check import check_claim, parse_claim

    def findings(s):
        result = check_claim(s, parse_claim(*line), cache_results=False).as_dict()
        return sorted((f["rule"], f["severity"], f["message"], tuple(sorted(f["facts"])), tuple(sorted(f["sources"])))
                      for f in result["findings"])

    assert findings(remote) == findings(store)


def test_code_page_shows_the_same_facts(store, remote):
    def facts(st):
        d = describe(st, CODE)
        return {(s.predicate.value, s.other.value if s.other.kind != "bnode" else "_", tuple(sorted(s.graphs)))
                for _, group in d.sections for s in group}
    assert facts(remote) == facts(store)


@pytest.fixture()
def any_client(any_store_spec):
    app = create_app({"store": any_store_spec, "testing": True})
    yield app.test_client()
    close_app(app)


def test_pages_over_either_store(any_client):
    page = any_client.get("/id/code/cpt/64868")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "hypoglossal" in text and "64868" in text
    validation = any_client.get("/validation").get_data(as_text=True)
    assert "64868" in validation and "modifier 50" in validation
    assert "/id/code/cpt/64868" in any_client.get("/search?q=hypoglossal").get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "SELECT ?n WHERE { ?c a kg:ProcedureCode ; skos:notation ?n } ORDER BY ?n",
    "ASK { ?c kg:donorNerve ?n }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
])
def test_endpoint_json_is_the_same(query, store_path, remote_store_spec):
    from kgapp.namespaces import sparql_prologue

    bodies = []
    for spec in (store_path, remote_store_spec):
        app = create_app({"store": spec, "testing": True})
        r = app.test_client().post("/sparql", data={"query": sparql_prologue() + query},
                                   headers={"Accept": "application/sparql-results+json"})
        close_app(app)
        assert r.status_code == 200, r.get_data(as_text=True)
        bodies.append(r.get_json())
    assert bodies[0] == bodies[1]


def test_export_round_trip_is_isomorphic(store_path, remote_store_spec):
    graphs = []
    for spec in (store_path, remote_store_spec):
        app = create_app({"store": spec, "testing": True})
        r = app.test_client().get("/export.nt")
        graphs.append(Graph().parse(data=r.get_data(), format="nt"))
        close_app(app)
    assert len(graphs[0]) > 1000 and isomorphic(graphs[0], graphs[1])


def test_endpoint_keeps_other_graphs_out_of_reach(remote_store_spec, server):
    server.update(f"INSERT DATA {{ GRAPH <{FOREIGN}> {{ <urn:s> <urn:p> 'secret' }} }}")
    app = create_app({"store": remote_store_spec, "testing": True})
    client = app.test_client()
    try:
        for query in ("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o FILTER(?o = 'secret') } }",
                      f"SELECT ?o FROM <{FOREIGN}> WHERE {{ ?s ?p ?o }}",
                      f"SELECT ?o FROM NAMED <{FOREIGN}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
                      f"SELECT ?o WHERE {{ GRAPH <{FOREIGN}> {{ ?s ?p ?o }} }}"):
            r = client.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
            assert r.status_code == 200 and r.get_json()["results"]["bindings"] == [], query
        refused = client.get("/sparql", query_string={"query": 'SELECT (<bif:sys_stat>("st_dbms_ver") AS ?v) {}'})
        assert refused.status_code == 400 and "server extensions" in refused.get_data(as_text=True)
    finally:
        close_app(app)


def test_builds_replace_only_kgapp_graphs(remote_store_spec, server, tmp_path):
    server.update(f"INSERT DATA {{ GRAPH <{FOREIGN}> {{ <urn:s> <urn:p> 'kept' }} }}")
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    shutil.copy(data / "ref-nerves.ttl", data / "extra-nerves.ttl")
    build(Config.from_mapping({"store": remote_store_spec, "data_dirs": [data]}))
    extra = "https://w3id.org/kgapp/graph/extra-nerves"
    assert extra in open_store(remote_store_spec).named_graphs()
    build(Config.from_mapping({"store": remote_store_spec}))  # back to the shipped data: extra is stale
    on_server = graphs_on(server)
    assert extra not in on_server and FOREIGN in on_server and MANIFEST_GRAPH in on_server
    assert not [g for g in on_server if g.startswith(RESERVED + "staging/") or g == PENDING_GRAPH]


def test_failed_upload_keeps_the_previous_build(remote_store_spec, server, monkeypatch):
    before = open_store(remote_store_spec).manifest["build"]

    def broken(client, staging, expected):
        raise RemoteQueryError("injected: the server lost data")
    monkeypatch.setattr(remote_build, "_verify", broken)
    with pytest.raises(RemoteQueryError, match="injected"):
        build(Config.from_mapping({"store": remote_store_spec}))
    after = open_store(remote_store_spec)
    assert after.manifest["build"] == before
    assert answer(after, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0][0][1].startswith(f'"{after.triple_count}"')
    assert not [g for g in graphs_on(server) if g.startswith(RESERVED + "staging/")]


def test_a_killed_build_is_cleaned_up_by_the_next(remote_store_spec, server, monkeypatch):
    left: list[str] = []

    def killed(client, store, staging):
        left.extend(staging.values())  # the union's graph at least: it is loaded whatever changed
        client.update(" ;\n".join(f"INSERT DATA {{ GRAPH <{g}> {{ <urn:s> <urn:p> 1 }} }}" for g in left))
        raise KeyboardInterrupt  # the process dies mid-upload: no chance to clean up
    monkeypatch.setattr(remote_build, "upload", killed)
    monkeypatch.setattr(remote_build, "_drop_staging", lambda *args: None)
    with pytest.raises(KeyboardInterrupt):
        build(Config.from_mapping({"store": remote_store_spec}))
    assert left and set(left) <= set(graphs_on(server))
    monkeypatch.undo()
    build(Config.from_mapping({"store": remote_store_spec}))
    on_server = graphs_on(server)
    assert not set(left) & set(on_server) and PENDING_GRAPH not in on_server


def test_a_first_build_loads_straight_into_the_served_graphs(store, remote_store_spec, server, monkeypatch):
    assert_loaded_in_place(remote_store_spec, server, store, monkeypatch, (remote_build, "upload"),
                           (remote_build, "_swap"))
    assert not [g for g in graphs_on(server) if g.startswith(RESERVED + "staging/") or g == PENDING_GRAPH]


def test_a_first_build_over_a_graph_holding_triples_goes_through_staging(store, remote_store_spec, server,
                                                                         monkeypatch):
    clear_kgapp_graphs(server)
    graph = store.named_graphs()[0]
    server.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <urn:s> <urn:p> 1 }} }}")  # not listed by any build
    swaps: list[int] = []
    swap = remote_build._swap
    monkeypatch.setattr(remote_build, "_swap", lambda *args: (swaps.append(1), swap(*args)))
    build(Config.from_mapping({"store": remote_store_spec}))
    remote = open_store(remote_store_spec)
    assert swaps == [1] and not bool(remote.query("ASK { <urn:s> ?p ?o }"))
    assert answer(remote, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0][0][1].startswith(f'"{store.triple_count}"')


def test_a_killed_first_build_serves_nothing_and_the_next_drops_what_it_loaded(store, remote_store_spec, server,
                                                                               monkeypatch):
    assert_a_killed_one_is_dropped_by_the_next(remote_store_spec, server, store, monkeypatch,
                                               (remote_build, "upload"), (remote_build, "_swap"))


def test_a_batch_too_big_for_the_server_is_split(server):
    """Virtuoso's SPARQL parser gives up near 5,000 triples in one INSERT DATA; kgapp halves and retries."""
    import pyoxigraph as ox

    target = RESERVED + "staging/test-split"
    triples = [ox.Triple(ox.NamedNode(f"urn:s{i}"), ox.NamedNode("urn:p"), ox.Literal(str(i))) for i in range(6000)]
    remote_upload.insert_data(server, target, triples)
    count = server.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{target}> {{ ?s ?p ?o }} }}", [], False)
    assert next(iter(count))["n"].value == "6000"
    server.update(f"DROP SILENT GRAPH <{target}>")


def test_a_large_blank_node_group_stays_connected(server, monkeypatch):
    """A SHACL report is one group of thousands of triples around one node; it arrives whole, marks removed."""
    import pyoxigraph as ox

    target = RESERVED + "staging/test-blank"
    report, result = ox.BlankNode("report"), ox.NamedNode("http://www.w3.org/ns/shacl#result")
    triples = []
    for i in range(1500):
        node = ox.BlankNode(f"r{i}")
        triples += [ox.Triple(report, result, node), ox.Triple(node, ox.NamedNode("urn:focus"), ox.NamedNode(f"urn:x{i}"))]
    monkeypatch.setattr(remote_upload, "JOIN_BATCH", 700)  # several requests must share the one report node
    remote_upload.insert_blank(server, target, triples)
    rows = list(server.query(f"SELECT (COUNT(DISTINCT ?r) AS ?reports) (COUNT(*) AS ?n) WHERE {{ GRAPH <{target}> "
                             f"{{ ?r {result} ?x . ?x <urn:focus> ?f }} }}", [], False))
    assert (rows[0]["reports"].value, rows[0]["n"].value) == ("1", "1500")
    left = server.query(f"ASK {{ GRAPH <{target}> {{ ?b <{remote_upload.MARK}> ?l }} }}", [], False)
    assert not bool(left)
    server.update(f"DROP SILENT GRAPH <{target}>")


def test_code_summary_and_comparison_are_the_same(store, remote):
    def shown(st):
        return [(f.key, sorted((v.predicate, v.value, v.text, v.note, tuple(v.graphs), bool(v.reading)) for v in f.values))
                for f in code_summary(st, CODE).facts]
    assert shown(remote) == shown(store)
    assert [r.differs for r in compare(remote, ["64864", "64866", "64868"]).rows] == \
        [r.differs for r in compare(store, ["64864", "64866", "64868"]).rows]


def test_readers_see_the_old_build_or_the_new_one_during_the_swap(remote_store_spec, monkeypatch, tmp_path):
    """The portable swap is a DROP and a MOVE per graph, which Virtuoso runs one by one; sent one request
    at a time with a pause between (a window no reader can miss), readers through kgapp still see the old
    build or the new one."""
    def slow_swap(client, ops, say):
        for op in ops:
            client.update(op)
            time.sleep(0.1)
    monkeypatch.setattr(remote_build, "_swap", slow_swap)
    assert_old_or_new(remote_store_spec, tmp_path, monkeypatch)


@pytest.fixture()
def marker(server):
    """Writes a swap marker on the server, as a builder does before swapping; removed afterwards."""
    yield lambda: server.update(f"INSERT DATA {{ GRAPH <{SWAP_GRAPH}> {{ <{SWAP_GRAPH}> <{SWAP_PROPERTY}> \"probe\" }} }}")
    withdraw(server)


def test_a_swap_that_outlasts_the_query_budget_is_a_503_with_retry_after(remote_store_spec, marker):
    app = create_app({"store": remote_store_spec, "testing": True})
    try:
        marker()
        store = app.extensions["kgapp.serving"].current.store
        store.client.timeout = 1.0
        store.guard.clear_at = float("-inf")  # its last look at the server is older than FRESH
        r = app.test_client().get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5", (r.status_code, r.data)
        assert r.get_data(as_text=True) == "a new build is being swapped in on the SPARQL server; retry in a few seconds\n"
    finally:
        close_app(app)


def test_a_marker_a_killed_build_left_is_ignored_after_a_while(remote_store_spec, marker, monkeypatch, caplog):
    monkeypatch.setattr(swap_guard, "STALE", 0.5)
    store = open_store(remote_store_spec)
    marker()
    store.guard.clear_at = float("-inf")
    began = time.monotonic()
    assert bool(store.query("ASK { ?s ?p ?o }")) is True
    assert time.monotonic() - began >= 0.5
    assert "swap marker for build probe has stood for over 0.5 s" in caplog.text


def test_a_reader_that_knew_the_old_build_is_answered_by_the_new(remote_store_spec, tmp_path):
    assert_a_reader_that_knew_the_old_build_is_answered_by_the_new(remote_store_spec, tmp_path)



@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_a_rebuild(scenario, store, remote_store_spec, server, monkeypatch, tmp_path):
    scenario(RemotePath(remote_store_spec, server, (remote_build, "upload"), (remote_build, "_swap")), store, monkeypatch, tmp_path)
