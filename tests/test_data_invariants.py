"""Invariants of the shipped vocabulary and data: declared terms, provenance, faithful reference copies,
and no sentence copied from a seed report."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS

from kgapp.namespaces import GRAPH, KG
from kgapp.queries import load_queries
from kgapp.sources import data_sources, ontology_sources, resource_dir, shape_sources

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def parsed(sources) -> Graph:
    g = Graph()
    for s in sources:
        g.parse(s.path)
    return g


@pytest.fixture(scope="module")
def ontology():
    return parsed(ontology_sources())


@pytest.fixture(scope="module")
def data():
    return parsed(data_sources())


def kg_terms(text: str) -> set[str]:
    return set(re.findall(r"\bkg:([A-Za-z][A-Za-z0-9]*)", text))


def test_every_kg_term_used_is_declared(ontology):
    declared = {str(s)[len(str(KG)):] for s in ontology.subjects() if str(s).startswith(str(KG))}
    texts = [p.read_text(encoding="utf-8") for folder in ("data", "shapes") for p in resource_dir(folder).glob("*.ttl")]
    texts += [q.text for q in load_queries()]
    used = set().union(*(kg_terms(t) for t in texts))
    assert used - declared == set()


def test_every_term_has_label_comment_and_properties_domain_range(ontology):
    for term in set(ontology.subjects(RDF.type, OWL.Class)) | set(ontology.subjects(RDF.type, OWL.ObjectProperty)) \
            | set(ontology.subjects(RDF.type, OWL.DatatypeProperty)):
        if not str(term).startswith(str(KG)):
            continue
        assert ontology.value(term, RDFS.label), term
        assert ontology.value(term, RDFS.comment), term
        if (term, RDF.type, OWL.Class) not in ontology:
            assert ontology.value(term, RDFS.domain), term
            assert ontology.value(term, RDFS.range), term


def test_each_data_file_describes_its_graph_with_provenance():
    for source in data_sources():
        g = Graph().parse(source.path)
        derived = list(g.objects(source.graph, PROV.wasDerivedFrom))
        assert derived, f"{source.path.name} does not describe <{source.graph}>"
        assert g.value(source.graph, DCTERMS.title), source.path.name
        src = derived[0]
        assert (src, RDF.type, KG.SeedReport) in g or (src, RDF.type, KG.ReferenceFile) in g
        assert g.value(src, KG.fileName), source.path.name


def test_seed_digests_match_the_seed_files():
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    g = parsed(data_sources())
    checked = 0
    for src in g.subjects(RDF.type, KG.SeedReport):
        path = SHARED / str(g.value(src, KG.fileName))
        assert hashlib.sha256(path.read_bytes()).hexdigest() == str(g.value(src, KG.sha256)), path
        checked += 1
    assert checked == 5


def test_reference_turtle_matches_the_reference_csv(data):
    ref = SHARED / "reference"
    if not ref.is_dir():
        pytest.skip("../shared/reference is not beside this checkout")
    cpt = "https://w3id.org/kgapp/id/code/cpt/"
    with open(ref / "medicare-pfs-indicators.csv", newline="") as f:
        for row in csv.DictReader(f):
            code = URIRef(cpt + row["code"])
            assert int(data.value(code, KG.globalPeriodDays)) == int(row["global_days"])
            assert str(data.value(code, KG.workRVU)) == row["work_rvu"]
            assert str(data.value(code, KG.bilateralSurgeryIndicator)) == row["bilat_surg"]
            assert str(data.value(code, KG.multipleProcedureIndicator)) == row["mult_proc"]
            assert str(data.value(code, KG.assistantSurgeryIndicator)) == row["asst_surg"]
            assert str(data.value(code, KG.coSurgeonIndicator)) == row["co_surg"]
            assert str(data.value(code, KG.teamSurgeryIndicator)) == row["team_surg"]
    with open(ref / "nerves.csv", newline="") as f:
        for row in csv.DictReader(f):
            nerve = URIRef(f"https://w3id.org/kgapp/id/nerve/{row['slug']}")
            assert int(data.value(nerve, KG.cranialNerveNumber)) == int(row["cranial_nerve_number"])
            assert (nerve, SKOS.exactMatch, URIRef(row["uberon"])) in data
    with open(ref / "modifiers.csv", newline="") as f:
        mods = {row["modifier"] for row in csv.DictReader(f)}
    modifier_notations = {str(data.value(m, SKOS.notation)) for m in data.subjects(RDF.type, KG.Modifier)}
    assert modifier_notations == mods
    with open(ref / "icd10cm.csv", newline="") as f:
        for row in csv.DictReader(f):
            for code in row["fits_codes"].split(";"):
                assert (URIRef(cpt + code), KG.supportingDiagnosis,
                        URIRef(f"https://w3id.org/kgapp/id/icd10cm/{row['code']}")) in data


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def test_no_sentence_of_a_seed_is_copied(data):
    """Own words: no run of 8 words from any seed report appears in any literal of the data."""
    seeds = SHARED / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    n = 8
    shingles = set()
    for path in seeds.glob("*.txt"):
        w = _words(path.read_text(encoding="utf-8"))
        shingles |= {" ".join(w[i:i + n]) for i in range(len(w) - n + 1)}
    copied = []
    for lit in {o for o in data.objects() if isinstance(o, Literal)}:
        w = _words(str(lit))
        copied += [" ".join(w[i:i + n]) for i in range(len(w) - n + 1) if " ".join(w[i:i + n]) in shingles]
    assert not copied, "copied from a seed:\n" + "\n".join(sorted(set(copied)))


def test_every_code_links_to_its_seed_graph(data):
    for i, code in enumerate(["64868", "64866", "64864", "64612", "64600"]):
        assert (GRAPH[f"seed-00{i}-{code}"], PROV.wasDerivedFrom, URIRef(f"https://w3id.org/kgapp/id/source/seed-00{i}")) in data


def test_shapes_parse_and_declare_targets():
    g = parsed(shape_sources())
    assert len(set(g.subjects(URIRef("http://www.w3.org/ns/shacl#targetClass"), None))) >= 10


def test_every_class_of_the_ontology_has_a_shape(ontology):
    shapes = parsed(shape_sources())
    sh = "http://www.w3.org/ns/shacl#"
    targeted = set(shapes.objects(None, URIRef(sh + "targetClass")))
    # a class is covered by its own shape or by a shape of a superclass it inherits targets from
    for cls in ontology.subjects(RDF.type, OWL.Class):
        if not str(cls).startswith(str(KG)):
            continue
        lineage = {cls} | set(ontology.transitive_objects(cls, RDFS.subClassOf))
        assert lineage & targeted, f"no shape targets {cls} or a superclass"
