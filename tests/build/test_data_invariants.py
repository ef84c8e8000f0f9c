"""Invariants of the shipped vocabulary and data: declared terms, provenance, faithful reference copies,
and no sentence copied from a seed report."""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from paths import SHARED  # noqa: E402
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS

from kgapp.namespaces import GRAPH, KG
from kgapp.queries import load_queries
from kgapp.sources import data_sources, ontology_sources, resource_dir, shape_sources


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
        mods = {row["modifier"]: row for row in csv.DictReader(f)}
    modifier_notations = {str(data.value(m, SKOS.notation)) for m in data.subjects(RDF.type, KG.Modifier)}
    assert modifier_notations == set(mods)
    em = URIRef("https://w3id.org/kgapp/id/code-category/evaluation-and-management")
    for code, row in mods.items():
        m = URIRef(f"https://w3id.org/kgapp/id/modifier/{code}")
        scheme = "hcpcs-modifier" if row["code_set"].startswith("HCPCS") else "cpt-modifier"
        assert (m, SKOS.inScheme, URIRef(f"https://w3id.org/kgapp/id/scheme/{scheme}")) in data, code
        assert ((m, KG.appliesToCodeCategory, em) in data) == (row["applies_to"] == "evaluation and management codes")
    roles = (KG.supportingDiagnosis, KG.contextDiagnosis, KG.complicationDiagnosis)
    with open(ref / "icd10cm.csv", newline="") as f:
        for row in csv.DictReader(f):
            dx = URIRef(f"https://w3id.org/kgapp/id/icd10cm/{row['code']}")
            assert (data.value(dx, KG.billable).toPython()) == (row["billable"] == "yes"), row["code"]
            for code in row["fits_codes"].split(";"):
                assert sum((URIRef(cpt + code), p, dx) in data for p in roles) == 1, (code, row["code"])
    # G97.82 describes a complication and is never a reason for a procedure
    assert not list(data.subjects(KG.supportingDiagnosis, URIRef("https://w3id.org/kgapp/id/icd10cm/G97.82")))
    with open(ref / "related-codes.csv", newline="") as f:
        for row in csv.DictReader(f):
            folder = "hcpcs" if row["code_set"].startswith("HCPCS") else "cpt"
            other = URIRef(f"https://w3id.org/kgapp/id/code/{folder}/{row['code']}")
            assert (other, RDF.type, KG.RelatedCode) in data
            links = set(data.predicates(URIRef(cpt + row["relation_to"]), other))
            assert len(links) == 1 and str(next(iter(links))).startswith(str(KG)), row["code"]


def test_reference_turtle_is_what_the_tool_writes(tmp_path):
    """data/ref-*.ttl are generated (tools/reference_to_turtle.py, ICD-10-CM from simple-icd-10-cm): no hand edits."""
    import importlib.util

    ref = SHARED / "reference"
    if not ref.is_dir():
        pytest.skip("../shared/reference is not beside this checkout")
    tool = resource_dir("data").parent / "tools" / "reference_to_turtle.py"
    spec = importlib.util.spec_from_file_location("reference_to_turtle", tool)
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():  # simple-icd-10-cm reads its data with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        spec.loader.exec_module(module)
    module.main(ref, tmp_path)
    for generated in sorted(tmp_path.glob("ref-*.ttl")):
        shipped = resource_dir("data") / generated.name
        assert shipped.read_text(encoding="utf-8") == generated.read_text(encoding="utf-8"), generated.name


@pytest.mark.parametrize("args, code, says", [(["--help"], 0, "usage: reference_to_turtle.py"),
                                               (["/nonexistent-reference"], 2, "lacks medicare-pfs-indicators.csv")])
