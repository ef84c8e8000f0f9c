"""The bulk path (Virtuoso's loader on files) gives the same build as the SPARQL Update path: answers, counts, exports, failures."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from answers import answer
from first_build import assert_a_killed_one_is_dropped_by_the_next, assert_loaded_in_place
from rdflib import BNode, Graph
from rdflib.compare import isomorphic
from rebuilds import BULK_SCENARIOS, RemotePath, graph_counts
from swap_probe import (
    EXTRA,
    assert_a_reader_that_knew_the_old_build_is_answered_by_the_new,
    assert_old_or_new,
)
from virtuoso import graphs_on

from kgapp.build import build
from kgapp.config import Config
from kgapp.queries import load_queries
from kgapp.sources import resource_dir
from kgapp.store import open_store
from kgapp.store.remote import build as remote_build
from kgapp.store.remote import bulk as bulk_module
from kgapp.store.remote import bulk_files
from kgapp.store.remote.bulk import DIR_ENV, ISQL, ISQL_ENV, BulkLoader, sql_string
from kgapp.store.remote.client import RemoteQueryError, RemoteStoreError, SparqlClient
from kgapp.store.remote.graphs import MANIFEST_GRAPH, PENDING_GRAPH, RESERVED, UNIONS
from kgapp.web import close_app, create_app


@pytest.fixture(scope="module")
def bulk_spec(remote_store_spec, virtuoso):
    """The session's Virtuoso, rebuilt through the bulk path (its own folder is in DirsAllowed); the setting stays on."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv(DIR_ENV, str(virtuoso.folder))
        env.setenv(ISQL_ENV, str(virtuoso.sql_port))
        build(Config.from_mapping({"store": remote_store_spec}))
        yield remote_store_spec


@pytest.fixture()
def server(bulk_spec) -> SparqlClient:
    return SparqlClient(Config.from_mapping({"store": bulk_spec}).store, 30)


def staging_left(server: SparqlClient) -> list[str]:
    return [g for g in graphs_on(server) if g.startswith(RESERVED + "staging/") or g == PENDING_GRAPH]


def loader_files(virtuoso) -> list[str]:
    return [p.name for p in virtuoso.folder.iterdir() if p.name.startswith("kgapp-")]


def test_the_settings_choose_the_path():
    assert BulkLoader.from_settings("", "1111") is None  # no folder: the portable path
    assert BulkLoader.from_settings("/srv/x", "1111").command == (ISQL, "1111")
    assert BulkLoader.from_settings("/srv/x", "db.local:1111").command == (ISQL, "db.local:1111")
    assert BulkLoader.from_settings("/srv/x", "/opt/virtuoso/bin/isql 1112").command == ("/opt/virtuoso/bin/isql", "1112")
    with pytest.raises(RemoteStoreError, match=ISQL_ENV):
        BulkLoader.from_settings("/srv/x", "")
    assert Config.from_mapping({"remote_bulk_dir": "/srv/x"}).remote_bulk_dir == "/srv/x"


def test_sql_strings_are_quoted_and_unsafe_ones_refused():
    assert sql_string("/srv/it's") == "'/srv/it''s'"
    assert sql_string("a\\b") == "'a\\\\b'"
    for bad in ("/srv/x;drop", "/srv/$U{x}", "/srv/a\nb"):
        with pytest.raises(RemoteStoreError):
            sql_string(bad)


@pytest.mark.parametrize("query", load_queries(), ids=lambda q: q.slug)
def test_competency_questions_give_identical_answers(query, store, bulk_spec):
    assert answer(open_store(bulk_spec), query.text) == answer(store, query.text)


def test_same_graphs_counts_and_no_leftovers(store, bulk_spec, server, virtuoso):
    remote = open_store(bulk_spec)
    assert remote.named_graphs() == store.named_graphs() and remote.triple_count == store.triple_count
    q = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    assert answer(remote, q) == answer(store, q)
    assert staging_left(server) == [] and loader_files(virtuoso) == []
    listed = virtuoso.isql("SELECT concat('listed:', cast(COUNT(*) AS VARCHAR)) FROM DB.DBA.load_list "
                           "WHERE ll_file LIKE '%kgapp-%';\n")
    assert "listed:0" in listed
    assert sorted(g for g in graphs_on(server) if g.startswith(RESERVED)) == sorted([MANIFEST_GRAPH, remote.manifest["union"]])


def test_the_bulk_path_fills_no_store_and_records_the_embedded_builds_counts(store, bulk_spec, monkeypatch):
    monkeypatch.setattr(remote_build, "fill", lambda *args: pytest.fail("the bulk path filled an in-memory store"))
    build(Config.from_mapping({"store": bulk_spec}))
    recorded = open_store(bulk_spec).manifest
    assert (recorded["graphs"], recorded["triples"]) == (store.manifest["graphs"], store.manifest["triples"])
    assert recorded["stats"] == store.manifest["stats"]


