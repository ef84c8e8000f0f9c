"""Linked Data pages: what a code page shows, content negotiation, alternates, 404/406, hostile input, escaping."""

from __future__ import annotations

import re
import shutil

import pytest
from paths import DATA  # noqa: E402
from rdflib import Graph, Literal, URIRef

from kgapp.build import build
from kgapp.config import Config
from kgapp.formats import BY_NAME, GRAPH_FORMATS
from kgapp.namespaces import KG, SKOS
from kgapp.web import create_app

CODE = "https://w3id.org/kgapp/id/code/cpt/64868"
HYPOGLOSSAL = "https://w3id.org/kgapp/id/nerve/hypoglossal"
CODE_PATH = "/id/code/cpt/64868"


def html(client, url: str) -> str:
    r = client.get(url)
    assert r.status_code == 200, url
    assert r.content_type.startswith("text/html")
    return r.get_data(as_text=True)


def test_home_links_codes_classes_query_and_exports(client, app):
    page = html(client, "/")
    with app.test_request_context():
        from flask import url_for
        assert url_for("pages.index") == "/"
    for href in (CODE_PATH, "/class/ProcedureCode", "/class/Nerve", "/sparql", "/export.ttl", "/export.nq",
                 "/.well-known/void", "/validation", 'action="/search"'):
        assert href in page
    assert re.search(r'href="/class/ProcedureCode">procedure code</a></td><td class="num">5<', page)


@pytest.mark.parametrize("fragment", [
    "<h1><span class=\"scheme-code\">CPT 64868</span> Facial–hypoglossal nerve anastomosis</h1>",
    "<title>CPT 64868 Facial–hypoglossal nerve anastomosis · kgapp</title>",
    'href="/id/nerve/hypoglossal"', "donor nerve", "target nerve",  # nerves by role
    "nerve reconstruction</a> <span class=\"badge\"", "inferred",  # broader procedure types, marked inferred
    "Only if hypoglossal-to-facial transfers are performed on both sides",  # modifier usage note
    "it gives no Cigna-specific rates or criteria",  # payer policy note
    "Inpatient hospital",  # place of service
    "No bilateral adjustment: modifier 50 does not fit",  # indicator value explained in words
    'href="/id/icd10cm/G51.0"', "Bell&#39;s palsy",  # supporting ICD-10-CM diagnoses
    "tongue weakness", "House-Brackmann scale",  # complications and outcome measures
    "The report states that detailed rates per payer were not in its input.",  # an information gap
    "Report on CPT 64868, hypoglossal-to-facial nerve transfer", "seeds/000_9c06e45fba8bcfb6.txt",  # sources
    'id="incoming"', "What refers to this",
])
def test_code_page_shows_every_kind_of_fact(client, fragment):
    assert fragment in html(client, CODE_PATH)


def test_every_statement_row_cites_a_source(client):
    page = html(client, CODE_PATH)
    rows = re.findall(r"<tr(?: class=\"[a-z ]+\")?>\s*<th scope=\"row\">.*?</tr>", page, re.S)
    assert len(rows) > 40
    assert all('class="ref"' in row for row in rows)


def test_nerve_page_has_incoming_code_and_external_alignment(client):
    page = html(client, "/id/nerve/hypoglossal")
    assert "<h1>hypoglossal nerve</h1>" in page
    assert f'href="{CODE_PATH}"' in page and "64868 Facial–hypoglossal nerve anastomosis" in page
    assert 'href="http://purl.obolibrary.org/obo/UBERON_0001650"' in page
    assert 'href="/resource?iri=http%3A%2F%2Fpurl.obolibrary.org%2Fobo%2FUBERON_0001650"' in page


@pytest.mark.parametrize("iri,fragment", [
    (str(KG.donorNerve), "<h1>donor nerve</h1>"),
    (str(KG.ProcedureCode), "<h1>procedure code</h1>"),
    ("https://w3id.org/kgapp/graph/seed-000-64868", "Statements taken from seed report 000"),
    ("http://purl.obolibrary.org/obo/UBERON_0001650", "hypoglossal nerve"),
    ("https://w3id.org/kgapp/ontology", "kgapp ontology"),
    (str(SKOS.prefLabel), "skos:prefLabel"),  # used only as a predicate
])
def test_other_iris_have_pages(client, iri, fragment):
    r = client.get("/resource", query_string={"iri": iri})
    assert r.status_code == 200
    assert fragment in r.get_data(as_text=True)


