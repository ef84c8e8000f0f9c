"""A coder's path through the pages in headless Chromium: home → search → code → donor nerve → download."""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, URIRef

from kgapp.namespaces import KG

pytestmark = pytest.mark.browser

CODE = URIRef("https://w3id.org/kgapp/id/code/cpt/64868")
HYPOGLOSSAL = URIRef("https://w3id.org/kgapp/id/nerve/hypoglossal")


def test_search_code_follow_donor_nerve_and_download_turtle(page, live_server, artifacts):
    page.goto(live_server.url + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "US procedure-billing knowledge graph"
    page.screenshot(path=str(artifacts / "pages-01-home.png"), full_page=True)

    page.get_by_label("Search codes, nerves, payers, diagnoses").fill("64868")
    page.get_by_label("Search codes, nerves, payers, diagnoses").press("Enter")
    page.wait_for_url(re.compile(r"/id/code/cpt/64868$"))
    assert page.get_by_role("heading", level=1).inner_text() == "64868 Facial–hypoglossal nerve anastomosis"
    assert page.locator("tr", has_text="bilateral surgery indicator").get_by_text("No bilateral adjustment").is_visible()
    page.screenshot(path=str(artifacts / "pages-02-code-64868.png"), full_page=True)

    page.locator("tr", has_text="donor nerve").get_by_role("link", name="hypoglossal nerve").click()
    page.wait_for_url(re.compile(r"/id/nerve/hypoglossal$"))
    assert page.get_by_role("heading", level=1).inner_text() == "hypoglossal nerve"
    incoming = page.locator("section#incoming")
    assert incoming.get_by_role("link", name="64868 Facial–hypoglossal nerve anastomosis").count() >= 1
    page.screenshot(path=str(artifacts / "pages-03-hypoglossal.png"), full_page=True)

    with page.expect_download() as info:
        page.locator("p.formats").get_by_role("link", name="ttl").click()
    download = info.value
    target = artifacts / "hypoglossal.ttl"
    download.save_as(str(target))
    g = Graph().parse(target, format="turtle")
    assert (CODE, KG.donorNerve, HYPOGLOSSAL) in g


def test_pages_work_without_javascript_on_a_phone(browser, live_server, artifacts):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 740})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/search?q=spasm")
        page.get_by_role("link", name="hemifacial spasm", exact=True).click()
        page.wait_for_url(re.compile(r"/id/indication/hemifacial-spasm$"))
        page.goto(live_server.url + "/id/code/cpt/64612")
        # nothing wider than the screen: tables stack into cards on small viewports
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 375
        page.screenshot(path=str(artifacts / "pages-04-phone-64612.png"), full_page=True)
    finally:
        context.close()


def test_autocomplete_suggests_labels(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_label("Search codes, nerves, payers, diagnoses").fill("hypogl")
    # a selector wait, not wait_for_function: a string predicate is eval'd, which the CSP forbids
    page.wait_for_selector("#search-suggestions option", state="attached")
    values = page.eval_on_selector_all("#search-suggestions option", "els => els.map(e => e.value)")
    assert "hypoglossal nerve" in values
