"""A rebuild on either remote path loads only the named graphs whose inputs changed or that were altered on the server."""

from __future__ import annotations

import shutil
from pathlib import Path

from kgapp.build import build
from kgapp.config import Config
from kgapp.namespaces import INFERRED_GRAPH, VALIDATION_GRAPH
from kgapp.sources import graph_for, resource_dir
from kgapp.store import open_store
from kgapp.store.remote.graphs import UNION_GRAPH

GRAPH_COUNTS = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def _loaded(spec: str, monkeypatch, loader: tuple[object, str], data: Path | None = None) -> set[str]:
    """Build, and say which graphs ``loader`` (its last argument: graph → target) was handed."""
    seen: set[str] = set()
    load = getattr(*loader)
    monkeypatch.setattr(*loader, lambda *args: (seen.update(args[-1]), load(*args))[1])
    build(Config.from_mapping({"store": spec, **({"data_dirs": [data]} if data else {})}))
    monkeypatch.setattr(*loader, load)
    return seen


def _graph_counts(store) -> dict[str, int]:
    return {r["g"].value: int(r["n"].value) for r in store.query(GRAPH_COUNTS)}


def assert_a_changed_file_reloads_only_its_graphs(spec: str, store, monkeypatch, tmp_path: Path,
                                                  loader: tuple[object, str]) -> None:
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    assert _loaded(spec, monkeypatch, loader, data) == {UNION_GRAPH}  # the same files: every named graph kept
    with open(data / "ref-nerves.ttl", "a", encoding="utf-8") as f:
        f.write("# the same triples, other bytes\n")
    before = open_store(spec).manifest
    loaded = _loaded(spec, monkeypatch, loader, data)
    changed = str(graph_for(data / "ref-nerves.ttl"))
    assert loaded == {changed, str(INFERRED_GRAPH), str(VALIDATION_GRAPH), UNION_GRAPH}
    after = open_store(spec)
    assert after.manifest["build"] != before["build"]
    assert {g for g, k in after.manifest["graph_keys"].items() if before["graph_keys"][g] != k} == {
        changed, str(INFERRED_GRAPH), str(VALIDATION_GRAPH)}
    assert _graph_counts(after) == _graph_counts(store) and after.triple_count == store.triple_count


def assert_a_graph_altered_on_the_server_is_loaded_again(spec: str, server, store, monkeypatch,
                                                          loader: tuple[object, str]) -> None:
    graph = str(graph_for(Path("ref-nerves.ttl")))
    _loaded(spec, monkeypatch, loader)  # the shipped data served, whatever an earlier test left
    server.update(f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    assert graph not in _graph_counts(open_store(spec))
    assert _loaded(spec, monkeypatch, loader) == {graph, UNION_GRAPH}
    assert _graph_counts(open_store(spec)) == _graph_counts(store)
