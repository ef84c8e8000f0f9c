"""The bulk path's files: loaded as Virtuoso's loader loads them (each file its own blank-node scope), they give
the embedded build's graphs, and the counts read back from them are the embedded build's."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import RDF, BNode, Graph, URIRef
from rdflib.compare import isomorphic

from kgapp.build.load import to_graph
from kgapp.build.pipeline import all_sources
from kgapp.config import Config
from kgapp.namespaces import DEFAULT_BASE_IRI, INFERRED_GRAPH, VALIDATION_GRAPH
from kgapp.sources import SourceFile, parse_quads
from kgapp.store.remote import bulk_files
from kgapp.store.stats import compute
from kgapp.store.writer import fill


def _loaded(paths: list[Path]) -> Graph:
    """The files merged as a bulk loader merges them (a blank node label means one node only inside its file)
    into a store, which writes a number in its canonical form as the server does ("0.80" is 0.8)."""
    def scoped(term, i: int):
        return ox.BlankNode(f"f{i}x{term.value}") if isinstance(term, ox.BlankNode) else term
    store = ox.Store()
    store.extend(ox.Quad(scoped(t.subject, i), t.predicate, scoped(t.object, i))
                 for i, path in enumerate(paths) for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))
    return to_graph(store)


@pytest.fixture(scope="module")
def shipped(store_path, tmp_path_factory):
    """The shipped build's inputs (its inferred and validation graphs taken from the embedded build), the files
    written from them, and the embedded build's own store filled from the same inputs."""
    from kgapp.store import open_store

    store = open_store(store_path)
    graphs = [(str(g), to_graph(store.quads(str(g)))) for g in (INFERRED_GRAPH, VALIDATION_GRAPH)]
    sources = all_sources(Config())
    folder = tmp_path_factory.mktemp("bulk")
    written = bulk_files.write(folder / "kgapp-test-", sources, graphs, DEFAULT_BASE_IRI)
    memory = ox.Store()
    counted = fill(memory, sources, graphs, DEFAULT_BASE_IRI)
    return written, memory, counted


def test_the_union_files_hold_the_embedded_union(shipped):
    written, memory, _ = shipped
    union = to_graph(memory.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    assert len(union) > 1000 and any(isinstance(s, BNode) for s in union.subjects())
    assert isomorphic(_loaded(written.union), union)


def test_what_was_inferred_about_a_blank_node_is_about_the_same_node_in_the_union(tmp_path):
    source = tmp_path / "a.ttl"
    source.write_text("[] a <urn:C> ; <urn:p> <urn:x> .\n<urn:x> a <urn:C> .\n")
    data = SourceFile(source, URIRef("urn:g"), "data")
    node = next(q.subject for q in parse_quads(data, ox.NamedNode("urn:g")) if isinstance(q.subject, ox.BlankNode))
    inferred = Graph()
    inferred.add((BNode(node.value), RDF.type, URIRef("urn:D")))  # as the reasoner names it
    written = bulk_files.write(tmp_path / "t-", [data], [("urn:inferred", inferred)], DEFAULT_BASE_IRI)
    union = _loaded(written.union)
    assert len(union) == 4 and len(set(union.subjects(RDF.type, URIRef("urn:D")))) == 1
    assert set(union.subjects(RDF.type, URIRef("urn:D"))) == set(union.subjects(URIRef("urn:p"), URIRef("urn:x")))


def test_each_named_graph_file_holds_its_graph(shipped):
    written, memory, _ = shipped
    for name in (str(INFERRED_GRAPH), str(VALIDATION_GRAPH), "https://w3id.org/kgapp/graph/ontology"):
        expected = to_graph(memory.quads_for_pattern(None, None, None, ox.NamedNode(name)))
        assert len(expected) > 0 and isomorphic(_loaded([written.named[name]]), expected)


def test_counts_and_statistics_read_from_the_files_are_the_embedded_builds(shipped):
    written, memory, counted = shipped
    counts, distinct, stats = bulk_files.count(written)
    assert (counts, distinct) == counted
    assert stats == compute(memory, counted)


def test_duplicates_and_two_files_of_one_graph_are_counted_once(tmp_path):
    a, b = tmp_path / "a.ttl", tmp_path / "b.ttl"
    a.write_text("<urn:x> a <urn:C> . <urn:x> a <urn:C> . <urn:x> <urn:p> 1 .\n")
    b.write_text("<urn:x> a <urn:C> . <urn:y> a <urn:C> .\n")
    graph = "urn:g"
    sources = [SourceFile(a, URIRef(graph), "data"), SourceFile(b, URIRef(graph), "data")]
    other = Graph()
    other.add((URIRef("urn:y"), URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), URIRef("urn:C")))
    written = bulk_files.write(tmp_path / "t-", sources, [("urn:h", other)], DEFAULT_BASE_IRI)
    counts, distinct, stats = bulk_files.count(written)
    assert counts == {"urn:g": 3, "urn:h": 1} and distinct == 3
    assert stats["classes"] == {"urn:C": 2} and stats["properties"]["urn:p"] == 1 and stats["entities"] == 2
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("t-")) == [
        "t-0-union.nt", "t-1-0000.nt", "t-2-0000.nt", "t-2-0001.nt"]  # the rdflib graph's goes into 0-union


def test_one_value_in_two_lexical_forms_is_counted_as_a_store_holds_it(tmp_path):
    data = tmp_path / "a.ttl"
    data.write_text('@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n'
                    '<urn:x> <urn:p> "0.80"^^xsd:decimal, "0.8"^^xsd:decimal, "01"^^xsd:integer, "1"^^xsd:integer, '
                    '"1"^^xsd:boolean, "true"^^xsd:boolean, "0.80", "0.8", "0.8"@en .\n'
                    '_:b <urn:p> "+1"^^xsd:integer, 1 .\n')
    written = bulk_files.write(tmp_path / "t-", [SourceFile(data, URIRef("urn:g"), "data")], [], DEFAULT_BASE_IRI)
    embedded = ox.Store()
    embedded.load(path=str(data), format=ox.RdfFormat.TURTLE)
    counts, distinct, _ = bulk_files.count(written)
    assert len(embedded) == 7 and counts == {"urn:g": 7} and distinct == 7


def test_a_blank_node_keeps_its_label_through_the_canonical_form(tmp_path):
    a, b = tmp_path / "a.nt", tmp_path / "b.nt"
    a.write_text('_:n1 <urn:p> "01"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    b.write_text('_:n1 <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
                 '_:n2 <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .\n')
    written = bulk_files.GraphFiles({"urn:a": a, "urn:b": b}, [])
    counts, distinct, _ = bulk_files.count(written)
    assert counts == {"urn:a": 1, "urn:b": 2} and distinct == 2  # _:n1's triple is one triple in the union
    assert bulk_files.canonical({b"_:n1 <urn:p> 1 .\n"}, set()) == {b"_:n1 <urn:p> 1 .\n"}
