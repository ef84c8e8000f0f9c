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


def test_twelve_questions_each_with_a_question_line():
    queries = load_queries()
    assert [q.number for q in queries] == list(range(1, 13))
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


def test_cq10_policy_conflict_is_64868_modifier_50(store):
    result = rows(store, "cq10-policy-conflicts")
    assert [r["notation"] for r in result] == ["64868"]
    assert result[0]["conflict"].endswith("#BilateralModifierConflictShape")
    assert "modifier 50" in result[0]["message"] and "bilateral surgery indicator 0" in result[0]["message"]
    assert result[0]["value"].endswith("/modifier-guidance/seed-000/64868-50")


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
