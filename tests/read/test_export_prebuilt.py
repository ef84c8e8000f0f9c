"""The export files a build writes: what every export serves, the store's content, and never half written."""

from __future__ import annotations

import io
import shutil

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from exported import assert_same_graphs, expected_graph, expected_graphs
from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic

from kgapp.build import build, cache
from kgapp.build.load import parse_sources
from kgapp.build.pipeline import all_sources
from kgapp.cli import main
from kgapp.config import Config
from kgapp.export import prebuilt, write_export
from kgapp.export.layout import CLOSING, EXPORTS, file_name, inferred_part_name, serve_prebuilt
from kgapp.formats import RDF_FORMATS, by_name
from kgapp.sources import resource_dir
from kgapp.store import current_build, open_store
from kgapp.web import close_app, create_app

RDFLIB_NAMES = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "trig": "trig",
                "nquads": "nquads"}
CASES = [(f, inferred) for f in RDF_FORMATS for inferred in (False, True)]
IDS = [f"{f.name}{'-inferred' if i else ''}" for f, i in CASES]

# Typed literals the store keeps as values (so gives back in another spelling), one stated twice in
# two spellings, and a file with blank nodes (loaded from its parsed quads rather than natively).
EXTRA = """@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
ex:thing ex:count "+5"^^xsd:int , "007"^^xsd:integer ; ex:share "0.10"^^xsd:decimal , "0.1"^^xsd:decimal ;
    ex:flag "1"^^xsd:boolean ; ex:when "2020-01-01T10:00:00.50Z"^^xsd:dateTime .
"""
BLANK = """@prefix ex: <http://example.org/> .
ex:thing ex:part [ ex:size "2.50"^^<http://www.w3.org/2001/XMLSchema#decimal> ; ex:name "left" ] .
"""


def export(store, f, inferred: bool) -> bytes:
    out = io.BytesIO()
    write_export(store, f.name, out, inferred=inferred)
    return out.getvalue()


def the_files(folder, f, inferred: bool) -> bytes:
    """The bytes an export must be: the asserted file, and for --inferred the inferred part spliced in."""
    head = (folder / EXPORTS / file_name(f)).read_bytes()
    if not inferred:
        return head
    closing = CLOSING.get(f.name, b"")
    return head[:len(head) - len(closing)] + (folder / EXPORTS / inferred_part_name(f)).read_bytes() + closing


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A build of the shipped data plus EXTRA and BLANK."""
    tmp = tmp_path_factory.mktemp("prebuilt")
    data = tmp / "data"
    shutil.copytree(resource_dir("data"), data)
    (data / "extra-literals.ttl").write_text(EXTRA, encoding="utf-8")
    (data / "extra-blank.ttl").write_text(BLANK, encoding="utf-8")
    build(Config(store=tmp / "store", data_dirs=(data,)))
    return tmp / "store"


@pytest.fixture(scope="module")
def built(root):
    return open_store(root)


@pytest.mark.parametrize("fmt,inferred", CASES, ids=IDS)
def test_every_export_is_the_builds_file(built, fmt, inferred):
    assert export(built, fmt, inferred) == the_files(built.folder, fmt, inferred)
    assert not list((built.folder / EXPORTS).glob(".partial-*"))


@pytest.mark.parametrize("fmt,inferred", CASES, ids=IDS)
def test_the_files_hold_what_the_store_holds(built, fmt, inferred):
    data = the_files(built.folder, fmt, inferred)
    if fmt.kind == "dataset":
        want = expected_graphs(built, inferred)
        assert_same_graphs(data, RDFLIB_NAMES[fmt.name], want)
        assert len(list(ox.parse(data, fmt.ox_rdf))) == sum(len(g) for g in want.values())  # each quad once
    else:
        got, want = Graph().parse(data=data, format=RDFLIB_NAMES[fmt.name]), expected_graph(built, inferred)
        _, only_file, only_store = graph_diff(to_isomorphic(got), to_isomorphic(want))
        assert (sorted(only_file), sorted(only_store)) == ([], [])
        assert len(list(ox.parse(data, fmt.ox_rdf))) == len(want)  # each triple once


def test_typed_literals_are_spelled_as_the_store_gives_them(built):
    text = the_files(built.folder, by_name("turtle"), False).decode()
    lines = the_files(built.folder, by_name("ntriples"), False).decode()
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert f'<http://example.org/thing> <http://example.org/count> "5"^^<{xsd}integer> .' in lines
    assert f'<http://example.org/thing> <http://example.org/count> "7"^^<{xsd}integer> .' in lines
    assert lines.count("<http://example.org/thing> <http://example.org/share> ") == 1  # 0.10 and 0.1: one value
    assert f'"0.1"^^<{xsd}decimal>' in lines and f'"true"^^<{xsd}boolean>' in lines
    assert "0.10" not in lines.split("example.org/share", 1)[1].split("\n", 1)[0]
    assert "cpt:64868 " in text and "+5" not in text


def test_web_and_cli_copy_the_builds_files(root, built):
    """Changing a file shows in both: they serve it rather than serialising the store."""
    nt = by_name("ntriples")
    part = built.folder / EXPORTS / inferred_part_name(nt)
    original = part.read_bytes()
    marker = b'<http://example.org/marker> <http://example.org/p> "from the file" .\n'
    part.write_bytes(original + marker)
    try:
        app = create_app({"store": root, "testing": True})
        try:
            web = app.test_client().get("/export.nt?inferred=true").data
        finally:
            close_app(app)
        cli = CliRunner().invoke(main, ["export", "--format", "ntriples", "--inferred", "--store", str(root)])
        assert cli.exit_code == 0, cli.output
        assert web == cli.stdout_bytes == the_files(built.folder, nt, True)
        assert web.endswith(marker) and marker not in export(built, nt, False)
    finally:
        part.write_bytes(original)


def test_unfinished_export_files_are_never_served(tmp_path):
    """Until a build finishes them, its export files have .partial- names, which nothing serves."""
    sources = all_sources(Config.from_mapping())
    exports = prebuilt.BuildExports(tmp_path, "https://w3id.org/kgapp/id/")
    exports.write_sources(parse_sources(sources))
    names = [p.name for p in (tmp_path / EXPORTS).iterdir()]
    assert len(names) == len(RDF_FORMATS) and all(n.startswith(".partial-") for n in names)
    for f, inferred in CASES:
        assert not serve_prebuilt(tmp_path, f, inferred, io.BytesIO())


@pytest.mark.parametrize("path", ["parallel", "sequential"])
def test_a_build_that_stops_while_writing_exports_changes_nothing(tmp_path, monkeypatch, path):
    root = tmp_path / "store"
    build(Config(store=root))
    before = current_build(root)
    served = {(f.name, i): export(open_store(root), f, i) for f, i in CASES}
    if path == "parallel":
        shutil.rmtree(root / cache.FOLDER)  # no cached results: the two-process build runs again
    calls = []

    def broken(*args):
        calls.append(args)
        if len(calls) == 3:  # half way through adding the validation graph to the files
            raise OSError("disk full")
        return real(*args)

    real = prebuilt._append
    monkeypatch.setattr(prebuilt, "_append", broken)
    with pytest.raises(OSError, match="disk full"):
        build(Config(store=root))
    assert len(calls) == 3
    assert current_build(root) == before
    assert [d.name for d in (root / "builds").iterdir()] == [before.name]
    assert {(f.name, i): export(open_store(root), f, i) for f, i in CASES} == served
