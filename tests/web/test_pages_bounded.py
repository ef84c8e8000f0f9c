"""Entity pages are bounded: their queries stop at the endpoint's time limit (503), and "what refers to
this" comes a page at a time, so a node with thousands of incoming links stays one small page."""

from __future__ import annotations

import re

from kgapp.read import diagram
from kgapp.read.deadline import Deadline, PageTimeout
from kgapp.read.describe import describe

FACIAL = "https://w3id.org/kgapp/id/nerve/facial"


def pairs(d) -> list[tuple[str, str]]:
    return [(s.other.value, s.predicate.value) for s in d.incoming]


def test_incoming_pages_cover_every_link_once(store):
    whole = describe(store, FACIAL, 1, 10_000)
    assert whole.incoming_total == len(whole.incoming) > 3 and not whole.incoming_truncated
    seen = []
    for number in range(1, whole.incoming_total + 1):
        d = describe(store, FACIAL, number, 1)
        assert d.incoming_total == whole.incoming_total
        assert d.incoming_truncated == (number < whole.incoming_total)
        seen += pairs(d)
    assert sorted(seen) == sorted(pairs(whole))
    assert describe(store, FACIAL, whole.incoming_total + 1, 1).incoming == []


def test_a_page_links_to_the_next_and_previous_incoming_pages(make_app):
    client = make_app(page_size=2).test_client()
    first = client.get("/id/nerve/facial").get_data(as_text=True)
    total = int(re.search(r"Links 1–2 of (\d+)\.", first).group(1))
    assert total > 2 and 'href="?incoming=2#incoming" rel="next"' in first and 'rel="prev"' not in first
    second = client.get("/id/nerve/facial?incoming=2").get_data(as_text=True)
    assert "Links 3–" in second and 'href="?incoming=1#incoming" rel="prev"' in second
    assert client.get("/id/nerve/facial?incoming=junk").status_code == 200  # read as page 1


def test_a_page_over_the_time_limit_is_stopped_with_503(make_app):
    client = make_app(query_timeout=1e-9, prerender_pages=False).test_client()  # a live render, not one read back
    r = client.get("/id/code/cpt/64868")
    assert r.status_code == 503 and r.headers["Retry-After"]
    assert "longer than" in r.get_data(as_text=True)


def test_the_deadline_lets_queries_run_until_the_limit(store):
    bounded = Deadline(store, 60)
    assert bool(bounded.query("ASK { ?s ?p ?o }")) and bounded.named_graphs() == store.named_graphs()
    late = Deadline(store, -1)
    try:
        late.query("ASK { ?s ?p ?o }")
    except PageTimeout as e:
        assert e.status == 503
    else:
        raise AssertionError("a query past the deadline ran")


def test_a_nerve_diagram_draws_at_most_max_codes_boxes(store, monkeypatch):
    monkeypatch.setattr(diagram, "MAX_CODES", 1)
    d = diagram.codes_of_nerve(store, FACIAL)
    assert d is not None and len(d.text) == 1
    assert any("more codes" in " ".join(b.lines) for b in d.boxes) and d.desc.endswith("more codes.")
