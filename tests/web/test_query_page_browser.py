"""The query page in headless Chromium: the SPARQL editor (highlighting, brackets, completion, error
markers), running examples, the sortable results table, the bar chart, keyboard-only use, the page
without JavaScript, and axe-core's accessibility check."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from a11y import assert_no_serious_violations

from kgapp.queries import get_query

pytestmark = pytest.mark.browser

CQ = "cq08-nerve-reconstruction-codes"  # expected: 64864, 64866, 64868 (only reasoning finds them)
KG = "https://w3id.org/kgapp/ontology#"
PER_TYPE = f"""PREFIX kg: <{KG}>
SELECT ?type (COUNT(DISTINCT ?code) AS ?codes) WHERE {{
  ?code a kg:ProcedureCode ;
        kg:hasProcedureType ?type .
}}
GROUP BY ?type
ORDER BY DESC(?codes) ?type
"""
SORTABLE = 'SELECT ?name ?n WHERE { VALUES (?name ?n) { ("beta" 2) ("alpha" 10) ("gamma" 1) } }'


def codes_in(store, text: str) -> list[str]:
    return [s["notation"].value for s in store.query(text)]


def set_query(page, text: str) -> None:
    """Replace the editor's text, as pasting would (the hidden textarea, the form field, follows)."""
    page.locator(".cm-content").fill(text)
    assert page.input_value("#query-text") == text


def run_query(page, text: str) -> None:
    set_query(page, text)
    page.press(".cm-content", "Control+Enter")
    wait_for_answer(page)


def wait_for_answer(page) -> None:
    """Until the run ended: rows, a yes/no answer, or the endpoint's error (not "Running…")."""
    # A function, not an expression string: Playwright would eval() the latter, which the CSP forbids.
    page.wait_for_function(
        r"() => / in \d+ ms|^Answer:|answered/.test(document.getElementById('status').textContent)")


def column(page, index: int) -> list[str]:
    return page.eval_on_selector_all(
        "#results tbody tr", f"rows => rows.map(r => r.cells[{index}].firstChild.textContent)")


def editor_focused(page) -> bool:
    return page.evaluate("""() => { const a = document.activeElement;
        return !!(a && a.shadowRoot && a.shadowRoot.activeElement
                  && a.shadowRoot.activeElement.classList.contains('cm-content')); }""")


def wait_for_completions(page) -> None:
    page.wait_for_selector(".cm-tooltip-autocomplete li")
    page.wait_for_timeout(150)  # CodeMirror ignores Enter for 75 ms after the list opens (no accidental picks)


def label_of(store, iri: str) -> str:
    rows = list(store.query(f"SELECT ?l WHERE {{ <{iri}> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"))
    return rows[0]["l"].value


def test_example_runs_and_shows_codes(page, live_server, store, artifacts):
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    # Only this page's own requests count: other surfaces (favicon, entity pages) are not under test here.
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and ("/sparql" in r.url or "/static/" in r.url) else None)
    page.goto(live_server.url + "/sparql")
    assert "PREFIX kg: <https://w3id.org/kgapp/ontology#>" in page.input_value("#query-text")
    page.wait_for_selector(".cm-content")

    question = get_query(CQ).question
    page.select_option("#examples", CQ)
    assert page.input_value("#query-text") == get_query(CQ).text
    assert "SELECT" in page.inner_text(".cm-content")  # the example is in the editor, not only the textarea
    assert question in page.inner_text("#examples")
    page.click("#run")

    page.wait_for_selector("#results tbody tr")
    page.wait_for_selector("#results .term-note")  # labels arrived from the second query
    expected = codes_in(store, get_query(CQ).text)
    assert expected == ["64864", "64866", "64868"]
    assert column(page, 2) == expected
    assert page.inner_text("#status").startswith("3 rows in ")

    first_link = page.get_attribute("#results tbody tr a.iri", "href")
    assert first_link == "/id/code/cpt/64864"
    assert page.inner_text("#results tbody tr a.iri") == "Facial nerve suture, extracranial"
    assert page.get_attribute("#permalink", "href").startswith("/sparql?qtext=")
    downloads = page.eval_on_selector_all("#download-links a", "as => as.map(a => a.textContent)")
    assert downloads == ["json", "xml", "csv", "tsv"]
    page.screenshot(path=str(artifacts / "query-page.png"), full_page=True)
    assert errors == []
    # Everything the page loaded came from this server: the editor is vendored, nothing from a CDN.
    assert requests and all(u.startswith(live_server.url + "/") for u in requests), requests
    assert any("/static/vendor/sparql-editor.min.js" in u for u in requests)


