"""Accessibility checks with axe-core (vendored in tests/vendor/axe-core by tools/editor's `npm run build`).

axe compiles its message templates with ``new Function``, which kgapp's Content-Security-Policy forbids
(no 'unsafe-eval'), so axe runs in its own browser context made with ``bypass_csp=True``: use the
``a11y_page`` fixture (or ``a11y_context``) for the axe check, and the CSP-watching ``page`` fixture for
functional tests. Usage from any browser test module::

    from a11y import assert_no_serious_violations  # the a11y_page fixture comes from conftest

    def test_home_is_accessible(a11y_page, live_server):
        a11y_page.goto(live_server.url + "/")
        assert_no_serious_violations(a11y_page)
"""

from __future__ import annotations

from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


def a11y_context(browser, **options):
    """A browser context in which axe can be injected (CSP bypassed there only)."""
    return browser.new_context(bypass_csp=True, **options)


@pytest.fixture()
def a11y_page(browser):
    context = a11y_context(browser)
    yield context.new_page()
    context.close()


def axe_violations(page, impacts=BLOCKING, options: dict | None = None) -> list[dict]:
    """Run axe on the page as it is now; the violations of the given impacts, each with its nodes."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async (options) => {
             const result = await axe.run(document, Object.assign({resultTypes: ["violations"]}, options));
             return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map(n => n.target.join(" > ") + " :: " + n.failureSummary)}));
           }""", options or {})
    return [v for v in found if v["impact"] in impacts]


def assert_no_serious_violations(page, options: dict | None = None) -> None:
    """Fail with a readable list if axe finds any serious or critical violation on the page."""
    violations = axe_violations(page, options=options)
    report = "\n".join(f"- {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"][:5])
                       for v in violations)
    assert not violations, f"axe found serious/critical accessibility violations on {page.url}:\n{report}"
