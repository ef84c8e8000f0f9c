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
    assert page.get_by_role("heading", level=1).inner_text() == "CPT 64868 Facial–hypoglossal nerve anastomosis"
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


def test_conflicts_and_kgapps_readings_show_beside_their_statements(page, live_server, artifacts):
    """Issue 12: a SHACL conflict sits on the row it concerns; kgapp's readings look unlike report statements."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(live_server.url + "/id/code/cpt/64868")
    guidance = page.locator("section#modifiers tr", has_text="Modifier 50 with 64868")
    conflict = guidance.locator("p.conflict")
    assert conflict.count() == 1 and conflict.is_visible()
    assert "bilateral surgery indicator 0" in conflict.inner_text()
    href = conflict.get_by_role("link").get_attribute("href")
    assert re.fullmatch(r"/validation#result-[0-9a-f]{12}", href)

    pos21 = page.locator("section#setting-and-care-team tr", has_text="Inpatient hospital")
    assert pos21.get_by_text("kgapp's reading of the report").is_visible()
    assert "“inpatient operating room”" in pos21.inner_text() and "high" in pos21.locator(".confidence").inner_text()
    stated = page.locator("section#setting-and-care-team tr", has_text="site of service note")
    assert stated.get_by_text("kgapp's reading of the report").count() == 0
    background = "el => getComputedStyle(el).backgroundColor"
    assert pos21.locator("td").first.evaluate(background) != stated.locator("td").first.evaluate(background)
    pos21.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "pages-05-reading-rows-1280.png"))
    guidance.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "pages-06-conflict-row-1280.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    guidance.scroll_into_view_if_needed()
    assert conflict.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "pages-07-conflict-row-390.png"))

    conflict.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/validation#result-"))
    row = page.locator("tr" + href[len("/validation"):])  # the very result, by its anchor
    assert "bilateral surgery indicator 0" in row.inner_text() and "64868" in row.inner_text()
    assert row.is_visible()


def test_64600_shows_each_of_its_conflicts_on_its_row(page, live_server):
    page.goto(live_server.url + "/id/code/cpt/64600")
    assert page.locator("tr", has_text="Modifier 24").locator("p.conflict").count() == 1
    assert page.locator("tr", has_text="severe facial motor dysfunction").locator("p.conflict").count() == 1
    assert page.locator("table.statements p.conflict").count() == 3