def test_ctrl_enter_permalink_and_errors(page, live_server):
    page.goto(live_server.url + "/sparql?qtext=" + "ASK%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D")
    page.wait_for_selector("#status:has-text('Answer: yes')")  # a permalink runs its query

    set_query(page, "SELECT * WHERE { ?s ?p }")
    page.press(".cm-content", "Control+Enter")
    page.wait_for_selector("#query-error:not([hidden])")
    assert "error at 1:" in page.inner_text("#query-error")
    assert "400" in page.inner_text("#status")

    set_query(page, "CONSTRUCT { ?c <http://example.org/p> \"x\\ty\"@en } "
                    "WHERE { ?c <http://www.w3.org/2004/02/skos/core#notation> \"64600\" }")
    page.press(".cm-content", "Control+Enter")
    page.wait_for_selector("#results tbody tr")
    cells = page.eval_on_selector_all("#results tbody tr td", "tds => tds.map(td => td.textContent)")
    assert cells[0] == "1" and cells[3] == "x\ty@en"
    downloads = page.eval_on_selector_all("#download-links a", "as => as.map(a => a.textContent)")
    assert "turtle" in downloads and "csv" not in downloads


def test_editor_highlights_tokens_and_matches_brackets(page, live_server):
    page.goto(live_server.url + "/sparql")
    page.wait_for_selector(".cm-content .tok-keyword")
    assert page.is_hidden("#query-text")  # enhanced: the editor shows, the textarea stays the form field
    tokens = page.eval_on_selector_all(".cm-content [class^=tok-]", "es => es.map(e => [e.className, e.textContent])")
    assert ["tok-keyword", "SELECT"] in tokens and ["tok-keyword", "WHERE"] in tokens
    assert ["tok-variable", "?code"] in tokens
    assert ["tok-iri", "kg:ProcedureCode"] in tokens
    assert ["tok-iri", "<https://w3id.org/kgapp/ontology#>"] in tokens
    # The token colours come from the static stylesheet linked inside the editor's shadow root.
    assert page.eval_on_selector(".cm-content .tok-keyword", "e => getComputedStyle(e).color") == "rgb(122, 30, 143)"
    assert page.get_attribute(".cm-content", "aria-label") == "SPARQL query"
    page.click("#query-label")  # the visible label still leads to the field
    assert editor_focused(page)

    set_query(page, 'SELECT * WHERE { ?s ?p "a string" } # the end')
    page.keyboard.press("End")
    for _ in range(len(" # the end")):
        page.keyboard.press("ArrowLeft")  # the cursor just after "}"
    matched = page.eval_on_selector_all(".cm-matchingBracket", "es => es.map(e => e.textContent)")
    assert sorted(matched) == ["{", "}"]
    classes = dict((t, c) for c, t in page.eval_on_selector_all(
        ".cm-content [class^=tok-]", "es => es.map(e => [e.className, e.textContent])"))
    assert classes['"a string"'] == "tok-string" and classes["# the end"] == "tok-comment"