def test_resource_for_an_instance_redirects_to_its_path(client):
    r = client.get("/resource", query_string={"iri": HYPOGLOSSAL})
    assert r.status_code == 303 and r.headers["Location"].endswith("/id/nerve/hypoglossal")


@pytest.mark.parametrize("fmt", GRAPH_FORMATS, ids=lambda f: f.name)
def test_conneg_and_suffix_give_the_same_rdf(client, fmt):
    by_accept = client.get(CODE_PATH, headers={"Accept": fmt.media_type})
    by_suffix = client.get(f"{CODE_PATH}.{fmt.extension}")
    for r in (by_accept, by_suffix):
        assert r.status_code == 200
        assert r.content_type == fmt.content_type
    assert by_accept.data == by_suffix.data
    assert by_accept.headers["Vary"] == "Accept"
    g = Graph().parse(data=by_accept.data, format={"rdfxml": "xml", "ntriples": "nt", "jsonld": "json-ld"}
                      .get(fmt.name, fmt.name))
    assert (URIRef(CODE), KG.donorNerve, URIRef(HYPOGLOSSAL)) in g
    assert (URIRef(CODE), SKOS.notation, Literal("64868")) in g
    # incoming statements are part of the description too
    assert (URIRef("https://w3id.org/kgapp/id/source/seed-000"), KG.describesCode, URIRef(CODE)) in g


@pytest.mark.parametrize("accept,expected", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
    ("*/*", "html"), ("", "html"), ("application/ld+json", "jsonld"), ("application/rdf+xml", "rdfxml"),
    ("text/turtle;q=0.9, application/n-triples", "ntriples"), ("text/*", "html"),
])
def test_accept_header_picks_format(client, accept, expected):
    r = client.get(CODE_PATH, headers={"Accept": accept})
    assert r.status_code == 200 and r.content_type == BY_NAME[expected].content_type


def test_alternates_in_link_header_and_html_head(client):
    r = client.get(CODE_PATH)
    link = r.headers["Link"]
    page = r.get_data(as_text=True)
    for fmt in GRAPH_FORMATS:
        assert f'<{CODE_PATH}.{fmt.extension}>; rel="alternate"; type="{fmt.media_type}"' in link
        assert f'<link rel="alternate" type="{fmt.media_type}" href="{CODE_PATH}.{fmt.extension}">' in page
    assert f"<{CODE_PATH}.html>" in link
    assert client.get(f"{CODE_PATH}.html").content_type.startswith("text/html")


def test_identifiers_with_dots_are_not_mistaken_for_suffixes(client):
    assert "<h1>G51.0 Bell&#39;s palsy</h1>" in html(client, "/id/icd10cm/G51.0")
    r = client.get("/id/icd10cm/G51.0.ttl")
    assert r.status_code == 200 and r.content_type.startswith("text/turtle")


