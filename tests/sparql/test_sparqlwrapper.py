"""SPARQLWrapper, with its default settings, gets a parseable answer in every returnFormat that fits the query form."""

from __future__ import annotations

import csv
import io
import json
import warnings
from xml.dom.minidom import Document

import pytest
from rdflib import Graph
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDF, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

CODES = ("PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
         "SELECT ?n WHERE { ?c a <https://w3id.org/kgapp/ontology#ProcedureCode> ; skos:notation ?n } ORDER BY ?n")
ASK = "ASK { <https://w3id.org/kgapp/id/code/cpt/64868> ?p ?o }"
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 20"
DESCRIBE = "DESCRIBE <https://w3id.org/kgapp/id/code/cpt/64868>"
ALL_FORMATS = [JSON, XML, TURTLE, N3, RDF, RDFXML, CSV, TSV, JSONLD]
# What applies where: results formats to SELECT/ASK (CSV/TSV define no boolean form), graph formats to
# CONSTRUCT/DESCRIBE (JSON and XML mean JSON-LD and RDF/XML there, as SPARQLWrapper itself converts).
APPLICABLE = {
    "SELECT": [JSON, XML, CSV, TSV],
    "ASK": [JSON, XML],
    "CONSTRUCT": [JSON, XML, TURTLE, N3, RDF, RDFXML, JSONLD],
    "DESCRIBE": [JSON, XML, TURTLE, N3, RDF, RDFXML, JSONLD],
}
QUERIES = {"SELECT": CODES, "ASK": ASK, "CONSTRUCT": CONSTRUCT, "DESCRIBE": DESCRIBE}
CASES = [(form, fmt) for form, formats in APPLICABLE.items() for fmt in formats]


def parsed(form: str, fmt: str, answer) -> int:
    """How many rows/triples (or 1 for a true ASK) the converted answer holds."""
    result = answer.convert()
    if form == "ASK":
        if fmt == JSON:
            return int(result["boolean"])
        return int(result.getElementsByTagName("boolean")[0].firstChild.data == "true")
    if form == "SELECT":
        if fmt == JSON:
            return len(result["results"]["bindings"])
        if fmt == XML:
            assert isinstance(result, Document)
            return len(result.getElementsByTagName("result"))
        text = result.decode() if isinstance(result, bytes) else result
        return len(list(csv.reader(io.StringIO(text), delimiter="," if fmt == CSV else "\t"))) - 1
    if isinstance(result, Graph):
        return len(result)
    text = result.decode() if isinstance(result, bytes) else result
    if fmt in (TURTLE, N3):
        return len(Graph().parse(data=text, format="turtle"))
    return len(Graph().parse(data=text, format="json-ld" if fmt in (JSON, JSONLD) else "xml"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("form, fmt", CASES, ids=[f"{f}-{x}" for f, x in CASES])
def test_every_return_format_with_default_settings(live_server, form, fmt):
    sw = SPARQLWrapper(live_server.url + "/sparql")  # defaults: GET, format/output/results parameters
    sw.setQuery(QUERIES[form])
    sw.setReturnFormat(fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper's own note when it sends */*
        answer = sw.query()
    assert answer.response.status == 200
    n = parsed(form, fmt, answer)
    assert n == {"SELECT": 5, "ASK": 1, "CONSTRUCT": 20}.get(form, n) and n > 0


def test_every_return_format_is_covered():
    assert {fmt for formats in APPLICABLE.values() for fmt in formats} == set(ALL_FORMATS)


@pytest.mark.parametrize("fmt", [JSON, XML])
def test_the_return_formats_json_and_xml_parse_as_results(live_server, fmt):
    sw = SPARQLWrapper(live_server.url + "/sparql")
    sw.setQuery(CODES)
    sw.setReturnFormat(fmt)
    raw = sw.query().response.read()
    assert json.loads(raw) if fmt == JSON else raw.startswith(b"<?xml")
