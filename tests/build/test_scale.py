"""Correctness at scale: a synthetic store answers the same through the CLI, the library and the endpoint."""

from __future__ import annotations

import csv
import io
import json
import urllib.parse
import urllib.request

import pytest
from click.testing import CliRunner
from conftest import LiveServer

from kgapp.build import build
from kgapp.build.synth import synthesize
from kgapp.cli import main
from kgapp.config import Config
from kgapp.store import open_store

N_CODES = 400
QUERIES = {
    "codes per procedure type": """
        PREFIX kg: <https://w3id.org/kgapp/ontology#>
        SELECT ?type (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c kg:hasProcedureType ?type } GROUP BY ?type ORDER BY ?type""",
    "codes by donor nerve": """
        PREFIX kg: <https://w3id.org/kgapp/ontology#>
        SELECT ?nerve (COUNT(?c) AS ?n) WHERE { ?c kg:donorNerve ?nerve } GROUP BY ?nerve ORDER BY ?nerve""",
    "conflicts": """
        PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT (COUNT(?r) AS ?n) WHERE { GRAPH <https://w3id.org/kgapp/graph/validation> { ?r sh:resultSeverity sh:Warning } }""",
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("scale")
    summary = synthesize(N_CODES, root / "data", seed=5, codes_per_file=100)
    build(Config(store=root / "store", data_dirs=(root / "data",)))
    return root / "store", summary


def rows_from_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_every_code_is_stored_and_typed(synthetic):
    store_path, _ = synthetic
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?c a <https://w3id.org/kgapp/ontology#ProcedureCode> }"
    assert next(iter(open_store(store_path).query(q)))["n"].value == str(N_CODES)


def test_inferred_reconstruction_types_are_consistent(synthetic):
    store_path, _ = synthetic
    q = """PREFIX kg: <https://w3id.org/kgapp/ontology#> PREFIX pt: <https://w3id.org/kgapp/id/procedure-type/>
        SELECT (COUNT(?c) AS ?n) WHERE { ?c kg:hasProcedureType pt:nerve-reconstruction
            FILTER NOT EXISTS { { ?c kg:hasProcedureType pt:neurorrhaphy } UNION { ?c kg:hasProcedureType pt:nerve-anastomosis } } }"""
    assert next(iter(open_store(store_path).query(q)))["n"].value == "0"


@pytest.fixture(scope="module")
def server(synthetic, tmp_path_factory):
    with LiveServer(synthetic[0], tmp_path_factory.mktemp("live") / "serve.log") as live:
        yield live


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_cli_and_endpoint_give_the_same_answers(synthetic, server, name):
    store_path, summary = synthetic
    query = QUERIES[name]
    cli = CliRunner().invoke(main, ["query", "--store", str(store_path), "--format", "csv", query])
    assert cli.exit_code == 0, cli.output
    url = f"{server.url}/sparql?" + urllib.parse.urlencode({"query": query})
    req = urllib.request.Request(url, headers={"Accept": "text/csv"})
    with urllib.request.urlopen(req, timeout=30) as response:
        http = response.read().decode("utf-8")
    req = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as response:
        bindings = json.loads(response.read())["results"]["bindings"]
    assert rows_from_csv(cli.output) == rows_from_csv(http)
    assert len(bindings) == len(rows_from_csv(http)) - 1
    if name == "conflicts":
        assert rows_from_csv(http)[1] == [str(summary["expected_warnings"])]
