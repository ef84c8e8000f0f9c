"""The claim check in headless Chromium: from a code page to the form, findings with their evidence, a fact's page."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_code_page_to_check_to_findings_to_a_fact(page, live_server, artifacts):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(live_server.url + "/id/code/cpt/64868")
    page.get_by_role("link", name="Check a claim line for 64868").click()
    page.wait_for_url(re.compile(r"/check\?code=64868$"))
    assert page.get_by_label("Code").input_value() == "64868"

    page.get_by_label("Modifiers").fill("50")
    page.get_by_label("Diagnoses").fill("G51.0 R29.810")
    page.get_by_label("Payer").fill("aetna")
    page.get_by_role("button", name="Check").click()
    page.wait_for_url(re.compile(r"/check\?code=64868&modifier=50&.*dx=G51\.0"))  # a shareable URL
    findings = page.locator("li.finding")
    assert findings.count() >= 5
    first = findings.first
    assert "error" in first.get_attribute("class")
    errors = page.locator("li.finding.sev-error")
    assert {errors.nth(i).locator("a.rule code").inner_text() for i in range(errors.count())} == {
        "dx-excludes1", "modifier-50-bilateral-indicator"}
    page.screenshot(path=str(artifacts / "check-01-findings-1280.png"), full_page=True)

    bilateral = page.locator("li.finding", has_text="modifier-50-bilateral-indicator")
    assert bilateral.locator("p.sources").get_by_role("link").count() >= 2  # fee schedule and the report
    bilateral.locator("p.facts").get_by_role("link").first.click()
    page.wait_for_url(re.compile(r"/id/code/cpt/64868$"))
    assert page.locator("tr", has_text="bilateral surgery indicator").count() >= 1
    assert all(u.startswith(live_server.url) for u in requests), [u for u in requests if not u.startswith(live_server.url)]


def test_check_page_without_javascript(browser, live_server, artifacts):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(live_server.url + "/check")
    page.get_by_label("Code").fill("64600")
    page.get_by_label("Modifiers").fill("24 80")
    page.get_by_role("button", name="Check").click()
    page.wait_for_url(re.compile(r"/check\?code=64600"))
    rules = page.locator("li.finding a.rule code").all_inner_texts()
    assert "modifier-not-for-procedure" in rules and "modifier-assistant" in rules
    page.screenshot(path=str(artifacts / "check-02-no-js-390.png"), full_page=True)

    page.goto(live_server.url + "/check?code=12")
    assert page.get_by_role("alert").inner_text().startswith("code '12' is not a CPT or HCPCS code")
    context.close()
