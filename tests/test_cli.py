"""The kgapp command line: exit codes, messages and output formats as a user sees them."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest
from click.testing import CliRunner
from rdflib import Graph

from kgapp.cli import main
from kgapp.sources import resource_dir


@pytest.fixture()
def runner():
    return CliRunner()


def test_help_lists_the_commands(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("build", "validate", "query", "export", "serve"):
        assert command in result.output


def test_build_reports_progress_and_summary(runner, tmp_path):
    result = runner.invoke(main, ["build", "--store", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert "validating" in result.output and "Built" in result.output
    assert "BilateralModifierConflictShape" not in result.output  # messages, not shape IRIs
    assert "modifier 50 (bilateral) guidance" in result.output


def test_build_with_violation_exits_1_with_readable_report(runner, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    p = data / "seed-003-64612.ttl"
    p.write_text(p.read_text(encoding="utf-8").replace('skos:notation "64612"', 'skos:notation "ABC"'), encoding="utf-8")
    result = runner.invoke(main, ["build", "--store", str(tmp_path / "s"), "--data", str(data)])
    assert result.exit_code == 1
    assert "Violation" in result.output and "seed-003-64612.ttl" in result.output
    assert "Traceback" not in result.output


def test_validate_exit_codes(runner, tmp_path):
    good = resource_dir("data") / "seed-000-64868.ttl"
    result = runner.invoke(main, ["validate", str(good)])
    assert result.exit_code == 0, result.output

    bad = tmp_path / "bad.ttl"
    bad.write_text(good.read_text(encoding="utf-8").replace("kg:donorNerve nerve:hypoglossal", "kg:donorNerve payer:aetna"),
                   encoding="utf-8")
    result = runner.invoke(main, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "donor nerve must be a kg:Nerve" in result.output

    broken = tmp_path / "broken.ttl"
    broken.write_text("@prefix ex: <http://ex/> .\nex:a ex:b ex:c .\nex:a ex:b \"open\n", encoding="utf-8")
    result = runner.invoke(main, ["validate", str(broken)])
    assert result.exit_code == 2
    assert "broken.ttl, line 3" in result.output

    result = runner.invoke(main, ["validate", str(tmp_path / "missing.ttl")])
    assert result.exit_code == 2 and "no such file" in result.output


def test_validate_turtle_report(runner, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text((resource_dir("data") / "seed-004-64600.ttl").read_text(encoding="utf-8")
                   .replace('skos:notation "64600"', 'skos:notation "646"'), encoding="utf-8")
    result = runner.invoke(main, ["validate", "--format", "turtle", str(bad)])
    assert result.exit_code == 1
    g = Graph().parse(data=result.output, format="turtle")
    assert len(list(g.subjects(None, None))) > 0
    assert "ValidationReport" in result.output


@pytest.mark.parametrize("fmt", ["table", "csv", "tsv", "json"])
def test_query_formats(runner, store_path, fmt):
    q = 'SELECT ?n WHERE { ?c kg:donorNerve ?d ; skos:notation ?n } ORDER BY ?n'
    result = runner.invoke(main, ["query", "--store", str(store_path), "--format", fmt, q])
    assert result.exit_code == 0, result.output
    if fmt == "csv":
        assert list(csv.reader(io.StringIO(result.output))) == [["n"], ["64866"], ["64868"]]
    elif fmt == "json":
        assert [b["n"]["value"] for b in json.loads(result.output)["results"]["bindings"]] == ["64866", "64868"]
    else:
        assert "64866" in result.output and "64868" in result.output


def test_query_syntax_error_is_one_line_not_a_traceback(runner, store_path):
    result = runner.invoke(main, ["query", "--store", str(store_path), "SELECT ?x WHERE { ?x"])
    assert result.exit_code == 1
    assert "query syntax error" in result.output and "Traceback" not in result.output


def test_query_without_store_says_how_to_build(runner, tmp_path):
    result = runner.invoke(main, ["query", "--store", str(tmp_path / "none"), "ASK {}"])
    assert result.exit_code == 1 and "kgapp build" in result.output


def test_construct_as_turtle(runner, store_path):
    q = "CONSTRUCT { ?c kg:donorNerve ?d } WHERE { ?c kg:donorNerve ?d }"
    result = runner.invoke(main, ["query", "--store", str(store_path), "--format", "turtle", q])
    assert result.exit_code == 0
    assert len(Graph().parse(data=result.output, format="turtle")) == 2
