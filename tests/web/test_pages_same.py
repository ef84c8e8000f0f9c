"""Entity pages built in Python show what the Jinja pages showed; the page cache answers the same bytes as a
fresh render, per build; a node's incoming links paged property by property are the same links.

``pages_before.json`` holds the text and links of several pages as main's Jinja templates rendered them
(commit 7095d54, before kgapp.web.entity_page). When the shipped data changes those pages on purpose,
write it again with ``python tests/web/test_pages_same.py`` and review the diff.
"""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from paths import DATA

from kgapp.build import build
from kgapp.config import Config
from kgapp.read import incoming
from kgapp.read.describe import describe
from kgapp.web import close_app, create_app

BEFORE = Path(__file__).with_name("pages_before.json")
PAGES = ["/id/code/cpt/64868", "/id/nerve/facial", "/id/nerve/hypoglossal", "/id/modifier/50", "/id/payer/aetna",
         "/id/payer-policy/seed-000/aetna", "/id/modifier-guidance/seed-000/64868-50", "/id/procedure-type/nerve-anastomosis",
         "/id/source/seed-000", "/id/interpretation/seed-000/pos-19", "/id/icd10cm/G51.0",
         "/resource?iri=https%3A%2F%2Fw3id.org%2Fkgapp%2Fontology%23ProcedureCode",
         "/resource?iri=https%3A%2F%2Fw3id.org%2Fkgapp%2Fgraph%2Fseed-000-64868"]
FACIAL = "https://w3id.org/kgapp/id/nerve/facial"