def test_the_reference_tool_answers_help_and_a_wrong_folder_in_one_line(args, code, says):
    tool = resource_dir("data").parent / "tools" / "reference_to_turtle.py"
    done = subprocess.run([sys.executable, str(tool), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == code and says in done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "wrote" not in done.stdout


def test_every_icd10cm_code_matches_the_library(data):
    """Title, billable flag and parent of every ICD-10-CM node are those of the maintained code set."""
    with warnings.catch_warnings():  # simple-icd-10-cm reads its data with a deprecated importlib call
        warnings.simplefilter("ignore", DeprecationWarning)
        icd = pytest.importorskip("simple_icd_10_cm")
    base = "https://w3id.org/kgapp/id/icd10cm/"
    checked = 0
    for dx in set(data.subjects(RDF.type, KG.DiagnosisCode)) | set(data.subjects(RDF.type, KG.DiagnosisCodeGroup)):
        code = str(data.value(dx, SKOS.notation))
        assert icd.is_valid_item(code), code
        assert str(data.value(dx, SKOS.prefLabel)) == icd.get_description(code), code
        if (dx, RDF.type, KG.DiagnosisCode) in data:
            assert data.value(dx, KG.billable).toPython() == icd.is_leaf(code), code
        parent = icd.get_parent(code)
        if parent:
            expected = base + (f"chapter-{parent}" if icd.is_chapter(parent) else parent)
            assert str(data.value(dx, SKOS.broader)) == expected, code
        checked += 1
    assert checked >= 15


def test_every_interpretation_is_kgapps_reading_with_a_source(data):
    """A mapped statement carries its qualifier: kgapp's basis, the report's words, a confidence, the report."""
    reading = URIRef("https://w3id.org/kgapp/id/mapping-basis/kgapp-reading")
    interpretations = list(data.subjects(RDF.type, KG.Interpretation))
    assert len(interpretations) >= 20
    for i in interpretations:
        assert data.value(i, KG.mappingBasis) == reading, i
        assert (data.value(i, PROV.wasDerivedFrom), RDF.type, KG.SeedReport) in data, i
        assert str(data.value(i, KG.confidence)) in {"high", "medium", "low"}, i
        assert data.value(i, KG.reportWording), i
        subject = data.value(None, KG.hasInterpretation, i)
        assert (subject, data.value(i, KG.interpretedProperty), data.value(i, KG.interpretedValue)) in data, i


def _statements_in(path: Path) -> Graph:
    return Graph().parse(path)


def test_no_mapped_value_stands_as_a_report_statement():
    """Reports describe settings and care teams in words: every POS, NUCC specialty (and every mapped value)
    lives in a reading graph, qualified."""
    mapped = (KG.placeOfService, KG.involvesSpecialty, KG.diagnosisCode, KG.indicationNerve, KG.treatmentAgent)
    for source in data_sources():
        g = _statements_in(source.path)
        if source.path.name.startswith("seed-"):
            for p in mapped:
                assert not list(g.triples((None, p, None))), f"{source.path.name} states {p} as the report's"
        if source.path.name.startswith("reading-"):
            assert (source.graph, PROV.wasDerivedFrom, None) in g
            for s, p, o in g:
                if p in mapped or p in (KG.serviceCategory, KG.missingTopic):
                    assert any(g.value(i, KG.interpretedProperty) == p and g.value(i, KG.interpretedValue) == o
                               for i in g.objects(s, KG.hasInterpretation)), (source.path.name, s, p, o)
    # 64864's report gives no service category: only the reading graph may state one
    code = URIRef("https://w3id.org/kgapp/id/code/cpt/64864")
    seed = _statements_in(resource_dir("data") / "seed-002-64864.ttl")
    assert seed.value(code, KG.serviceCategory) is None
    # the reports name specialties in prose and never give a NUCC code: each one the graph holds is a reading
    specialties = [(s, o) for source in data_sources() if source.path.name.startswith("reading-")
                   for s, o in _statements_in(source.path).subject_objects(KG.involvesSpecialty)]
    assert len(specialties) == len(set(specialties)) == 11


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
