"""Search: code notations jump to their page, words rank labels above notes, JSON for autocomplete."""

from __future__ import annotations

import sqlite3

import pytest

from kgapp.read.search import notation_match, search

CODE = "https://w3id.org/kgapp/id/code/cpt/64868"


@pytest.mark.parametrize("q,target", [
    ("64868", "/id/code/cpt/64868"), (" 64612 ", "/id/code/cpt/64612"), ("g51.0", "/id/icd10cm/G51.0"),
])
def test_a_notation_jumps_straight_to_its_page(client, q, target):
    r = client.get("/search", query_string={"q": q})
    assert r.status_code == 302
    assert r.headers["Location"] == target


@pytest.mark.parametrize("q,first,also", [
    ("hypoglossal", None, ["hypoglossal nerve", "64868 Facial–hypoglossal nerve anastomosis"]),
    ("spasm", None, ["hemifacial spasm", "G51.3 Clonic hemifacial spasm"]),
    ("Cigna", "Cigna", ["Cigna and 64868 (seed report 000)"]),
    ("facial nerve", "facial nerve", ["64864 Facial nerve suture, extracranial"]),
])
def test_words_match_labels_and_notes_ranked(store, q, first, also):
    hits = search(store, q)
    labels = [h.label for h in hits]
    if first:
        assert labels[0] == first
    for label in also:
        assert label in labels
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_labels_outrank_notes(store):
    hits = {h.label: h.score for h in search(store, "hypoglossal")}
    assert hits["hypoglossal nerve"] > hits["tongue weakness"]  # named vs. mentioned in a comment


def test_note_hits_show_a_snippet(client):
    page = client.get("/search", query_string={"q": "seldom"}).get_data(as_text=True)
    assert "Modifier 50 with 64868" in page and "seldom happens" in page


def test_search_page_lists_results_with_links(client):
    page = client.get("/search", query_string={"q": "hypoglossal"}).get_data(as_text=True)
    assert 'href="/id/nerve/hypoglossal"' in page and 'href="/id/code/cpt/64868"' in page


def test_json_for_autocomplete(client):
    r = client.get("/search", query_string={"q": "Cigna"}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.is_json
    body = r.get_json()
    assert body["query"] == "Cigna"
    assert body["results"][0] == {**body["results"][0], "label": "Cigna", "url": "/id/payer/cigna",
                                  "iri": "https://w3id.org/kgapp/id/payer/cigna"}
    code = client.get("/search?q=64868", headers={"Accept": "application/json"}).get_json()
    assert code["results"][0]["iri"] == CODE  # JSON clients get the hit, not a redirect


def test_ambiguous_notations_do_not_jump(store, client):
    assert notation_match(store, "0") is None  # several indicator values share it
    assert client.get("/search?q=0").status_code == 200


@pytest.mark.parametrize("q", ["", "   ", "xyzzy", '"', "\\", "<script>alert(1)</script>", "a" * 5000,
                               "'; DROP ALL; --", "}} SELECT * {", "ü ß 神经", "\x00"])
def test_odd_queries_are_harmless(client, q):
    r = client.get("/search", query_string={"q": q})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    j = client.get("/search", query_string={"q": q}, headers={"Accept": "application/json"})
    assert j.status_code == 200 and isinstance(j.get_json()["results"], list)


def test_nothing_found(store, client):
    assert search(store, "xyzzy") == []
    assert "0 results" in client.get("/search?q=xyzzy").get_data(as_text=True)


def test_a_code_is_found_through_its_indication(store):
    from kgapp.read.search import search

    hits = search(store, "spasm")
    code = next(h for h in hits if h.iri.endswith("/code/cpt/64612"))
    assert code.snippet in ("indication: hemifacial spasm", "prior treatment: oral antispasmodic medication")
    assert hits.index(code) < 10


def test_a_code_is_found_through_its_agent_and_ranks_after_the_agent(store):
    from kgapp.read.search import search

    hits = [h.iri.rsplit("/", 1)[-1] for h in search(store, "glycerol")]
    assert hits[:2] == ["glycerol", "64600"]


@pytest.mark.parametrize("q", ["spasm", "hypoglossal", "Cigna", "facial weakness", "ulnar", "g51", "50", "nerve"])
def test_the_full_text_index_finds_what_a_scan_of_the_store_finds(store, q):
    from kgapp.read.search import search

    class Unindexed:  # the same store without its index: search scans literals with SPARQL instead
        search_index = None
        local = None  # and read through SPARQL
        query = staticmethod(store.query)

    assert store.search_index is not None
    indexed = [(h.iri, h.score, h.snippet) for h in search(store, q)]
    scanned = [(h.iri, h.score, h.snippet) for h in search(Unindexed(), q)]
    assert indexed == scanned


def test_the_index_holds_each_text_of_a_subject_once(store):
    """A subject with several kgapp types (or a text in several graphs) is indexed once per text."""
    with sqlite3.connect(store.search_index) as db:
        rows = db.execute("SELECT count(*), count(DISTINCT s || ' ' || p || ' ' || text) FROM docs").fetchone()
    assert rows[0] == rows[1] > 500