class _Reader(HTMLParser):
    """A page's visible text (whitespace collapsed) and its links (href, title, text)."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.links: list[list[str]] = []
        self._open: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            a = dict(attrs)
            self._open.append([a.get("href") or "", a.get("title") or "", ""])

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            link = self._open.pop()
            link[2] = " ".join(link[2].split())
            self.links.append(link)

    def handle_data(self, data):
        self.text.append(data)
        for link in self._open:
            link[2] += data


def shown(html: str) -> dict:
    reader = _Reader()
    reader.feed(html)
    return {"text": " ".join(" ".join(reader.text).split()), "links": reader.links}


def test_pages_show_the_same_text_and_links_as_the_jinja_pages(make_app):
    before = json.loads(BEFORE.read_text(encoding="utf-8"))
    client = make_app(page_cache=False).test_client()
    assert sorted(before) == sorted(PAGES)
    for url in PAGES:
        r = client.get(url, headers={"Accept": "text/html"})
        assert r.status_code == 200, url
        now = shown(r.get_data(as_text=True))
        assert now["links"] == before[url]["links"], url
        assert now["text"] == before[url]["text"], url


def test_the_comparison_can_fail():
    page = '<p>Global period <a href="/id/x" title="X">90 days</a></p>'
    assert shown(page) != shown(page.replace("90", "10"))
    assert shown(page) != shown(page.replace("/id/x", "/id/y"))


def test_a_cached_page_is_the_same_bytes_as_a_fresh_render(make_app):
    cached, fresh = make_app().test_client(), make_app(page_cache=False).test_client()
    for url, accept in [("/id/code/cpt/64868", "text/html"), ("/id/nerve/facial", "text/html"),
                        ("/id/code/cpt/64868", "text/turtle"), ("/id/code/cpt/64868.nt", "*/*"),
                        ("/id/nerve/facial?incoming=2", "text/html")]:
        first = cached.get(url, headers={"Accept": accept})
        again = cached.get(url, headers={"Accept": accept})
        other = fresh.get(url, headers={"Accept": accept})
        assert first.status_code == again.status_code == other.status_code == 200
        assert first.get_data() == again.get_data() == other.get_data(), (url, accept)
        for header in ("Content-Type", "Link", "Vary"):
            assert first.headers.get(header) == again.headers.get(header) == other.headers.get(header)
        assert "default-src" in again.headers["Content-Security-Policy"]
    cache = cached.application.extensions["kgapp.serving"].current.pages
    assert cache.hits == 5 and len(cache) == 5
    assert make_app(page_cache=False).extensions["kgapp.serving"].current.pages is None


def test_the_negotiated_format_is_part_of_the_key(make_app):
    client = make_app().test_client()
    html = client.get("/id/code/cpt/64868", headers={"Accept": "text/html"})
    turtle = client.get("/id/code/cpt/64868", headers={"Accept": "text/turtle"})
    assert html.content_type.startswith("text/html") and turtle.content_type.startswith("text/turtle")
    assert client.get("/id/code/cpt/64868", headers={"Accept": "text/html"}).get_data() == html.get_data()
    assert client.get("/id/no-such-thing").status_code == 404


def test_a_new_build_is_not_served_the_old_builds_pages(store_copy, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    seed = data / "seed-000-64868.ttl"
    text = seed.read_text(encoding="utf-8").replace('"Facial–hypoglossal nerve anastomosis"@en',
                                                    '"Renamed in a later build"@en')
    assert "Renamed in a later build" in text
    app = create_app({"store": store_copy, "testing": True})
    try:
        client = app.test_client()
        first = client.get("/id/code/cpt/64868").get_data(as_text=True)
        assert "Facial–hypoglossal nerve anastomosis" in first and "Renamed" not in first
        seed.write_text(text, encoding="utf-8")
        build(Config(store=store_copy, data_dirs=(data,)))
        app.extensions["kgapp.serving"].request_reload()
        later = client.get("/id/code/cpt/64868").get_data(as_text=True)
        assert "Renamed in a later build" in later
    finally:
        close_app(app)


@pytest.mark.parametrize("size", [1, 3, 50])
def test_incoming_links_paged_by_property_are_the_same_pages(store, monkeypatch, size):
    pages = [describe(store, FACIAL, n, size) for n in range(1, 40)]
    monkeypatch.setattr(incoming, "SMALL", 2)  # the facial nerve now has "thousands" of links
    for n, before in enumerate(pages, 1):
        after = describe(store, FACIAL, n, size)
        assert after.incoming_total == before.incoming_total > 3
        assert after.incoming_truncated == before.incoming_truncated
        assert [(s.other.value, s.predicate.value, s.graphs) for s in after.incoming] == \
               [(s.other.value, s.predicate.value, s.graphs) for s in before.incoming]


def test_a_blank_node_pointing_here_is_paged_with_its_label(store, monkeypatch):
    code = "https://w3id.org/kgapp/id/code/cpt/64868"
    whole = describe(store, code, 1, 1000)
    assert any(s.other.kind == "bnode" for s in whole.incoming)
    monkeypatch.setattr(incoming, "SMALL", 0)
    paged = [s for n in range(1, whole.incoming_total + 1) for s in describe(store, code, n, 1).incoming]
    key = sorted((s.other.kind, s.other.label, s.predicate.value, tuple(s.graphs)) for s in paged)
    assert key == sorted((s.other.kind, s.other.label, s.predicate.value, tuple(s.graphs)) for s in whole.incoming)


def write_before(store: Path) -> None:
    """Record what the current rendering shows (run from a checkout whose pages are the reference)."""
    app = create_app({"store": store, "testing": True, "page_cache": False})
    client = app.test_client()
    found = {url: shown(client.get(url, headers={"Accept": "text/html"}).get_data(as_text=True)) for url in PAGES}
    BEFORE.write_text(json.dumps(found, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    close_app(app)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        build(Config(store=Path(tmp) / "store"))
        write_before(Path(tmp) / "store")
    print(f"wrote {BEFORE}: {len(PAGES)} pages")


def test_fragments_shared_by_pages_of_one_build_change_no_page(make_app):
    """IRI Terms and their HTML are kept per build (kgapp.read.describe._terms, Fragments' ``iris``): a page
    rendered after others is the page rendered first in a fresh app."""
    urls = ["/id/code/cpt/64868", "/id/nerve/facial", "/id/modifier/50", "/id/payer/aetna", "/id/code/cpt/64868"]
    for url in urls:
        fresh = make_app(page_cache=False).test_client().get(url).get_data()
        warm = make_app(page_cache=False).test_client()
        for other in PAGES:
            warm.get(other)
        assert warm.get(url).get_data() == fresh, url
