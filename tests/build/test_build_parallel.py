"""The two-process build gives exactly the sequential path's report, inferred triples and store."""

from __future__ import annotations

import io
import shutil
import sqlite3

import pyoxigraph as ox
import pytest
from rdflib.compare import isomorphic

from kgapp.build import build, cache, load_inputs, parallel, pipeline, validate_inputs
from kgapp.build.pipeline import all_sources
from kgapp.build.reason import infer
from kgapp.build.synth import synthesize
from kgapp.config import Config
from kgapp.export.layout import serve_prebuilt
from kgapp.formats import by_name
from kgapp.sources import resource_dir
from kgapp.store import EmbeddedStore, current_build, open_store
from kgapp.store.search_index import FILE as SEARCH_INDEX


def _keys(report):
    return [(r.severity, r.focus, r.path, r.value, r.message, r.shape, r.constraint, r.sources) for r in report.results]


def _search_rows(folder):
    with sqlite3.connect(folder / SEARCH_INDEX) as db:
        return sorted(db.execute("SELECT s, p, text FROM docs").fetchall())


def _export_file(folder, fmt, inferred):
    """The statements of the build's own export file, as Oxigraph reads them back."""
    out = io.BytesIO()
    assert serve_prebuilt(folder, by_name(fmt), inferred, out)
    return list(ox.parse(out.getvalue(), by_name(fmt).ox_rdf))


def _store_asserted_union(root, folder):
    """The triples of every named graph but the inferred one, read from the build's main store."""
    st = EmbeddedStore(root, folder)
    out = set()
    for g in st.named_graphs():
        if not g.endswith("/graph/inferred"):
            out |= {(q.subject, q.predicate, q.object) for q in st.quads(g)}
    return out


@pytest.fixture(params=["shipped", pytest.param("synthetic-1000", marks=pytest.mark.slow)])
def data(request, tmp_path):
    folder = tmp_path / "data"
    if request.param == "shipped":
        shutil.copytree(resource_dir("data"), folder)
    else:
        synthesize(1000, folder, seed=7)
    return folder


def test_parallel_build_equals_the_sequential_path(tmp_path, data):
    config = Config(store=tmp_path / "store", data_dirs=(data,))
    result = build(config)
    assert set(result.stages) >= {"load", "validate", "reason", "total"}  # it took the parallel path
    inputs = load_inputs(config)
    report, inferred = validate_inputs(inputs), infer(inputs.asserted, inputs.ontology)
    # the report: same results (with their source files), same graph
    assert _keys(result.report) == _keys(report)
    assert isomorphic(result.report.graph, report.graph)
    # the inferred triples: identical; and what the build cached is what it stored
    key = cache.inputs_key(all_sources(config), config.base_iri)
    cached_report, cached_inferred = cache.load(config.store, key)
    assert set(cached_inferred) == set(inferred) and result.inferred == len(inferred)
    assert isomorphic(cached_report, report.graph)
    # the store: a rebuild through the sequential writer (inputs unchanged: cached results) holds the same
    first = current_build(config.store)
    manifest = open_store(config.store).manifest
    build(config)
    second = current_build(config.store)
    assert second != first
    again = open_store(config.store).manifest
    for k in ("graphs", "triples", "stats", "validation", "inferred"):
        assert manifest[k] == again[k], k
    assert _search_rows(first) == _search_rows(second)
    # the export files each build wrote hold the very terms of its store: every quad of every graph,
    # and the union of every graph but the inferred one, each once
    for folder in (first, second):
        st = EmbeddedStore(config.store, folder)
        quads = _export_file(folder, "nquads", True)
        assert len(quads) == len(set(quads)) and set(quads) == {q for g in st.named_graphs() for q in st.quads(g)}
        triples = [(q.subject, q.predicate, q.object) for q in _export_file(folder, "ntriples", False)]
        assert len(triples) == len(set(triples)) and set(triples) == _store_asserted_union(config.store, folder)


def test_a_failing_validation_process_leaves_the_store_untouched(tmp_path, monkeypatch):
    root = tmp_path / "store"
    build(Config(store=root))
    before = current_build(root)
    shutil.rmtree(root / cache.FOLDER)  # no cached results: validate again

    def broken(parsed):
        raise ValueError("shapes on fire")

    monkeypatch.setattr(parallel, "_validate", broken)
    with pytest.raises(ValueError, match="shapes on fire"):
        build(Config(store=root))
    assert current_build(root) == before
    assert [d.name for d in (root / "builds").iterdir()] == [before.name]


def test_a_cached_rebuild_names_the_same_sources_without_parsing_them_again(tmp_path, data, monkeypatch):
    config = Config(store=tmp_path / "store", data_dirs=(data,))
    first = build(config)
    assert [r for r in first.report.results if r.sources]  # results to attribute to their files
    monkeypatch.setattr(pipeline, "subjects_by_source", lambda *args: pytest.fail("the sources were parsed again"))
    again = build(config)
    assert _keys(again.report) == _keys(first.report)
