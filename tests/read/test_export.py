"""Exports: every format from web and CLI gives the same bytes, round-trips to the store, and parses elsewhere."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from exported import assert_same_graphs, expected_graph, expected_graphs
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from kgapp.cli import main
from kgapp.export import stream, stream_export, write_export
from kgapp.formats import RDF_FORMATS

RDFLIB_NAMES = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml", "trig": "trig",
                "nquads": "nquads"}
RAPPER = shutil.which("rapper") or "/usr/bin/rapper"
RAPPER_NAMES = {"turtle": "turtle", "ntriples": "ntriples", "rdfxml": "rdfxml", "trig": "trig", "nquads": "nquads"}
CASES = [(f, inferred) for f in RDF_FORMATS for inferred in (False, True)]
IDS = [f"{f.name}{'-inferred' if i else ''}" for f, i in CASES]


def exported(store, fmt: str, inferred: bool) -> bytes:
    buffer = io.BytesIO()
    write_export(store, fmt, buffer, inferred=inferred)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def exports(store):
    return {(f.name, i): exported(store, f.name, i) for f, i in CASES}


@pytest.mark.parametrize("fmt,inferred", CASES, ids=IDS)
def test_web_export_bytes_equal_the_library_and_cli(client, store, store_path, exports, fmt, inferred):
    url = f"/export.{fmt.extension}" + ("?inferred=true" if inferred else "")
    r = client.get(url)
    assert r.status_code == 200
    assert r.is_streamed
    assert r.content_type == fmt.content_type
    name = f"kgapp{'-inferred' if inferred else ''}.{fmt.extension}"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert r.data == exports[(fmt.name, inferred)]
    args = ["export", "--format", fmt.name, "--store", str(store_path)] + (["--inferred"] if inferred else [])
    cli = CliRunner().invoke(main, args)
    assert cli.exit_code == 0, cli.output
    assert cli.stdout_bytes == r.data


@pytest.mark.parametrize("fmt,inferred", CASES, ids=IDS)
def test_export_round_trips_to_what_the_store_holds(store, exports, fmt, inferred):
    data = exports[(fmt.name, inferred)]
    if fmt.kind == "dataset":
        assert_same_graphs(data, RDFLIB_NAMES[fmt.name], expected_graphs(store, inferred))
    else:
        g = Graph().parse(data=data, format=RDFLIB_NAMES[fmt.name])
        assert isomorphic(g, expected_graph(store, inferred))


@pytest.mark.parametrize("fmt,inferred", CASES, ids=IDS)
def test_export_parses_with_oxigraph(store, exports, fmt, inferred):
    parsed = list(ox.parse(exports[(fmt.name, inferred)], fmt.ox_rdf))
    if fmt.kind == "dataset":
        assert len(parsed) == sum(len(g) for g in expected_graphs(store, inferred).values())
    else:
        assert len(parsed) == len(expected_graph(store, inferred))


@pytest.mark.parametrize("name", sorted(RAPPER_NAMES))
def test_export_parses_with_raptor(store, exports, tmp_path, name):
    if not os.path.exists(RAPPER):
        if os.environ.get("CI"):
            pytest.fail("rapper (raptor2-utils) is missing in CI")
        pytest.skip("rapper not installed (apt-get install raptor2-utils)")
    path = tmp_path / f"export.{name}"
    path.write_bytes(exports[(name, False)])
    done = subprocess.run([RAPPER, "-c", "-i", RAPPER_NAMES[name], str(path)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    count = int(done.stderr.rsplit("returned ", 1)[1].split()[0])
    fmt = next(f for f in RDF_FORMATS if f.name == name)
    expected = (sum(len(g) for g in expected_graphs(store, False).values()) if fmt.kind == "dataset"
                else len(expected_graph(store, False)))
    assert count == expected


def test_turtle_is_readable(exports):
    text = exports[("turtle", False)].decode("utf-8")
    assert "@prefix cpt: <https://w3id.org/kgapp/id/code/cpt/> ." in text
    assert "cpt:64868 " in text and "kg:donorNerve nerve:hypoglossal" in text
    assert "\\/" not in text  # no escaped slashes from a too-short prefix


def test_inferred_export_adds_the_reasoners_triples(exports):
    asserted = Graph().parse(data=exports[("ntriples", False)], format="nt")
    both = Graph().parse(data=exports[("ntriples", True)], format="nt")
    code = URIRef("https://w3id.org/kgapp/id/code/cpt/64868")
    involves = URIRef("https://w3id.org/kgapp/ontology#involvesNerve")
    assert (code, involves, None) not in asserted and (code, involves, None) in both
    assert len(both) > len(asserted)


def test_export_streams_in_chunks_and_stops_when_the_reader_leaves(store):
    chunks = list(stream_export(store, "nquads", inferred=True))
    assert len(chunks) > 1 and b"".join(chunks) == exported(store, "nquads", True)
    partial = stream_export(store, "nquads", inferred=True)
    next(partial)
    partial.close()
    for t in threading.enumerate():
        if t.name == "kgapp-export":
            t.join(timeout=30)
            assert not t.is_alive()


def test_a_failing_writer_surfaces_its_error():
    def broken(out):
        out.write(b"x")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(stream(broken))


@pytest.mark.parametrize("url", ["/export.exe", "/export.html", "/export.srj", "/export."])
def test_unknown_export_formats_are_404(client, url):
    assert client.get(url).status_code == 404


def test_write_export_rejects_unknown_format(store):
    with pytest.raises(ValueError):
        write_export(store, "csv", io.BytesIO())


@pytest.fixture()
def fresh_store(tmp_path):
    from kgapp.build import build
    from kgapp.config import Config
    from kgapp.store import open_store

    build(Config(store=tmp_path / "s"))
    return open_store(tmp_path / "s")


@pytest.fixture()
def older_build(fresh_store):
    """A build as made before builds wrote their export files: exports are serialised from the store."""
    shutil.rmtree(fresh_store.folder / "exports")
    return fresh_store


def test_an_export_is_cached_in_the_build_and_served_from_there(older_build):
    first = io.BytesIO()
    write_export(older_build, "turtle", first)
    cached = older_build.folder / "exports" / "kgapp.ttl"
    assert cached.read_bytes() == first.getvalue()
    cached.write_bytes(first.getvalue() + b"# served from the cache\n")  # prove the second one reads it
    second = io.BytesIO()
    write_export(older_build, "turtle", second)
    assert second.getvalue().endswith(b"# served from the cache\n")


def test_an_interrupted_export_leaves_no_cache(older_build):
    class Failing(io.RawIOBase):
        written = 0

        def writable(self):
            return True

        def write(self, data):
            Failing.written += len(data)
            if Failing.written > 1000:
                raise BrokenPipeError("client went away")
            return len(data)

    with pytest.raises(BrokenPipeError):
        write_export(older_build, "ntriples", io.BufferedWriter(Failing(), 256), inferred=True)
    assert list((older_build.folder / "exports").iterdir()) == []


def test_a_read_only_build_still_exports(older_build, monkeypatch):
    import tempfile

    def refuse(*a, **k):
        raise PermissionError("read-only")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    out = io.BytesIO()
    write_export(older_build, "nquads", out)
    assert out.getvalue().count(b"\n") > 1000
    assert not (older_build.folder / "exports" / "kgapp.nq").exists()


@pytest.mark.parametrize("inferred", [False, True])
def test_native_nquads_are_the_bytes_of_the_quad_by_quad_path(store, inferred):
    """N-Quads are dumped natively graph by graph; the slow path (every quad through Python) gives the same bytes."""
    from kgapp.export import writer
    from kgapp.formats import by_name

    fmt = by_name("nquads")
    slow = io.BytesIO(writer.rights_header(fmt))
    slow.seek(0, io.SEEK_END)
    writer.serialize_rdf(writer._quads(store, writer.exported_graphs(store, inferred)), fmt, slow)
    fast = io.BytesIO()
    writer._serialise(store, fmt, fast, inferred)
    assert fast.getvalue() == slow.getvalue() and len(slow.getvalue()) > 100_000


@pytest.mark.parametrize("fmt,inferred", CASES, ids=IDS)
def test_the_builds_export_files_hold_what_the_store_serialises(store, exports, fmt, inferred):
    """The files the build wrote (what every export now copies) against the path that reads the store."""
    from kgapp.export import writer

    slow = io.BytesIO()
    writer._serialise(store, fmt, slow, inferred)
    assert slow.getvalue().startswith(writer.rights_header(fmt)) and exports[(fmt.name, inferred)].startswith(
        writer.rights_header(fmt))
    if fmt.kind == "dataset":
        got, want = Dataset(), Dataset()
        got.parse(data=exports[(fmt.name, inferred)], format=RDFLIB_NAMES[fmt.name])
        want.parse(data=slow.getvalue(), format=RDFLIB_NAMES[fmt.name])
        graphs = {str(c.identifier): c for c in want.graphs() if len(c)}
        assert {str(c.identifier) for c in got.graphs() if len(c)} == set(graphs)
        for c in got.graphs():
            if len(c):
                assert isomorphic(c, graphs[str(c.identifier)])
    else:
        got = Graph().parse(data=exports[(fmt.name, inferred)], format=RDFLIB_NAMES[fmt.name])
        assert isomorphic(got, Graph().parse(data=slow.getvalue(), format=RDFLIB_NAMES[fmt.name]))


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "trig", "nquads"])
def test_text_exports_open_with_the_rights_statement(client, fmt):
    from kgapp.formats import by_name

    ext = by_name(fmt).extension
    body = client.get(f"/export.{ext}").get_data(as_text=True)
    head = [line for line in body.splitlines()[:6] if line.startswith("#")]
    assert any("American Medical Association" in line for line in head)
    assert any("not licensed by kgapp" in line for line in head)
