"""Every competency question in kgapp/queries answers what the sources say."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kgapp.cli import main
from kgapp.queries import FOLDER, get_query, load_queries


def rows(store, slug):
    result = store.query(get_query(slug).text)
    return [{v.value: (s[v].value if s[v] is not None else None) for v in result.variables} for s in result]


def column(store, slug, name):
    return sorted(r[name] for r in rows(store, slug))


def test_fourteen_questions_each_with_a_question_line():
    queries = load_queries()
    assert [q.number for q in queries] == list(range(1, 15))
    for q in queries:
        assert q.question.endswith("?"), q.slug


@pytest.mark.parametrize("slug, expected", [
    ("cq01-facial-nerve-target-codes", ["64612", "64864", "64866", "64868"]),
    ("cq03-trigeminal-nerve-codes", ["64600"]),
    ("cq04-modifier-50-codes", ["64612", "64868"]),
    ("cq07-ambulatory-surgical-center-codes", ["64600", "64612", "64866"]),
    ("cq08-nerve-reconstruction-codes", ["64864", "64866", "64868"]),
    ("cq09-ninety-day-global-codes", ["64864", "64866", "64868"]),
])
def test_code_lists(store, slug, expected):
    assert column(store, slug, "notation") == expected


def test_cq02_donor_nerves(store):
    got = {r["notation"]: r["donor"].rsplit("/", 1)[-1] for r in rows(store, "cq02-donor-nerve-per-transfer")}
    assert got == {"64866": "spinal-accessory", "64868": "hypoglossal"}


def test_cq05_modifiers_per_code(store):
    got = sorted((r["notation"], r["modifier"]) for r in rows(store, "cq05-modifiers-per-code"))
    assert got == [("64600", "24"), ("64600", "59"), ("64612", "50"), ("64868", "50")]


def test_cq06_payers_per_code(store):
    got = {r["notation"]: r for r in rows(store, "cq06-payers-per-code")}
    five = {"Aetna", "Blue Cross Blue Shield", "Cigna", "Medicare", "UnitedHealthcare"}
    for code in ("64600", "64612", "64866", "64868"):
        assert set(got[code]["payerNames"].split(", ")) == five
    assert got["64864"]["payers"] == "0"


def test_cq10_policy_conflicts(store):
    result = rows(store, "cq10-policy-conflicts")
    assert sorted(r["notation"] for r in result) == ["64600", "64600", "64600", "64612", "64612", "64868"]
    bilateral = next(r for r in result if r["notation"] == "64868")
    assert bilateral["conflict"].endswith("#BilateralModifierConflictShape")
    assert "modifier 50" in bilateral["message"] and "bilateral surgery indicator 0" in bilateral["message"]
    assert bilateral["value"].endswith("/modifier-guidance/seed-000/64868-50")
    values = {r["value"].split("/id/", 1)[1] for r in result}
    assert {"modifier-guidance/seed-004/64600-24", "anatomical-site/trigeminal-ganglion",
            "indication/severe-facial-motor-dysfunction", "treatment/botulinum-toxin-injection",
            "agent/neurolytic-agent"} < values


def test_cq13_interpretations(store):
    result = rows(store, "cq13-kgapp-interpretations")
    assert {r["basis"] for r in result} == {"kgapp's reading of the report"}
    got = {(r["report"], r["subject"].rsplit("/", 1)[-1], r["property"].rsplit("#", 1)[-1],
            r["value"].rsplit("/", 1)[-1], r["confidence"]) for r in result}
    assert ("seed report 004", "64600", "placeOfService", "11", "low") in got      # specialty clinics
    assert ("seed report 004", "64600", "placeOfService", "19", "medium") in got   # hospital outpatient departments
    assert ("seed report 004", "64600", "placeOfService", "22", "medium") in got
    assert ("seed report 002", "64864", "serviceCategory", "reconstructive-nerve-surgery", "medium") in got
    assert ("seed report 002", "locked-content", "missingTopic", "clinical-context", "low") in got
    # every place of service in the graph is one of these readings: no report states a POS code
    pos = {(r["subject"], r["value"]) for r in result if r["property"].endswith("#placeOfService")}
    stated = store.query("SELECT DISTINCT ?c ?p WHERE { ?c <https://w3id.org/kgapp/ontology#placeOfService> ?p }")
    assert pos == {(s["c"].value, s["p"].value) for s in stated} and len(pos) == 15
    assert ("seed report 004", "64600", "involvesSpecialty", "208VP0014X", "medium") in got  # pain medicine
    assert ("seed report 004", "64600", "involvesSpecialty", "207T00000X", "high") in got    # neurosurgery
    assert ("seed report 000", "64868", "involvesSpecialty", "207Y00000X", "medium") in got  # head and neck surgeon
    assert ("seed report 001", "64866", "involvesSpecialty", "225100000X", "medium") in got  # physical therapy
    assert ("seed report 003", "64612", "involvesSpecialty", "2084N0400X", "medium") in got  # neurology clinic
    # every specialty in the graph is one of these readings: no report gives a NUCC code
    spec = {(r["subject"], r["value"]) for r in result if r["property"].endswith("#involvesSpecialty")}
    stated = store.query("SELECT DISTINCT ?c ?s WHERE { ?c <https://w3id.org/kgapp/ontology#involvesSpecialty> ?s }")
    assert spec == {(s["c"].value, s["s"].value) for s in stated} and len(spec) == 11
    for r in result:
        assert r["wording"] and len(r["wording"].split()) < 12


def test_cq14_conflicts_per_code(store):
    got = {(r["notation"], r["rule"]): int(r["conflicts"]) for r in rows(store, "cq14-conflicts-per-code")}
    assert got == {
        ("64600", "E/M-only modifier given for a procedure code"): 1,
        ("64600", "injection at a site another code covers"): 1,
        ("64600", "indication of a nerve the code does not act on"): 1,
        ("64612", "alternative treatment that is the code's own agent"): 1,
        ("64612", "agent named for another procedure type"): 1,
        ("64868", "modifier 50 guidance vs. Medicare bilateral indicator"): 1,
    }


def test_cq11_complications_of_64612(store):
    assert column(store, "cq11-complications-64612", "label") == ["dysphagia", "facial weakness", "hematoma", "infection"]


def test_cq12_gaps_per_report(store):
    got = {(r["report"], r["topic"]) for r in rows(store, "cq12-information-gaps")}
    assert ("seed report 000", "payer-specific payment rates") in got
    assert ("seed report 000", "ICD-10-CM diagnosis mapping") in got
    assert ("seed report 000", "provider taxonomy") in got
    assert ("seed report 001", "modifier guidance") in got
    assert ("seed report 002", "payer coverage") in got
    assert ("seed report 004", "modifier usage note") in got
    # every seed report admits at least one gap
    assert {r for r, _ in got} == {f"seed report 00{i}" for i in range(5)}


def test_cq08_through_the_cli(store_path):
    path = FOLDER / f"{get_query(8).slug}.rq"
    result = CliRunner().invoke(main, ["query", "--store", str(store_path), "-f", str(path), "--format", "csv"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "code,notation,label"
    assert [line.split(",")[1] for line in lines[1:]] == ["64864", "64866", "64868"]