def test_completion_offers_prefixes_and_ontology_terms_with_labels(page, live_server, store):
    page.goto(live_server.url + "/sparql")
    set_query(page, "SELECT * WHERE { ?c a kg:Proc")
    page.keyboard.press("Control+Space")
    wait_for_completions(page)
    options = page.eval_on_selector_all(".cm-tooltip-autocomplete li", "ls => ls.map(l => l.textContent)")
    label = label_of(store, KG + "ProcedureCode")  # the ontology's own label
    assert f"kg:ProcedureCode{label} · class" in options
    assert any(o.startswith("kg:hasProcedureType") and o.endswith("· property") for o in options)
    page.keyboard.press("Enter")  # the first (best) option: the query had no PREFIX kg, so it is added
    assert page.input_value("#query-text") == (f"PREFIX kg: <{KG}>\nSELECT * WHERE {{ ?c a kg:ProcedureCode")

    set_query(page, "")
    page.keyboard.type("PREFIX sk")  # completion opens by itself while typing
    wait_for_completions(page)
    assert "skos: <http://www.w3.org/2004/02/skos/core#>" in page.inner_text(".cm-tooltip-autocomplete")
    page.keyboard.press("Enter")
    assert page.input_value("#query-text") == "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>"

    set_query(page, "SELECT ?code ?label WHERE { ?code ?p ?la")
    page.keyboard.press("Control+Space")
    wait_for_completions(page)
    assert page.eval_on_selector_all(".cm-tooltip-autocomplete li", "ls => ls.map(l => l.textContent)") == ["?label"]


def test_syntax_error_is_marked_at_its_line_and_column(page, live_server, artifacts):
    page.goto(live_server.url + "/sparql")
    run_query(page, "SELECT ?x WHERE {\n  ?x ?p ?o .\n  ?x foo:bar ?o .\n}")
    assert "error at 3:13" in page.inner_text("#query-error")  # Oxigraph: after the undeclared foo:bar
    # The editor marks line 3 (gutter and underline) and the cursor is at column 13.
    page.wait_for_selector(".cm-lintRange-error")
    line = page.eval_on_selector(".cm-lintRange-error", "e => e.closest('.cm-line').textContent")
    assert line == "  ?x foo:bar ?o ."
    assert page.inner_text(".cm-activeLineGutter") == "3"
    assert page.locator(".cm-gutter-lint .cm-lint-marker-error").count() == 1
    page.screenshot(path=str(artifacts / "query-error-marker.png"))
    go = page.get_by_role("button", name="Go to line 3, column 13")
    go.click()
    assert editor_focused(page)
    page.keyboard.type("X")
    assert page.input_value("#query-text").split("\n")[2] == "  ?x foo:barX ?o ."
    assert page.locator(".cm-lintRange-error").count() == 0  # editing clears the stale marker


def test_results_sort_on_header_click(page, live_server):
    page.goto(live_server.url + "/sparql")
    run_query(page, SORTABLE)
    assert column(page, 1) == ["beta", "alpha", "gamma"]
    n = page.get_by_role("button", name="Sort by n", exact=True)
    n.click()
    assert column(page, 2) == ["1", "2", "10"]  # numbers sort as numbers
    assert page.get_attribute("#results th:nth-child(3)", "aria-sort") == "ascending"
    n.click()
    assert column(page, 2) == ["10", "2", "1"]
    assert page.get_attribute("#results th:nth-child(3)", "aria-sort") == "descending"
    page.get_by_role("button", name="Sort by name", exact=True).click()
    assert column(page, 1) == ["alpha", "beta", "gamma"]
    assert page.get_attribute("#results th:nth-child(3)", "aria-sort") is None
    page.get_by_role("button", name="Sort by #").click()
    assert column(page, 1) == ["beta", "alpha", "gamma"]  # back to the endpoint's order


