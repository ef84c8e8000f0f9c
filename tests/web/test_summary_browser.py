"""Issue 16 in headless Chromium: code summary, compare, diagrams, small things, accessibility; desktop and phone shots."""

from __future__ import annotations

import re

import pytest
from a11y import a11y_context, assert_no_serious_violations
from rdflib import Graph, URIRef

from kgapp.namespaces import KG

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
RECONSTRUCTION = "/compare?code=64864&code=64866&code=64868"


def watch(page, live_server) -> list[str]:
    """Every URL the page asks for; the tests assert none leaves the app's own host."""
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def only_local(seen: list[str], live_server) -> None:
    outside = [u for u in seen if not u.startswith(live_server.url + "/") and not u.startswith("data:")]
    assert seen and outside == [], outside


def fits_width(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_code_summary_answers_in_one_screen(page, live_server, artifacts):
    seen = watch(page, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/id/code/cpt/64868")
    assert page.title() == "CPT 64868 Facial–hypoglossal nerve anastomosis · kgapp"
    assert page.get_by_role("heading", level=1).inner_text().startswith("CPT 64868")
    summary = page.locator("section#summary")
    facts = summary.locator("dl.facts > .fact")
    assert facts.count() == 17
    bottom = page.evaluate("document.querySelector('section#summary dl.facts').getBoundingClientRect().bottom")
    assert bottom <= DESKTOP["height"], f"the summary ends at {bottom}px, below the first screen"
    for key, words in (("global", "90 days"), ("bilateral", "No bilateral adjustment"), ("team", "not permitted"),
                       ("modifiers", "50 bilateral procedure"), ("payers", "Cigna"), ("diagnoses", "G51.0"),
                       ("conflicts", "bilateral surgery indicator 0"), ("gaps", "payer-specific payment rates")):
        fact = summary.locator(f"#fact-{key}")
        assert fact.is_visible() and words in fact.inner_text(), key
    items = summary.locator("li")
    assert items.count() > 30 and all(items.nth(i).locator("a.ref").count() >= 1 for i in range(items.count()))
    reading = summary.locator("#fact-places li.reading").first
    assert "kgapp's reading" in reading.inner_text() and "confidence" in reading.inner_text()
    background = "el => getComputedStyle(el).backgroundColor"
    stated = summary.locator("#fact-places li:not(.reading)").first
    assert reading.evaluate(background) != stated.evaluate(background)
    page.screenshot(path=str(artifacts / "summary-01-64868-1280.png"))

    page.set_viewport_size(PHONE)
    fits_width(page, PHONE["width"])
    page.screenshot(path=str(artifacts / "summary-02-64868-390.png"))
    page.set_viewport_size(DESKTOP)

    page.get_by_role("link", name="Check a claim line for 64868").click()
    page.wait_for_url(re.compile(r"/check\?code=64868$"))
    assert page.get_by_label("Code").input_value() == "64868"
    only_local(seen, live_server)


@pytest.mark.parametrize("code", ["64600", "64612", "64864", "64866"])
def test_every_code_summary_fits_the_first_screen(page, live_server, artifacts, code):
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + f"/id/code/cpt/{code}")
    bottom = page.evaluate("document.querySelector('section#summary dl.facts').getBoundingClientRect().bottom")
    assert bottom <= DESKTOP["height"], f"{code}: the summary ends at {bottom}px"
    page.screenshot(path=str(artifacts / f"summary-03-{code}-1280.png"))
    page.set_viewport_size(PHONE)
    fits_width(page, PHONE["width"])
    page.screenshot(path=str(artifacts / f"summary-04-{code}-390.png"), full_page=True)


def test_summary_source_marker_leads_to_its_source(page, live_server):
    page.goto(live_server.url + "/id/code/cpt/64868")
    ref = page.locator("#fact-bilateral a.ref").first
    target = ref.get_attribute("href")
    ref.click()
    assert "medicare-pfs-indicators" in page.locator(target).inner_text()


def test_compare_from_the_home_preset(page, live_server, artifacts):
    seen = watch(page, live_server)
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/")
    page.get_by_role("link", name=re.compile(r"^nerve reconstruction \(64864, 64866, 64868\)")).click()
    page.wait_for_url(re.compile(r"/compare\?code=64864&code=64866&code=64868$"))
    table = page.locator("table.compare")
    assert table.locator("thead th").all_inner_texts()[1:] == [
        "CPT 64864\nFacial nerve suture, extracranial", "CPT 64866\nFacial–spinal accessory nerve anastomosis",
        "CPT 64868\nFacial–hypoglossal nerve anastomosis"]
    differs, same = table.locator("tr#row-nerves"), table.locator("tr#row-global")
    assert differs.get_by_text("differs").is_visible() and same.get_by_text("differs").count() == 0
    colour = "el => getComputedStyle(el).backgroundColor"
    assert differs.locator("td").first.evaluate(colour) != same.locator("td").first.evaluate(colour)
    assert "hypoglossal nerve (CN XII)" in table.locator("tr#row-nerves td[data-code='64868']").inner_text()
    page.screenshot(path=str(artifacts / "compare-01-reconstruction-1280.png"), full_page=True)

    csv_href = page.get_by_role("link", name="csv", exact=True).get_attribute("href")
    body = page.request.get(live_server.url + csv_href).text()
    assert body.splitlines()[0] == "fact,differs,64864,64866,64868"

    page.set_viewport_size(PHONE)
    fits_width(page, PHONE["width"])  # the table scrolls inside its wrapper, the page does not
    page.screenshot(path=str(artifacts / "compare-02-reconstruction-390.png"))

    page.goto(live_server.url + "/id/code/cpt/64612")
    page.get_by_role("link", name="Compare side by side").click()
    page.wait_for_url(re.compile(r"/compare\?code=64600&code=64612$"))
    assert page.locator("tr#row-related td[data-code='64612']").get_by_text("J0585", exact=False).is_visible()
    page.screenshot(path=str(artifacts / "compare-03-injection-390.png"), full_page=True)
    only_local(seen, live_server)


@pytest.mark.parametrize("width", [1280, 390])
def test_diagrams_are_drawn_readable_and_in_the_page_colours(page, live_server, artifacts, width):
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(live_server.url + "/id/code/cpt/64868")
    svg = page.locator("figure#dg-nerves svg")
    assert svg.get_attribute("role") == "img"
    assert svg.locator("title").text_content() == "Nerves of CPT 64868"
    assert "hypoglossal nerve (cranial nerve XII) is joined to facial nerve (cranial nerve VII)" in \
        svg.locator("desc").text_content()
    box = svg.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    smallest = page.evaluate("Math.min(...[...document.querySelectorAll('svg.kg-diagram text')]"
                             ".map(t => t.getBoundingClientRect().height))")
    assert smallest >= 12, f"diagram text renders {smallest}px high"
    accent = page.locator("a").first.evaluate("el => getComputedStyle(el).color")
    target = svg.locator("g.box-target rect").evaluate("el => getComputedStyle(el).stroke")
    assert target == accent  # the target box is drawn in the page's link colour
    figure_text = page.locator("figure#dg-nerves figcaption").inner_text()
    assert "donor nerve, cranial nerve XII: hypoglossal nerve" in figure_text
    assert page.locator("figure#dg-types svg g.box text").all_text_contents()[0] == "CPT 64868"
    fits_width(page, width)
    page.locator("section#picture").screenshot(path=str(artifacts / f"diagram-01-64868-{width}.png"))
    page.goto(live_server.url + "/id/nerve/hypoglossal")
    assert "takes it as donor" in page.locator("section#picture svg").text_content()
    page.get_by_role("link", name="64868 Facial–hypoglossal nerve anastomosis").first.is_visible()
    fits_width(page, width)
    page.locator("section#picture").screenshot(path=str(artifacts / f"diagram-02-hypoglossal-{width}.png"))


def test_diagrams_need_no_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False, viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/id/nerve/facial")
        assert page.locator("section#picture svg g.box").count() == 5  # the nerve and four codes
    finally:
        context.close()


def test_graph_download_blank_node_labels_and_title(page, live_server, artifacts):
    seen = watch(page, live_server)
    page.goto(live_server.url + "/resource?iri=https%3A%2F%2Fw3id.org%2Fkgapp%2Fgraph%2Fseed-000-64868")
    page.set_viewport_size(PHONE)
    with page.expect_download() as info:
        page.locator("p.graph-download").get_by_role("link", name="ttl").click()
    target = artifacts / "seed-000-64868.ttl"
    info.value.save_as(str(target))
    g = Graph().parse(target, format="turtle")
    code = URIRef("https://w3id.org/kgapp/id/code/cpt/64868")
    assert (code, KG.donorNerve, URIRef("https://w3id.org/kgapp/id/nerve/hypoglossal")) in g
    assert (code, KG.globalPeriodDays, None) not in g  # only this graph: the indicator lives in another
    page.screenshot(path=str(artifacts / "graph-01-seed-000-390.png"))
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/id/code/cpt/64868")
    incoming = page.locator("section#incoming")
    assert incoming.get_by_text("validation result: This modifier 50 (bilateral) guidance", exact=False).is_visible()
    assert incoming.get_by_text("anonymous node").count() == 0
    incoming.screenshot(path=str(artifacts / "graph-02-incoming-1280.png"))
    only_local(seen, live_server)


@pytest.mark.parametrize("path", ["/", "/id/code/cpt/64868", RECONSTRUCTION, "/sparql",
                                  "/check?code=64868&modifier=50&dx=G51.0", "/id/nerve/facial"])
def test_axe_finds_no_serious_violations(browser, live_server, artifacts, path):
    for name, viewport in (("1280", DESKTOP), ("390", PHONE)):
        context = a11y_context(browser, viewport=viewport)
        try:
            page = context.new_page()
            page.goto(live_server.url + path)
            assert_no_serious_violations(page)
            slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
            page.screenshot(path=str(artifacts / f"a11y-{slug[:40]}-{name}.png"))
        finally:
            context.close()


def test_check_form_works_with_the_keyboard_alone(page, live_server, artifacts):
    page.goto(live_server.url + "/check")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # first stop: skip to content
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "code":
            break
    assert page.evaluate("document.activeElement.name") == "code"
    for name, value in (("code", "64868"), ("modifier", "50"), ("pos", "22"), ("payer", "aetna"), ("dx", "G51.0")):
        assert page.evaluate("document.activeElement.name") == name
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focused button shows it has focus
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/check\?code=64868&modifier=50&pos=22&payer=aetna&dx=G51\.0$"))
    findings = page.locator("section.findings")
    assert "modifier-50-bilateral-indicator" in findings.inner_text()
    page.screenshot(path=str(artifacts / "a11y-check-keyboard-1280.png"))