def test_a_rebuild_loads_its_union_in_place_and_drops_the_old_one(bulk_spec, server, monkeypatch):
    before = open_store(bulk_spec).manifest["union"]
    swapped: list[str] = []
    swap = BulkLoader.swap
    monkeypatch.setattr(BulkLoader, "swap", lambda self, moves, drop: (swapped.extend(moves), swap(self, moves, drop)))
    build(Config.from_mapping({"store": bulk_spec}))
    after = open_store(bulk_spec)
    assert after.manifest["union"] == UNIONS + after.manifest["build"] != before
    assert swapped == [MANIFEST_GRAPH]  # the union is not copied; unchanged named graphs stay as they are
    on_server = graphs_on(server)
    assert after.manifest["union"] in on_server and before not in on_server


def test_the_served_union_is_kept_when_a_build_died_before_its_cleanup(store, bulk_spec, server, monkeypatch):
    monkeypatch.setattr(remote_build, "_drop_staging", lambda *args: None)
    build(Config.from_mapping({"store": bulk_spec}))  # done and served, but its graphs still listed as pending
    monkeypatch.undo()
    served = open_store(bulk_spec)
    assert PENDING_GRAPH in graphs_on(server)
    seen: list[int] = []
    announce = remote_build.announce

    def counted(client, build_id):  # what a reader of the served build gets just before the swap
        seen.append(int(next(iter(served.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))["n"].value))
        return announce(client, build_id)
    monkeypatch.setattr(remote_build, "announce", counted)
    build(Config.from_mapping({"store": bulk_spec}))  # drops the leftovers first, then swaps
    assert seen == [store.triple_count]
    after = open_store(bulk_spec)
    assert after.triple_count == store.triple_count and staging_left(server) == []
    assert answer(after, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0][0][1].startswith(f'"{store.triple_count}"')


def test_export_is_isomorphic_blank_nodes_included(store_path, bulk_spec):
    graphs = []
    for spec in (store_path, bulk_spec):
        app = create_app({"store": spec, "testing": True})
        graphs.append(Graph().parse(data=app.test_client().get("/export.nt").get_data(), format="nt"))
        close_app(app)
    assert any(isinstance(s, BNode) for s in graphs[0].subjects())  # the SHACL report, among others
    assert len(graphs[0]) > 1000 and isomorphic(graphs[0], graphs[1])


def test_failed_verification_keeps_the_previous_build(bulk_spec, server, virtuoso, monkeypatch):
    before = open_store(bulk_spec).manifest["build"]

    def broken(client, staging, expected):
        raise RemoteQueryError("injected: the server lost data")
    monkeypatch.setattr(remote_build, "_verify", broken)
    with pytest.raises(RemoteQueryError, match="injected"):
        build(Config.from_mapping({"store": bulk_spec}))
    assert open_store(bulk_spec).manifest["build"] == before
    assert staging_left(server) == [] and loader_files(virtuoso) == []


def test_loaders_start_on_the_first_files_while_the_rest_is_written(store, bulk_spec, server, virtuoso, monkeypatch):
    """Files are listed for the loaders as each is whole; a loader that found the list empty before the next file
    came is started again, and every file is loaded (the build verifies every graph's count)."""
    events: list[str] = []
    write, run = bulk_files.write, BulkLoader._isql

    def slow_part(out, *args):  # ~0.3 s a file: the loaders run dry between files
        time.sleep(0.3)
        part(out, *args)
    part = bulk_files._write_part
    monkeypatch.setattr(bulk_files, "_write_part", slow_part)
    monkeypatch.setattr(bulk_files, "write", lambda *args: (events.append("writing"), write(*args),
                                                            events.append("written"))[1])
    monkeypatch.setattr(BulkLoader, "_isql", lambda self, script, what: (
        events.append("loader") if script == "rdf_loader_run();\n" else None, run(self, script, what))[1])
    monkeypatch.setattr(remote_build, "_unchanged", lambda *args: set())  # every named graph loaded again
    build(Config.from_mapping({"store": bulk_spec}))
    assert events.index("loader") < events.index("written")
    assert events.count("loader") > bulk_module.LOADERS + 1  # started again after running dry, and a last pass
    after = open_store(bulk_spec)
    assert (after.manifest["graphs"], after.triple_count) == (store.manifest["graphs"], store.triple_count)
    assert staging_left(server) == [] and loader_files(virtuoso) == []