def test_label_and_number_answer_draws_a_bar_chart(page, live_server, store, artifacts):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/sparql")
    run_query(page, PER_TYPE)
    expected = [(r["type"].value, int(r["codes"].value)) for r in store.query(PER_TYPE)]
    assert len(expected) >= 2
    page.wait_for_selector("#chart svg")
    bars = page.locator("#chart svg rect.bar")
    assert bars.count() == len(expected) == page.locator("#results tbody tr").count()
    values = page.eval_on_selector_all("#chart .bar-value", "ts => ts.map(t => Number(t.textContent))")
    assert values == [n for _, n in expected]
    widths = page.eval_on_selector_all("#chart rect.bar", "rs => rs.map(r => r.getBoundingClientRect().width)")
    assert widths[0] == max(widths) and widths[-1] <= widths[0]
    # Bars are named by the types' labels, as in the table (fetched by the page's label query).
    first_label = page.text_content("#chart .bar-label >> nth=0")
    assert first_label == page.inner_text("#results tbody tr >> nth=0 >> a.iri")
    assert page.get_attribute("#chart svg", "role") == "img"
    assert page.text_content("#chart svg > title") == "Bar chart: codes by type"
    page.screenshot(path=str(artifacts / "query-chart-desktop-1280.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    page.screenshot(path=str(artifacts / "query-chart-phone-390.png"), full_page=True)

    run_query(page, SORTABLE.replace("?name ?n WHERE", "?name WHERE"))  # no number, no chart
    assert page.is_hidden("#chart")


def test_keyboard_only_use(page, live_server):
    page.goto(live_server.url + "/sparql")
    page.wait_for_selector(".cm-content")
    for _ in range(30):  # Tab from the top of the page to the editor
        page.keyboard.press("Tab")
        if editor_focused(page):
            break
    assert editor_focused(page)
    page.keyboard.press("Control+a")
    page.keyboard.type(SORTABLE)  # typed key by key: auto-closed brackets and quotes are stepped over
    assert page.input_value("#query-text") == SORTABLE
    page.keyboard.press("Control+Enter")
    wait_for_answer(page)
    assert page.inner_text("#status").startswith("3 rows in ")
    for _ in range(30):  # Tab on, out of the editor, to the results' sort buttons
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('button.sort') && document.activeElement.textContent === 'n'"):
            break
    else:
        pytest.fail("Tab never reached the results' sort button for n")
    page.keyboard.press("Enter")
    assert column(page, 2) == ["1", "2", "10"]
    page.keyboard.press("Space")
    assert column(page, 2) == ["10", "2", "1"]


def test_query_page_works_without_javascript(browser, live_server, artifacts):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844},
                                  accept_downloads=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/sparql")
        assert page.is_visible("#query-text") and page.locator(".cm-content").count() == 0
        assert "the answer downloads" in page.inner_text("#query-form")
        page.screenshot(path=str(artifacts / "query-no-js-phone-390.png"), full_page=True)
        page.fill("#query-text", get_query(CQ).text)
        with page.expect_download() as info:
            page.click("#run")  # the form's GET to /sparql: the browser saves the SPARQL results file
        download = info.value
        assert download.url.startswith(live_server.url + "/sparql?query=%23+Which+codes")
        body = Path(download.path()).read_text(encoding="utf-8")
        assert body.startswith("<?xml") and "sparql-results" in body
        for code in ("64864", "64866", "64868"):
            assert f">{code}<" in body
    finally:
        context.close()


def test_axe_finds_no_serious_violations(a11y_page, live_server, artifacts):
    a11y_page.set_viewport_size({"width": 1280, "height": 900})
    a11y_page.goto(live_server.url + "/")
    assert_no_serious_violations(a11y_page)

    a11y_page.goto(live_server.url + "/sparql?qtext=" + quote(PER_TYPE))
    a11y_page.wait_for_selector("#chart svg")  # editor, results table and chart all on the page
    assert_no_serious_violations(a11y_page)

    a11y_page.goto(live_server.url + "/sparql")
    set_query(a11y_page, "SELECT ?x WHERE {\n  ?x foo:bar ?o .\n}")
    a11y_page.press(".cm-content", "Control+Enter")
    a11y_page.wait_for_selector(".cm-lintRange-error")
    assert_no_serious_violations(a11y_page)  # the error message and its marker (and any completion list left open)

    set_query(a11y_page, "SELECT * WHERE { ?c ")
    a11y_page.keyboard.press("Control+Space")
    wait_for_completions(a11y_page)  # a long list of every term: it scrolls
    assert_no_serious_violations(a11y_page)

    set_query(a11y_page, "SELECT * WHERE { ?c a kg:Proc")
    a11y_page.keyboard.press("Control+Space")
    wait_for_completions(a11y_page)
    assert_no_serious_violations(a11y_page)  # the completion list


def test_axe_helper_reports_violations(a11y_page):
    """The helper itself: a page with an unlabelled image and field fails with both named."""
    from a11y import axe_violations

    a11y_page.set_content('<html lang="en"><title>t</title><main><img src="data:,"><input></main></html>')
    found = {v["id"] for v in axe_violations(a11y_page)}
    assert {"image-alt", "label"} <= found
    with pytest.raises(AssertionError, match="image-alt"):
        assert_no_serious_violations(a11y_page)
