"""Blank nodes: a label names one node within its file (two files' ``_:b`` stay two nodes in the build), every
parse of a file gives the same ids, so what is inferred about a blank node is about the node the store holds."""

from __future__ import annotations

import shutil

import pyoxigraph as ox
from rdflib import URIRef

from kgapp.build import build
from kgapp.config import Config
from kgapp.sources import SourceFile, parse_quads, resource_dir
from kgapp.store import open_store

TEXT = """@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
_:b rdfs:comment "{name}, first" .
_:b rdfs:comment "{name}, second" .
[] rdfs:comment "{name}, anonymous" .
"""


def _file(folder, name):
    path = folder / f"{name}.ttl"
    path.write_text(TEXT.format(name=name))
    return SourceFile(path, URIRef(f"https://w3id.org/kgapp/graph/{name}"), "data")


def test_labels_are_scoped_to_their_file(tmp_path):
    a, b = (parse_quads(_file(tmp_path, n), ox.NamedNode(f"http://g/{n}")) for n in ("a", "b"))
    assert a[0].subject == a[1].subject  # the same label in one file: one node
    assert a[0].subject != b[0].subject  # the same label in two files: two nodes
    assert len({q.subject for q in a + b}) == 4
    again = parse_quads(_file(tmp_path, "a"), ox.NamedNode("http://g/a"))
    assert again == a  # every parse of a file gives the same ids
    salted = parse_quads(_file(tmp_path, "a"), ox.NamedNode("http://g/a"), salt="stored")
    assert [q.object for q in salted] == [q.object for q in a] and salted[0].subject != a[0].subject


def test_a_build_keeps_two_files_blank_nodes_apart(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    for name in ("zz-notes-a", "zz-notes-b"):
        _file(data, name)
    build(Config(store=tmp_path / "store", data_dirs=(data,)))
    rows = list(open_store(tmp_path / "store").query(
        'SELECT ?s (GROUP_CONCAT(?c; separator="|") AS ?cs) WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#comment> '
        '?c FILTER(isBlank(?s) && CONTAINS(?c, "zz-notes")) } GROUP BY ?s'))
    groups = sorted(sorted(r["cs"].value.split("|")) for r in rows)
    assert groups == [["zz-notes-a, anonymous"], ["zz-notes-a, first", "zz-notes-a, second"],
                      ["zz-notes-b, anonymous"], ["zz-notes-b, first", "zz-notes-b, second"]]


GUIDANCE = """@prefix kg: <https://w3id.org/kgapp/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
_:g rdfs:comment "zz blank guidance" ; kg:modifier <https://w3id.org/kgapp/id/modifier/50> .
[] rdfs:comment "zz anonymous guidance" ; kg:modifier <https://w3id.org/kgapp/id/modifier/51> .
"""


def test_what_is_inferred_about_a_blank_node_is_about_the_stored_node(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    (data / "zz-guidance.ttl").write_text(GUIDANCE)
    config = Config(store=tmp_path / "store", data_dirs=(data,))
    for _ in ("the two-process build", "a rebuild from the cached reasoning"):
        build(config)
        rows = list(open_store(tmp_path / "store").query(
            'SELECT ?c WHERE { GRAPH <https://w3id.org/kgapp/graph/zz-guidance> { ?g rdfs:comment ?c } '
            'GRAPH <https://w3id.org/kgapp/graph/inferred> { ?g a <https://w3id.org/kgapp/ontology#ModifierGuidance> } }',
            prefixes={"rdfs": "http://www.w3.org/2000/01/rdf-schema#"}))
        assert sorted(r["c"].value for r in rows) == ["zz anonymous guidance", "zz blank guidance"]