def test_a_source_with_no_triples_builds(store, bulk_spec, server, virtuoso, tmp_path):
    """Its graph's file is empty: listed and loaded like any other, its graph counted with 0 triples."""
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    (data / "ref-empty.ttl").write_text("@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n", encoding="utf-8")
    try:
        build(Config.from_mapping({"store": bulk_spec, "data_dirs": [data]}))
        built = open_store(bulk_spec)
        assert [n for g, n in built.manifest["graphs"].items() if g.endswith("/ref-empty")] == [0]
        assert built.triple_count == store.triple_count
    finally:
        build(Config.from_mapping({"store": bulk_spec}))  # the shipped data again, for the tests after this one
    assert staging_left(server) == [] and loader_files(virtuoso) == []


DEADLOCKED = {  # a file of each kind, as the load list names it
    "graph": "ll_file LIKE '%/kgapp-%-2-0000.nt'",  # the ontology's graph: blank nodes
    "union": "ll_file = (SELECT TOP 1 ll_file FROM DB.DBA.load_list WHERE ll_file LIKE '%/kgapp-%-1-%')",
    "blank": "ll_file LIKE '%/kgapp-%-0-union.nt'",
}


@pytest.mark.parametrize("kind", DEADLOCKED)
def test_a_file_whose_load_deadlocked_is_loaded_again_unless_it_has_the_unions_blank_nodes(
        store, bulk_spec, server, virtuoso, monkeypatch, kind):
    """Virtuoso's ld_file records a deadlock between two loaders as the file's error, without retrying, and keeps
    the rows it loaded: a named graph's file is loaded again into its emptied graph, a union's file without blank
    nodes as it is; the union's file of blank nodes fails the build (loaded twice, its blank nodes would double)."""
    before = open_store(bulk_spec).manifest["build"]
    run, injected = BulkLoader._isql, []

    def deadlocking(self, script: str, what: str) -> str:
        if script.startswith("rdf_loader_run();\nSELECT") and not injected:  # the loaders are done: one file failed
            injected.append(run(self, f"UPDATE DB.DBA.load_list SET ll_error = '40001 injected deadlock' "
                                      f"WHERE {DEADLOCKED[kind]} AND ll_state = 2;\n", "injecting"))
        return run(self, script, what)
    monkeypatch.setattr(BulkLoader, "_isql", deadlocking)
    monkeypatch.setattr(remote_build, "_unchanged", lambda *args: set())  # every named graph loaded again
    if kind == "blank":
        with pytest.raises(RemoteQueryError, match="0-union.nt 40001 injected deadlock"):
            build(Config.from_mapping({"store": bulk_spec}))
        assert open_store(bulk_spec).manifest["build"] == before
    else:
        build(Config.from_mapping({"store": bulk_spec}))
        after = open_store(bulk_spec)
        assert after.manifest["build"] != before
        assert (after.manifest["graphs"], after.triple_count) == (store.manifest["graphs"], store.triple_count)
    assert injected and staging_left(server) == [] and loader_files(virtuoso) == []


@pytest.mark.parametrize("broken", ["a file the loader cannot parse", "no SQL server"])
def test_a_failing_loader_keeps_the_previous_build(bulk_spec, server, virtuoso, monkeypatch, broken):
    from ports import free_port

    before = open_store(bulk_spec).manifest["build"]
    if broken == "no SQL server":
        monkeypatch.setenv(ISQL_ENV, str(free_port()))
    else:
        monkeypatch.setattr(bulk_files, "_write_part", lambda out, *args: out.write(b"<urn:s> <urn:p> .\n"))
    with pytest.raises(RemoteQueryError, match="bulk loader failed") as failure:
        build(Config.from_mapping({"store": bulk_spec}))
    assert os.environ["KGAPP_STORE_PASSWORD"] not in str(failure.value).replace("loader", "")
    after = open_store(bulk_spec)
    assert after.manifest["build"] == before
    assert answer(after, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0][0][1].startswith(f'"{after.triple_count}"')
    assert staging_left(server) == [] and loader_files(virtuoso) == []


def test_a_failed_swap_rolls_back_and_keeps_the_previous_build(bulk_spec, server, virtuoso, monkeypatch, tmp_path):
    """The swap is one transaction: a failure after some graphs were already replaced undoes all of them."""
    data = tmp_path / "data"  # one graph more than the build served: a swap not undone would leave it
    shutil.copytree(resource_dir("data"), data)
    shutil.copy(data / "ref-nerves.ttl", data / "extra-nerves.ttl")
    before = open_store(bulk_spec)
    counts = answer(before, "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g")
    delete = bulk_module._delete

    def failing(graph: str) -> str:  # the manifest is replaced after every data graph
        return "signal ('KGAPP', 'injected swap failure');" if graph == MANIFEST_GRAPH else delete(graph)
    monkeypatch.setattr(bulk_module, "_delete", failing)
    with pytest.raises(RemoteQueryError, match="injected swap failure"):
        build(Config.from_mapping({"store": bulk_spec, "data_dirs": [data]}))
    after = open_store(bulk_spec)
    assert after.manifest["build"] == before.manifest["build"]
    assert answer(after, "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g") == counts
    assert answer(after, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0][0][1].startswith(f'"{after.triple_count}"')
    assert staging_left(server) == [] and loader_files(virtuoso) == []


