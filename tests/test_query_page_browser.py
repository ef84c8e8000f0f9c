"""The query page in headless Chromium: pick an example, run it, read the codes off the table."""

from __future__ import annotations

import pytest

from kgapp.queries import get_query

pytestmark = pytest.mark.browser

CQ = "cq08-nerve-reconstruction-codes"  # expected: 64864, 64866, 64868 (only reasoning finds them)


def codes_in(store, text: str) -> list[str]:
    return [s["notation"].value for s in store.query(text)]


def test_example_runs_and_shows_codes(page, live_server, store, artifacts):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Only this page's own requests count: other surfaces (favicon, entity pages) are not under test here.
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and ("/sparql" in r.url or "/static/query." in r.url) else None)
    page.goto(live_server.url + "/sparql")
    assert "PREFIX kg: <https://w3id.org/kgapp/ontology#>" in page.input_value("#query-text")

    question = get_query(CQ).question
    page.select_option("#examples", CQ)
    assert page.input_value("#query-text") == get_query(CQ).text
    assert question in page.inner_text("#examples")
    page.click("#run")

    page.wait_for_selector("#results tbody tr")
    page.wait_for_selector("#results .term-note")  # labels arrived from the second query
    expected = codes_in(store, get_query(CQ).text)
    assert expected == ["64864", "64866", "64868"]
    notation_column = page.eval_on_selector_all(
        "#results tbody tr", "rows => rows.map(r => r.cells[2].firstChild.textContent)")
    assert notation_column == expected
    assert page.inner_text("#status").startswith("3 rows in ")

    first_link = page.get_attribute("#results tbody tr a.iri", "href")
    assert first_link == "/id/code/cpt/64864"
    assert page.inner_text("#results tbody tr a.iri") == "Facial nerve suture, extracranial"
    assert page.get_attribute("#permalink", "href").startswith("/sparql?qtext=")
    downloads = page.eval_on_selector_all("#download-links a", "as => as.map(a => a.textContent)")
    assert downloads == ["json", "xml", "csv", "tsv"]
    page.screenshot(path=str(artifacts / "query-page.png"), full_page=True)
    assert errors == []


def test_ctrl_enter_permalink_and_errors(page, live_server):
    page.goto(live_server.url + "/sparql?qtext=" + "ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D")
    page.wait_for_selector("#status:has-text('Answer: yes')")  # a permalink runs its query

    page.fill("#query-text", "SELECT * WHERE { ?s ?p }")
    page.press("#query-text", "Control+Enter")
    page.wait_for_selector("#query-error:not([hidden])")
    assert "error at 1:" in page.inner_text("#query-error")
    assert "400" in page.inner_text("#status")

    page.fill("#query-text", "CONSTRUCT { ?c <http://example.org/p> \"x\\ty\"@en } "
                             "WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> \"64600\" }")
    page.press("#query-text", "Control+Enter")
    page.wait_for_selector("#results tbody tr")
    cells = page.eval_on_selector_all("#results tbody tr td", "tds => tds.map(td => td.textContent)")
    assert cells[0] == "1" and cells[3] == "x\ty@en"
    downloads = page.eval_on_selector_all("#download-links a", "as => as.map(a => a.textContent)")
    assert "turtle" in downloads and "csv" not in downloads
