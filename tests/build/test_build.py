"""Builds are atomic: bad input or a crash half-way leaves the previous store serving unchanged."""

from __future__ import annotations

import json
import shutil

import pytest

from kgapp.build import BuildRejected, build
from kgapp.config import Config
from kgapp.namespaces import INFERRED_GRAPH, VALIDATION_GRAPH
from kgapp.sources import SourceError, resource_dir
from kgapp.store import StoreUnavailable, current_build, open_store
from kgapp.store import writer as store_module


@pytest.fixture()
def data_copy(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    return data


@pytest.fixture()
def built(tmp_path, data_copy):
    root = tmp_path / "store"
    build(Config(store=root, data_dirs=(data_copy,)))
    return root


def count(root) -> int:
    return int(next(iter(open_store(root).query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))["n"].value)


def test_build_writes_graphs_manifest_and_current_link(store_path):
    st = open_store(store_path)
    graphs = st.named_graphs()
    assert str(INFERRED_GRAPH) in graphs and str(VALIDATION_GRAPH) in graphs
    assert "https://w3id.org/kgapp/graph/seed-000-64868" in graphs
    assert "https://w3id.org/kgapp/graph/ontology" in graphs
    assert st.manifest["validation"] == {"violations": 0, "warnings": 6}
    assert st.triple_count == count(store_path)


def test_default_graph_is_a_merge_not_a_bag(store):
    # The payer label is stated by four seed graphs but is one triple of the default graph.
    q = 'SELECT (COUNT(*) AS ?n) { <https://w3id.org/kgapp/id/payer/aetna> <http://www.w3.org/2000/01/rdf-schema#label> ?l }'
    assert next(iter(store.query(q)))["n"].value == "1"
    q = ('SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { <https://w3id.org/kgapp/id/payer/aetna> '
         '<http://www.w3.org/2000/01/rdf-schema#label> ?l } }')
    assert next(iter(store.query(q)))["n"].value == "4"


def test_inferred_triples_live_only_in_the_inferred_graph(store):
    q = """ASK { GRAPH <https://w3id.org/kgapp/graph/inferred> {
        <https://w3id.org/kgapp/id/code/cpt/64868> <https://w3id.org/kgapp/ontology#involvesNerve>
        <https://w3id.org/kgapp/id/nerve/hypoglossal> } }"""
    assert bool(store.query(q))
    q = """ASK { GRAPH ?g { ?c <https://w3id.org/kgapp/ontology#involvesNerve> ?n }
              FILTER (?g != <https://w3id.org/kgapp/graph/inferred>) }"""
    assert not bool(store.query(q))


def test_syntax_error_names_file_and_line_and_keeps_store(built, data_copy):
    before = current_build(built)
    bad = data_copy / "seed-002-64864.ttl"
    lines = bad.read_text(encoding="utf-8").splitlines()
    lines[40] = lines[40] + ' "unterminated'
    bad.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError) as err:
        build(Config(store=built, data_dirs=(data_copy,)))
    assert err.value.path == bad and err.value.line == 41
    assert "seed-002-64864.ttl, line 41" in str(err.value)
    assert current_build(built) == before


def test_violation_rejects_build_and_keeps_store(built, data_copy):
    before = current_build(built)
    p = data_copy / "seed-000-64868.ttl"
    p.write_text(p.read_text(encoding="utf-8").replace("kg:donorNerve nerve:hypoglossal", "kg:donorNerve payer:aetna"),
                 encoding="utf-8")
    with pytest.raises(BuildRejected) as err:
        build(Config(store=built, data_dirs=(data_copy,)))
    assert "donor nerve must be a kg:Nerve" in err.value.report.as_text()
    assert current_build(built) == before
    assert len(list((built / "builds").iterdir())) == 1


def test_crash_half_way_keeps_store(built, data_copy, monkeypatch):
    before = current_build(built)
    triples_before = count(built)

    def exploding(graph, name):
        yield from []
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(store_module, "graph_quads", exploding)
    with pytest.raises(RuntimeError, match="disk on fire"):
        build(Config(store=built, data_dirs=(data_copy,)))
    assert current_build(built) == before
    assert count(built) == triples_before
    assert [d.name for d in (built / "builds").iterdir()] == [before.name]


def test_new_build_swaps_current_and_prunes_old(built, data_copy):
    first = current_build(built)
    for _ in range(4):
        build(Config(store=built, data_dirs=(data_copy,)))
    assert current_build(built) != first
    assert len(list((built / "builds").iterdir())) == 3
    manifest = json.loads((current_build(built) / "manifest.json").read_text())
    assert manifest["triples"] == count(built)


def test_open_store_without_build_is_a_clear_error(tmp_path):
    with pytest.raises(StoreUnavailable, match="kgapp build"):
        open_store(tmp_path / "nothing")


def test_custom_base_iri_rebases_instances(tmp_path, data_copy):
    root = tmp_path / "rebased"
    build(Config(store=root, data_dirs=(data_copy,), base_iri="https://kg.example.org/id/"))
    st = open_store(root)
    assert bool(st.query("ASK { <https://kg.example.org/id/code/cpt/64868> ?p ?o }"))
    assert not bool(st.query("ASK { <https://w3id.org/kgapp/id/code/cpt/64868> ?p ?o }"))


def test_unchanged_inputs_reuse_validation_and_reasoning(built, data_copy):
    messages: list[str] = []
    first = open_store(built)
    result = build(Config(store=built, data_dirs=(data_copy,)), progress=messages.append)
    assert any("inputs unchanged" in m for m in messages)
    assert not any(m.startswith("validating") for m in messages)
    again = open_store(built)
    assert again.manifest["triples"] == first.manifest["triples"]
    assert again.manifest["inferred"] == first.manifest["inferred"] == result.inferred
    assert [w.focus.rsplit("/", 1)[-1] for w in result.report.warnings] == ["64600"] * 3 + ["64612"] * 2 + ["64868"]
    assert "seed-000-64868.ttl" in result.report.warnings[-1].sources


def test_a_changed_file_invalidates_the_cache(built, data_copy):
    p = data_copy / "seed-003-64612.ttl"
    p.write_text(p.read_text(encoding="utf-8").replace("kg:typicalPatientAge 58", "kg:typicalPatientAge 59"),
                 encoding="utf-8")
    messages: list[str] = []
    build(Config(store=built, data_dirs=(data_copy,)), progress=messages.append)
    assert any(m.startswith("validating") for m in messages)
    q = 'ASK { ?c <https://w3id.org/kgapp/ontology#typicalPatientAge> 59 }'
    assert bool(open_store(built).query(q))


def test_blank_nodes_are_the_same_nodes_in_their_graph_and_in_the_default_graph(store):
    # the property chain axiom of the ontology is an RDF list of blank nodes
    q = """ASK { GRAPH <https://w3id.org/kgapp/graph/ontology> {
                   <https://w3id.org/kgapp/ontology#hasProcedureType> <http://www.w3.org/2002/07/owl#propertyChainAxiom> ?list }
                 ?list <http://www.w3.org/1999/02/22-rdf-syntax-ns#first> ?first }"""
    assert bool(store.query(q))
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/kgapp/graph/shapes> { ?s ?p ?o } FILTER isBlank(?s) }"
    in_graph = next(iter(store.query(q)))["n"].value
    q = """SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/kgapp/graph/shapes> { ?s ?p ?o } ?s ?p ?o
             FILTER isBlank(?s) }"""
    assert next(iter(store.query(q)))["n"].value == in_graph
