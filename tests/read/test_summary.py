"""The code summary against the graph: every fact it shows is a statement of the graph (and of the tables below), none is missing."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from iris import CPT
from markupsafe import escape

from kgapp.namespaces import INFERRED_GRAPH, KG, VALIDATION_GRAPH, sparql_prologue
from kgapp.read.summary import LAYOUT, code_summary

P = sparql_prologue()
CODES = ("64600", "64612", "64864", "64866", "64868")
BASE = CPT


def summary_items(page: str) -> dict[str, list[tuple[str, str, str]]]:
    """fact key → [(predicate, value, item HTML)] as rendered in section#summary."""
    section = page.split('<section id="summary"', 1)[1].split("</section>", 1)[0]
    facts = {}
    for key, body in re.findall(r'<div class="fact fact-([a-z-]+)" id="fact-[a-z-]+">(.*?)</div>', section, re.S):
        facts[key] = [(htmllib.unescape(p), htmllib.unescape(o), item) for p, o, item in
                      re.findall(r'<li data-p="([^"]*)" data-o="([^"]*)"[^>]*>(.*?)</li>', body, re.S)]
    return facts


def stated(store, code: str, predicate: str) -> set[str]:
    """What the graph states for (code, predicate) in a source graph (the reasoner's graph does not count)."""
    return {r["o"].value for r in store.query(f"""SELECT ?o WHERE {{ GRAPH ?g {{ <{code}> <{predicate}> ?o }}
        FILTER(?g != <{INFERRED_GRAPH}>) }}""")}


@pytest.mark.parametrize("notation", CODES)
def test_every_summary_fact_is_the_graphs_answer(client, store, notation):
    code = BASE + notation
    page = client.get(f"/id/code/cpt/{notation}").get_data(as_text=True)
    tables = page.split('<section id="summary"', 1)[1].split("</section>", 1)[1]
    facts = summary_items(page)
    assert list(facts) == [key for key, _, _ in LAYOUT]
    for key, _, reads in LAYOUT:
        shown = facts[key]
        if key == "conflicts":
            expected = {r["m"].value for r in store.query(P + f"""SELECT ?m WHERE {{ GRAPH <{VALIDATION_GRAPH}> {{
                ?r sh:focusNode <{code}> ; sh:resultMessage ?m }} }}""")}
            assert {o for _, o, _ in shown} == expected
            assert all(p == str(VALIDATION_GRAPH) for p, _, _ in shown)
            continue
        for predicate, _ in reads:
            values = {o for p, o, _ in shown if p == predicate}
            if predicate == str(KG.hasInformationGap):  # the link is inferred (inverse of kg:gapSubject)
                expected = {r["g"].value for r in store.query(f"SELECT ?g WHERE {{ ?g <{KG.gapSubject}> <{code}> }}")}
            else:
                expected = stated(store, code, predicate)
            assert values == expected, (notation, key, predicate)
        assert {p for p, _, _ in shown} <= {p for p, _ in reads}
        for _, o, _ in shown:  # …and the statement tables below show the same statement
            assert (f'title="{escape(o)}"' in tables or str(escape(o)) in tables), (notation, key, o)


def test_indicator_words_and_sources_come_from_the_indicator_values(client, store):
    page = client.get("/id/code/cpt/64868").get_data(as_text=True)
    facts = summary_items(page)
    for key, words in (("global", "Ninety days of routine post-operative care"), ("bilateral", "No bilateral adjustment"),
                       ("assistant", "An assistant at surgery may be paid"),
                       ("co-surgeon", "Co-surgeons may be paid with supporting documentation"),
                       ("team", "Team surgery is not permitted")):
        (_, _, item), = facts[key]
        assert words in item and 'class="ref"' in item
    assert "90 days" in facts["global"][0][2] and "indicator 0" in facts["bilateral"][0][2]


def test_64868_summary_reads_like_a_coders_answer(client):
    page = client.get("/id/code/cpt/64868").get_data(as_text=True)
    facts = summary_items(page)
    nerves = " ".join(i for _, _, i in facts["nerves"])
    assert "facial nerve (CN VII)" in nerves and "hypoglossal nerve (CN XII)" in nerves
    (_, _, modifier), = facts["modifiers"]
    assert "50 bilateral procedure" in modifier and "conflict" in modifier and "both sides" in modifier
    places = {o.rsplit("/", 1)[-1]: item for _, o, item in facts["places"]}
    assert {"19", "21", "22"} <= set(places)
    assert "kgapp's reading" in places["21"] and "inpatient operating room" in places["21"] and "high" in places["21"]
    note = next(i for p, _, i in facts["places"] if p == str(KG.siteOfServiceNote))
    assert 'reading-badge' not in note and 'class="reading"' not in note  # the report's own words are not a reading
    assert len(facts["payers"]) == 5 and "Cigna-specific" in " ".join(i for _, _, i in facts["payers"])
    assert any("G51.0" in i for _, _, i in facts["diagnoses"])
    assert len(facts["conflicts"]) == 1 and 'href="/validation#result-' in facts["conflicts"][0][2]
    assert len(facts["gaps"]) == 6
    assert all('class="ref"' in i for f in facts.values() for _, _, i in f)  # every fact has its source marker
    assert 'href="/check?code=64868"' in page
    assert 'href="/compare?code=64864&amp;code=64866&amp;code=64868"' in page