def test_a_first_build_loads_straight_into_the_served_graphs(store, bulk_spec, server, virtuoso, monkeypatch):
    assert_loaded_in_place(bulk_spec, server, store, monkeypatch, (BulkLoader, "load"), (BulkLoader, "swap"))
    assert staging_left(server) == [] and loader_files(virtuoso) == []


def test_a_killed_first_build_serves_nothing_and_the_next_drops_what_it_loaded(store, bulk_spec, server, monkeypatch):
    assert_a_killed_one_is_dropped_by_the_next(bulk_spec, server, store, monkeypatch, (BulkLoader, "load"),
                                               (BulkLoader, "swap"))
    assert staging_left(server) == []


def test_a_killed_build_is_cleaned_up_by_the_next(bulk_spec, server, monkeypatch):
    def killed(self, *args):
        server.update(f"INSERT DATA {{ GRAPH <{next(iter(args[-1].values()))}> {{ <urn:s> <urn:p> 1 }} }}")
        raise KeyboardInterrupt  # the process dies mid-load: no chance to clean up
    monkeypatch.setattr(BulkLoader, "load", killed)
    monkeypatch.setattr(remote_build, "_drop_staging", lambda *args: None)
    with pytest.raises(KeyboardInterrupt):
        build(Config.from_mapping({"store": bulk_spec}))
    assert staging_left(server)
    monkeypatch.undo()
    build(Config.from_mapping({"store": bulk_spec}))
    assert staging_left(server) == []


def test_readers_see_the_old_build_or_the_new_one_during_the_swap(bulk_spec, monkeypatch, tmp_path):
    """The swap is held open a moment after a graph's old quads are deleted; a reader polling through
    kgapp meanwhile sees the old build or the new one, never a mix (Virtuoso itself reads at read
    committed: a raw reader did catch a union of 3,431 of its 4,025 quads as the swap committed)."""
    delete = bulk_module._delete
    monkeypatch.setattr(bulk_module, "_delete", lambda graph: delete(graph) + (" delay (2);" if graph == EXTRA else ""))
    assert_old_or_new(bulk_spec, tmp_path, monkeypatch)


def test_a_reader_that_knew_the_old_build_is_answered_by_the_new(bulk_spec, tmp_path):
    assert_a_reader_that_knew_the_old_build_is_answered_by_the_new(bulk_spec, tmp_path)



@pytest.mark.parametrize("scenario", BULK_SCENARIOS, ids=lambda f: f.__name__)
def test_a_rebuild(scenario, store, bulk_spec, server, monkeypatch, tmp_path):
    scenario(RemotePath(bulk_spec, server, (BulkLoader, "load"), (BulkLoader, "swap")), store, monkeypatch, tmp_path)


def test_a_rebuild_survives_the_server_killed_the_moment_it_returns(tmp_path, monkeypatch):
    """Nothing of a finished build lives only in the server's memory (the loader and the swap keep no transaction
    log): Virtuoso killed (SIGKILL) as a rebuild returns comes back serving that build, whole, and nothing else."""
    from virtuoso import PASSWORD, USER, Virtuoso

    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    with Virtuoso(tmp_path / "virtuoso") as server:
        for name, value in (("KGAPP_STORE_USER", USER), ("KGAPP_STORE_PASSWORD", PASSWORD),
                            ("XDG_DATA_HOME", str(tmp_path / "xdg")), (DIR_ENV, str(server.folder)),
                            (ISQL_ENV, str(server.sql_port))):
            monkeypatch.setenv(name, value)
        spec = f"sparql:{server.auth_url}"
        build(Config.from_mapping({"store": spec, "data_dirs": [data]}))
        (data / "zz-extra.ttl").write_text('<urn:kgapp:test:s> <urn:kgapp:test:p> "a later build" .\n', encoding="utf-8")
        build(Config.from_mapping({"store": spec, "data_dirs": [data]}))  # through staging graphs and the swap
        built = open_store(spec)
        expected = (built.manifest["build"], built.triple_count, graph_counts(built))
        server.crash_and_restart()  # recovery from its files alone
        after = open_store(spec)
        assert (after.manifest["build"], after.triple_count, graph_counts(after)) == expected
        assert answer(after, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0][0][1].startswith(f'"{expected[1]}"')
        assert staging_left(SparqlClient(Config.from_mapping({"store": spec}).store, 30)) == []