def test_406_when_nothing_offered_is_acceptable(client):
    r = client.get(CODE_PATH, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "text/turtle" in r.get_data(as_text=True)


@pytest.mark.parametrize("url", [
    "/id/code/cpt/00000", "/id/code/cpt/64868.exe", "/id/", "/id/..%2f..%2fetc%2fpasswd", "/id/%00",
    "/id/" + "a" * 5000, "/class/NoSuchClass", "/class/nope:Thing", "/class/ProcedureCode?page=99",
    "/no/such/route", "/resource.exe?iri=" + CODE,
])
def test_unknown_things_are_404_pages_with_a_search_box(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert 'role="search"' in r.get_data(as_text=True)


@pytest.mark.parametrize("iri", [
    "", "relative/path", "javascript:alert(1)", "..%2f..%2fetc%2fpasswd", "../../etc/passwd", "x" * 100_000,
    "http://example.org/<script>", "https://w3id.org/kgapp/id/code/cpt/64868> } DROP ALL {", "urn:x\u0000y",
    "http://example.org/nothing-here", "https://w3id.org/kgapp/id/", "\U0001F600",
])
def test_hostile_iri_values_never_500(client, iri):
    r = client.get("/resource", query_string={"iri": iri})
    assert r.status_code == 404
    assert "<script>" not in r.get_data(as_text=True).split("</header>", 1)[1]


def test_class_index_is_paginated(client, app):
    size = app.config["KGAPP"].page_size
    first = html(client, "/class/skos:Concept")
    assert "page 1 of " in first and 'rel="next" href="?page=2"' in first
    assert first.count("<li><a href=") == size
    second = html(client, "/class/skos:Concept?page=2")
    assert 'rel="prev"' in second and f'start="{size + 1}"' in second
    assert "page 1 of" not in html(client, "/class/ProcedureCode")
    assert html(client, "/class/ProcedureCode?page=junk").count(CODE_PATH) == 1


def test_validation_page_and_turtle(client):
    page = html(client, "/validation")
    assert "It conforms" in page and "Warning" in page
    assert "bilateral surgery indicator" in page and f'<td><a href="{CODE_PATH}">64868' in page
    r = client.get("/validation.ttl")
    assert r.status_code == 200 and r.content_type.startswith("text/turtle")
    g = Graph().parse(data=r.data, format="turtle")
    sh = "http://www.w3.org/ns/shacl#"
    assert len(list(g.subjects(URIRef(sh + "resultSeverity"), URIRef(sh + "Warning")))) == 6
    assert client.get("/validation", headers={"Accept": "text/turtle"}).data == r.data


@pytest.mark.parametrize("url", ["/", CODE_PATH, "/id/nerve/hypoglossal", "/search?q=nerve", "/validation", "/compare?code=64868",
                                 "/class/ProcedureCode", "/resource?iri=https%3A%2F%2Fw3id.org%2Fkgapp%2Fshapes%23ProcedureCodeShape"])
def test_pages_are_csp_friendly(client, url):
    page = client.get(url).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), "inline script"
    assert not re.search(r"\sstyle=", page) and not re.search(r"\son[a-z]+=", page)
    assert '<meta name="viewport"' in page


# -- escaping: a store built from data with a poisoned label and a javascript: IRI -----------------

POISON = "<script>alert('kg')</script>"


@pytest.fixture(scope="module")
def poisoned_client(tmp_path_factory):
    root = tmp_path_factory.mktemp("poisoned")
    data = root / "data"
    shutil.copytree(DATA, data)
    seed = data / "seed-000-64868.ttl"
    original = seed.read_text(encoding="utf-8")
    text = original.replace('skos:prefLabel "Facial–hypoglossal nerve anastomosis"@en',
                        f'skos:prefLabel "{POISON}"@en ;\n    skos:exactMatch <javascript:alert(1)>')
    assert text != original, "the seed file no longer has the label this test poisons"
    seed.write_text(text, encoding="utf-8")
    build(Config(store=root / "store", data_dirs=(data,)))
    return create_app({"store": root / "store", "testing": True}).test_client()


@pytest.mark.parametrize("url", [CODE_PATH, "/id/nerve/hypoglossal", "/", "/search?q=alert", "/class/ProcedureCode",
                                 "/compare?code=64868&code=64866", "/id/nerve/facial"])
def test_poisoned_labels_render_escaped(poisoned_client, url):
    page = html(poisoned_client, url)
    assert "&lt;script&gt;alert(&#39;kg&#39;)&lt;/script&gt;" in page
    assert POISON not in page
    assert 'href="javascript:' not in page


def test_javascript_iri_renders_as_text(poisoned_client):
    page = html(poisoned_client, CODE_PATH)
    assert '<span class="iri">javascript:alert(1)</span>' in page


def test_conflict_sits_on_the_row_it_concerns_and_readings_are_marked(client):
    page = html(client, CODE_PATH)
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Modifier 50 with 64868(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert 'class="conflict"' in row and "bilateral surgery indicator 0" in row
    anchor = re.search(r'href="/validation#(result-[0-9a-f]{12})"', row).group(1)
    assert f'id="{anchor}"' in html(client, "/validation")
    pos = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Inpatient hospital<(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert pos.startswith('<tr class="reading">')
    assert "kgapp's reading of the report" in pos and "inpatient operating room" in pos and ">high<" in pos
    note = re.search(r"<tr[^>]*>(?:(?!</tr>).)*site of service note(?:(?!</tr>).)*</tr>", page, re.S).group(0)
    assert "reading" not in note.split(">", 1)[0] and "kgapp's reading of the report" not in note


def test_a_blank_node_pointing_here_reads_as_its_type_and_label(client):
    page = html(client, CODE_PATH)
    incoming = page.split('id="incoming"', 1)[1]
    assert "validation result: This modifier 50 (bilateral) guidance" in incoming
    assert "anonymous node" not in incoming