def test_related_codes_and_branch_limits(client):
    facts = summary_items(client.get("/id/code/cpt/64600").get_data(as_text=True))
    assert {o.rsplit("/", 1)[-1] for _, o, _ in facts["related"]} == {"64605", "64610"}
    assert sum("trigeminal branch" in i for _, _, i in facts["sites"]) == 4
    facts = summary_items(client.get("/id/code/cpt/64612").get_data(as_text=True))
    related = " ".join(i for _, _, i in facts["related"])
    assert "J0585" in related and "drug billed separately" in related and "add-on guidance" in related
    assert len(facts["conflicts"]) == 2


def test_summary_model_and_page_agree(client, store):
    s = code_summary(store, BASE + "64866")
    facts = summary_items(client.get("/id/code/cpt/64866").get_data(as_text=True))
    for f in s.facts:
        assert [(v.predicate, v.value) for v in f.values] == [(p, o) for p, o, _ in facts[f.key]]
    assert s.title == "CPT 64866"


def test_diagrams_are_svg_with_title_desc_and_text_equivalent(client):
    page = client.get("/id/code/cpt/64868").get_data(as_text=True)
    svgs = re.findall(r"<svg .*?</svg>", page, re.S)
    assert len(svgs) == 2
    nerves, types = svgs
    assert 'role="img"' in nerves and "<title id=" in nerves and "<desc id=" in nerves
    assert "hypoglossal nerve" in nerves and "cranial nerve XII · donor" in nerves and "cranial nerve VII · target" in nerves
    assert nerves.index("hypoglossal nerve") < nerves.index("facial nerve</text>")  # donor drawn above the target
    assert [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", types) if t != "is a"] == \
        ["CPT 64868", "nerve anastomosis", "nerve reconstruction", "nerve procedure"]
    assert "<script" not in "".join(svgs) and " style=" not in "".join(svgs)
    assert 'class="diagram-text"' in page and 'donor nerve, cranial nerve XII: <a href="/id/nerve/hypoglossal">' in page
    single = client.get("/id/code/cpt/64612").get_data(as_text=True)
    assert "acts on" in single and "cranial nerve VII · target" in single


def test_nerve_page_draws_the_codes_that_target_it_or_take_it_as_donor(client):
    page = client.get("/id/nerve/hypoglossal").get_data(as_text=True)
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    assert "cranial nerve XII" in svg and "takes it as donor" in svg and "64868" in svg
    facial = client.get("/id/nerve/facial").get_data(as_text=True)
    assert facial.count("targets this nerve") >= 8  # four codes, drawn and in the text equivalent


def test_named_graph_page_links_its_download(client):
    graph = "https://w3id.org/kgapp/graph/seed-000-64868"
    page = client.get("/resource", query_string={"iri": graph}).get_data(as_text=True)
    assert 'href="/graph.ttl?iri=https%3A%2F%2Fw3id.org%2Fkgapp%2Fgraph%2Fseed-000-64868"' in page
    r = client.get("/graph.ttl", query_string={"iri": graph})
    assert r.status_code == 200 and r.content_type.startswith("text/turtle")
    assert "attachment" in r.headers["Content-Disposition"] and "Facial–hypoglossal" in r.get_data(as_text=True)
    for bad in ("https://w3id.org/kgapp/id/code/cpt/64868", "", "javascript:alert(1)"):
        assert client.get("/graph.ttl", query_string={"iri": bad}).status_code == 404
    assert client.get("/graph.exe", query_string={"iri": graph}).status_code == 404


@pytest.mark.parametrize("path,title", [("/id/code/cpt/64605", "CPT 64605 Trigeminal neurolysis at the foramen ovale"),
                                        ("/id/code/hcpcs/J0585", "HCPCS J0585 OnabotulinumtoxinA")])
def test_related_codes_carry_their_scheme_in_title_and_heading(client, path, title):
    page = client.get(path).get_data(as_text=True)
    assert f"<title>{title}" in page
    code, rest = title.split(" ", 1)[1].split(" ", 1)
    assert re.search(rf'<h1><span class="scheme-code">[A-Z]+ {code}</span> {re.escape(rest)}', page)
