"""The claim check: every rule fires on a line and stays silent on a near-identical one; CLI = web = library."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from iris import CPT, GRAPH

from kgapp.check import ClaimError, check_claim, load_rules, parse_claim
from kgapp.check.rules import parse_rule
from kgapp.cli import main


def run(store, code, modifiers=(), pos=None, payer=None, dx=()):
    return check_claim(store, parse_claim(code, list(modifiers), pos, payer, list(dx)))


def findings(store, rule, **line):
    return [f for f in run(store, **line).findings if f.rule == rule]


# rule → (a line that fires it, the severity expected, a near-identical line that does not)
CASES = {
    "unknown-code": (dict(code="64869"), "error", dict(code="64868")),
    "modifier-50-bilateral-indicator": (dict(code="64868", modifiers=["50"]), "error",
                                        dict(code="64612", modifiers=["50"])),
    "modifier-laterality": (dict(code="64612", modifiers=["LT", "RT"]), "warning", dict(code="64612", modifiers=["LT"])),
    "modifier-not-for-procedure": (dict(code="64600", modifiers=["24"]), "error", dict(code="64600", modifiers=["59"])),
    "modifier-59-prefer-x": (dict(code="64600", modifiers=["59"]), "info", dict(code="64600", modifiers=["XS"])),
    "modifier-assistant": (dict(code="64600", modifiers=["80"]), "error", dict(code="64600", modifiers=["22"])),
    "modifier-co-surgeon": (dict(code="64600", modifiers=["62"]), "error", dict(code="64600", modifiers=["22"])),
    "modifier-team": (dict(code="64600", modifiers=["66"]), "error", dict(code="64600", modifiers=["22"])),
    "modifier-guidance": (dict(code="64868", modifiers=["50"]), "info", dict(code="64868", modifiers=["51"])),
    # POS 11 is kgapp's reading of the 64612 report: only the information that it is a reading remains.
    "place-of-service": (dict(code="64868", pos="11"), "warning", dict(code="64612", pos="11")),
    "dx-invalid": (dict(code="64868", dx=["Z99.999"]), "error", dict(code="64868", dx=["G51.0"])),
    "dx-not-billable": (dict(code="64864", dx=["S04.51"]), "error", dict(code="64864", dx=["S04.51XA"])),
    "dx-excludes1": (dict(code="64868", dx=["G51.0", "R29.810"]), "error", dict(code="64868", dx=["G51.0"])),
    "dx-not-supporting": (dict(code="64868", dx=["J45.909"]), "warning", dict(code="64868", dx=["G51.0"])),
    "payer-policy": (dict(code="64868", payer="aetna"), "info", dict(code="64868")),
    "global-period": (dict(code="64868"), "info", dict(code="64869")),
    "information-gap": (dict(code="64868"), "info", dict(code="64869")),
    "separately-billed": (dict(code="64612"), "info", dict(code="64600")),
    "source-conflict": (dict(code="64868"), "info", dict(code="64869")),
}


def test_every_shipped_rule_has_a_case_here():
    assert sorted(CASES) == sorted(r.id for r in load_rules())


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_fires_on_its_line_and_not_on_the_near_identical_one(store, rule):
    fires, severity, quiet = CASES[rule]
    found = findings(store, rule, **fires)
    assert found, f"{rule} did not fire on {fires}"
    assert severity in {f.severity for f in found}
    assert all(f.message and not f.message.startswith(" ") for f in found)
    quiet_found = findings(store, rule, **quiet)
    if rule == "place-of-service":
        assert [f.severity for f in quiet_found] == ["info"] and "kgapp's reading" in quiet_found[0].message
    else:
        assert quiet_found == [], f"{rule} fired on {quiet}"


def test_findings_cite_the_statements_and_graphs_behind_them(store):
    (f,) = findings(store, "modifier-50-bilateral-indicator", code="64868", modifiers=["50"])
    assert f.facts[0] == CPT + "64868"
    assert GRAPH + "ref-medicare-pfs-indicators" in f.sources  # the indicator
    assert GRAPH + "seed-000-64868" in f.sources  # the report's guidance that the indicator contradicts
    assert "indicator is 0" in f.message


def test_severity_follows_the_indicator_value(store):
    assert {f.severity for f in findings(store, "modifier-assistant", code="64864", modifiers=["80"])} == {"info"}
    assert {f.severity for f in findings(store, "modifier-co-surgeon", code="64864", modifiers=["62"])} == {"warning"}


def test_descendants_of_a_supporting_diagnosis_support_the_code(store):
    # G51.31 sits below G51.3; a more specific code than the one recorded still supports the code.
    assert findings(store, "dx-not-supporting", code="64612", dx=["G51.31"]) == []
    assert findings(store, "dx-not-billable", code="64612", dx=["G51.3"])  # …but the category itself is not billable


def test_not_billable_names_a_billable_example_with_its_seventh_character(store):
    (f,) = findings(store, "dx-not-billable", code="64864", dx=["S04.51"])
    assert "S04.51XA" in f.message


def test_an_unknown_payer_is_said_so(store):
    (f,) = findings(store, "payer-policy", code="64868", payer="acme-health")
    assert "no payer" in f.message and "acme-health" in f.message


def test_summary_counts_and_order(store):
    result = run(store, "64868", ["50"], "22", "aetna", ["G51.0", "R29.810"])
    doc = result.as_dict()
    assert doc["claim"] == {"code": "64868", "modifiers": ["50"], "pos": "22", "payer": "aetna",
                            "dx": ["G51.0", "R29.810"]}
    severities = [f["severity"] for f in doc["findings"]]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)
    assert doc["summary"] == {s: severities.count(k) for s, k in
                              (("errors", "error"), ("warnings", "warning"), ("info", "info"))}
    assert {"dx-excludes1", "modifier-50-bilateral-indicator"} <= {f["rule"] for f in doc["findings"]}


# -- input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, complaint", [
    (dict(code=""), "code is required"),
    (dict(code="6486"), "not a CPT or HCPCS code"),
    (dict(code="64868", modifiers=["5"]), "modifier"),
    (dict(code="64868", modifiers=["50", "51", "59", "LT", "RT"]), "room for 4"),
    (dict(code="64868", pos="2"), "pos"),
    (dict(code="64868", payer="Aetna Inc!"), "payer"),
    (dict(code="64868", dx=["51.0"]), "dx"),
])
def test_bad_input_is_a_clear_error_on_every_interface(store, client, fields, complaint):
    with pytest.raises(ClaimError, match=complaint):
        parse_claim(fields.get("code"), fields.get("modifiers"), fields.get("pos"), fields.get("payer"), fields.get("dx"))
    query = {"code": fields.get("code", ""), "modifier": fields.get("modifiers", []), "dx": fields.get("dx", [])}
    query |= {k: fields[k] for k in ("pos", "payer") if k in fields}
    response = client.get("/check", query_string=query, headers={"Accept": "application/json"})
    assert response.status_code == 400 and complaint in response.json["error"]
    response = client.post("/check", data=query)
    assert response.status_code == 400 and complaint.encode() in response.data and b"<form" in response.data
    args = ["check", "--store", str(store.root), "--code", fields.get("code", "")]
    args += [a for m in fields.get("modifiers", []) for a in ("--modifier", m)]
    args += [a for d in fields.get("dx", []) for a in ("--dx", d)]
    args += [a for k in ("pos", "payer") if k in fields for a in (f"--{k}", fields[k])]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and complaint in result.output and "Traceback" not in result.output


def test_unknown_fields_are_refused(client):
    response = client.get("/check?code=64868&modifer=50", headers={"Accept": "application/json"})
    assert response.status_code == 400 and "modifer" in response.json["error"]
    assert CliRunner().invoke(main, ["check", "--code", "64868", "--modifer", "50"]).exit_code == 2


def test_dx_with_or_without_the_dot_and_in_any_case(store):
    assert parse_claim("64868", dx=["g510", "R29810"]).dx == ("G51.0", "R29.810")


# -- the three interfaces agree ---------------------------------------------------------------------

LINES = [
    dict(code="64868", modifiers=["50"], pos="22", payer="aetna", dx=["G51.0", "R29.810"]),
    dict(code="64612", modifiers=["LT", "RT", "59"], pos="11", payer="cigna", dx=["G51.31"]),
    dict(code="64600", modifiers=["24", "80"], pos="24", payer="medicare", dx=["S04.31", "Z99.999"]),
    dict(code="64864", dx=["S04.51XA"]),
    dict(code="J0585"),
]


@pytest.mark.parametrize("line", LINES, ids=[line["code"] for line in LINES])
def test_cli_web_and_library_give_the_same_findings(store, client, line):
    library = run(store, **line).as_dict()
    web_get = client.get("/check", query_string={"code": line["code"], "modifier": line.get("modifiers", []),
                                                 "pos": line.get("pos", ""), "payer": line.get("payer", ""),
                                                 "dx": line.get("dx", [])}, headers={"Accept": "application/json"})
    web_post = client.post("/check", json={"code": line["code"], "modifiers": line.get("modifiers", []),
                                           "pos": line.get("pos"), "payer": line.get("payer"), "dx": line.get("dx", [])})
    args = ["check", "--store", str(store.root), "--format", "json", "--code", line["code"]]
    args += [a for m in line.get("modifiers", []) for a in ("--modifier", m)]
    args += [a for d in line.get("dx", []) for a in ("--dx", d)]
    args += [a for k in ("pos", "payer") if line.get(k) for a in (f"--{k}", line[k])]
    cli = CliRunner().invoke(main, args)
    assert cli.exit_code == (1 if library["summary"]["errors"] else 0)
    assert web_get.status_code == web_post.status_code == 200
    assert json.loads(cli.output) == web_get.json == web_post.json == library


def test_batch_checks_every_line_in_order_and_reports_bad_ones(store, tmp_path):
    claims = tmp_path / "claims.csv"
    claims.write_text("code,modifiers,pos,payer,dx\n64612,LT RT,11,cigna,G51.31\n64x,,,,\n"
                      "64868,50,22,aetna,G51.0 R29.810\n,,,,\n64612,,,,G51.31\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--store", str(store.root), "--file", str(claims), "--format", "json"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["line"] for r in rows] == [2, 3, 4, 5, 6]
    assert "not a CPT" in rows[1]["error"] and "required" in rows[3]["error"]
    assert rows[2]["summary"]["errors"] >= 2 and rows[0]["claim"]["modifiers"] == ["LT", "RT"]
    assert rows[4] == {"line": 6} | run(store, "64612", dx=["G51.31"]).as_dict()
    assert result.exit_code == 2  # some lines could not be read
    text = CliRunner().invoke(main, ["check", "--store", str(store.root), "--file", str(claims)]).output
    assert "line 3: 64x — not checked" in text and "line 4: 64868" in text
    csv_out = CliRunner().invoke(main, ["check", "--store", str(store.root), "--file", str(claims), "--format", "csv"])
    assert csv_out.output.splitlines()[0] == "line,code,rule,severity,message,facts,sources,error"


def test_batch_with_a_wrong_header_is_refused(store, tmp_path):
    claims = tmp_path / "claims.csv"
    claims.write_text("cpt,mods\n64868,50\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--store", str(store.root), "--file", str(claims)])
    assert result.exit_code == 2 and "header" in result.output


# -- the rules are data -----------------------------------------------------------------------------

def test_every_rule_file_declares_what_it_is(tmp_path):
    for rule in load_rules():
        assert rule.title and rule.checks and rule.uses and rule.message
    with pytest.raises(ValueError, match="lacks"):
        parse_rule("x.rq", "# id: x\n# severity: info\nSELECT * {}")
    with pytest.raises(ValueError, match="named after"):
        parse_rule("y.rq", "# id: x\n# severity: info\n# title: t\n# checks: c\n# uses: u\n# message: m\nSELECT * {}")


def test_rules_page_lists_every_rule(client):
    listed = client.get("/check/rules", headers={"Accept": "application/json"}).json["rules"]
    assert [r["id"] for r in listed] == [r.id for r in load_rules()]
    html = client.get("/check/rules").get_data(as_text=True)
    assert all(f'id="{r.id}"' in html for r in load_rules())


def test_code_pages_link_to_the_check(client):
    assert 'href="/check?code=64868"' in client.get("/id/code/cpt/64868").get_data(as_text=True)


def test_the_page_escapes_what_it_echoes(client):
    html = client.get("/check", query_string={"code": "<script>"}).get_data(as_text=True)
    assert "<script>" not in html.split("<main", 1)[1] and "&lt;script&gt;" in html


def test_cached_rule_answers_equal_fresh_ones(store):
    for line in LINES + [dict(code="64868", modifiers=["50"]), dict(code="64868", modifiers=["51"])]:
        fresh = check_claim(store, parse_claim(line["code"], line.get("modifiers"), line.get("pos"),
                                               line.get("payer"), line.get("dx")), cache_results=False)
        for _ in range(2):  # the second time every rule answer comes from the cache
            cached = run(store, **line)
            assert cached.as_dict() == fresh.as_dict()


def test_the_icd_code_set_is_loaded_on_first_use_not_when_the_web_app_is_imported():
    # ~165 MB and seconds: a server that checks no claim, and its query workers, must not pay for it
    import subprocess
    import sys

    code = "import sys, kgapp.web; assert 'simple_icd_10_cm' not in sys.modules; " \
           "from kgapp.check.icd import diagnosis; assert diagnosis('S04.51XA').billable; " \
           "assert 'simple_icd_10_cm' in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
