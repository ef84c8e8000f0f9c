"""Safe to serve publicly: security headers everywhere, a CSP the pages live with, no traversal, no tracebacks."""

from __future__ import annotations

import re

import pytest

from kgapp.web.security import CONTENT_SECURITY_POLICY

EVERY_SURFACE = ["/", "/sparql", "/sparql?query=ASK%7B%7D", "/sparql?query=SELECT", "/id/code/cpt/64868",
                 "/id/code/cpt/64868.ttl", "/id/nothing", "/search?q=nerve", "/validation", "/class/ProcedureCode",
                 "/export.nt", "/.well-known/void", "/static/style.css", "/healthz", "/readyz"]
PAGES = ["/", "/sparql", "/id/code/cpt/64868", "/id/nerve/hypoglossal", "/search?q=nerve", "/validation",
         "/class/ProcedureCode", "/id/nothing"]


@pytest.mark.parametrize("url", EVERY_SURFACE)
def test_security_headers_on_every_response(client, url):
    with client.get(url, headers={"Accept": "text/html,*/*;q=0.8"}) as r:  # closes the static file
        headers = r.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"


def test_the_policy_allows_no_inline_script_or_style():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("url", PAGES)
def test_pages_carry_no_inline_script_style_or_handlers(client, url):
    html = client.get(url, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<html" in html
    assert all(tag.find("src=") > 0 for tag in re.findall(r"<script[^>]*>", html))  # external scripts only
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=|javascript:", html, re.I)


# -- path traversal ---------------------------------------------------------------------------------

TRAVERSALS = [
    "/static/..%2f..%2fpyproject.toml", "/static/..%2F..%2F..%2Fpyproject.toml", "/static/%2e%2e/__init__.py",
    "/static/..%5c..%5cpyproject.toml", "/static/....//....//pyproject.toml", "/static/%2e%2e%2f%2e%2e%2fetc/passwd",
    "/id/..%2f..%2f..%2fetc%2fpasswd", "/id/code/..%2f..%2f..%2fpyproject.toml", "/id/%2e%2e/%2e%2e/etc/passwd",
    "/class/..%2f..%2fetc%2fpasswd", "/class/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/export.%2e%2e%2fpyproject.toml", "/export.ttl%2f..%2f..%2fpyproject.toml", "/void.%2e%2e%2fetc%2fpasswd",
    "/resource.%2e%2e%2f?iri=file:///etc/passwd", "/resource?iri=file:///etc/passwd",
    "/resource?iri=..%2f..%2fpyproject.toml", "/validation.%2e%2e%2fpyproject.toml",
    "/sparql?query=ASK%7B%7D&format=..%2f..%2fetc%2fpasswd", "/search?q=..%2f..%2fetc%2fpasswd",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_no_path_traversal(client, url):
    with client.get(url) as r:
        body = r.get_data(as_text=True)
    assert r.status_code in (200, 404, 406), (r.status_code, body[:200])
    assert "root:x:0:0" not in body and "[build-system]" not in body and "def create_app" not in body
    if r.status_code == 200:
        assert url.startswith(("/search", "/sparql"))  # a search for the text, or an unknown format= ignored


# -- no debug mode, no tracebacks -----------------------------------------------------------------------

def test_no_debug_mode(app):
    assert app.debug is False and app.config["DEBUG"] is False


def test_an_unexpected_error_is_a_plain_500_without_traceback(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handler answers

    @app.route("/boom")
    def boom():
        raise ValueError("secret internal detail")

    r = app.test_client().get("/boom")
    assert r.status_code == 500 and r.headers["Content-Type"] == "text/plain; charset=utf-8"
    body = r.get_data(as_text=True)
    assert "Traceback" not in body and "secret internal detail" not in body
    assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


# -- the browser lives with the policy ---------------------------------------------------------------

@pytest.mark.browser
@pytest.mark.parametrize("path", ["/sparql?qtext=SELECT%20%2A%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20LIMIT%203",
                                  "/id/code/cpt/64868", "/search?q=nerve"])
def test_chromium_reports_no_violation_and_blocks_injected_script(browser, live_server, path):
    context = browser.new_context()  # not the `page` fixture: this test provokes a violation on purpose
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    response = page.goto(live_server.url + path)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    if path.startswith("/sparql"):
        page.wait_for_selector("#results tbody tr")  # query.js ran, fetched and rendered under the policy
    page.wait_for_load_state("networkidle")
    assert violations == []

    # The control: inline script injected into the page is refused, and the refusal is seen.
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text, timeout=5000):
        page.evaluate("""() => { const s = document.createElement('script');
                                 s.textContent = 'window.injected = true'; document.body.append(s); }""")
    assert page.evaluate("() => window.injected === undefined")
    assert any("Content Security Policy" in v for v in violations)
    context.close()
