"""Pages read in-process by pattern (kgapp.read.direct) are the pages read through SPARQL, byte for byte, and
each lookup stays bounded: a time check before it, a cap on the incoming quads it reads."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from kgapp.read import direct, incoming
from kgapp.read.deadline import Deadline, PageTimeout
from kgapp.read.describe import describe
from kgapp.read.labels import labels
from kgapp.store.embedded import EmbeddedStore

FACIAL = "https://w3id.org/kgapp/id/nerve/facial"
CODE = "https://w3id.org/kgapp/id/code/cpt/64868"


class OverSparql:
    """The same store without its local pyoxigraph store: every read goes through SPARQL, as on a remote one."""

    local = None

    def __init__(self, store):
        self.store, self.memo = store, {}

    def __getattr__(self, name):
        return getattr(self.store, name)


def every_iri(store) -> list[str]:
    rows = store.query("SELECT DISTINCT ?x WHERE { { ?x ?p ?o } UNION { ?s ?p ?x } FILTER(isIRI(?x)) }")
    return sorted(r["x"].value for r in rows)


def test_every_page_is_the_same_bytes_in_process_and_through_sparql(make_app, store, monkeypatch):
    urls = ["/resource?iri=" + quote(iri, safe="") for iri in every_iri(store)]
    urls += ["/id/nerve/facial?incoming=2", "/id/code/cpt/64868.ttl"]
    in_process = make_app(page_cache=False).test_client()
    pages = {url: in_process.get(url, follow_redirects=True) for url in urls}
    monkeypatch.setattr(EmbeddedStore, "local", property(lambda self: None))
    over_sparql = make_app(page_cache=False).test_client()
    assert direct.reader(over_sparql.application.extensions["kgapp.serving"].current.store) is None
    for url, page in pages.items():
        assert page.status_code == 200, url
        assert over_sparql.get(url, follow_redirects=True).get_data() == page.get_data(), url


def test_labels_are_the_same_in_process_and_through_sparql(store):
    iris = every_iri(store)
    assert labels(OverSparql(store), iris) == labels(EmbeddedStore.open_build(store.folder), iris)


@pytest.mark.parametrize("small", [0, 2, 1000])
def test_incoming_links_are_the_same_pages_in_process(store, monkeypatch, small):
    monkeypatch.setattr(incoming, "SMALL", small)
    for iri in (FACIAL, CODE):
        for n in (1, 2, 3):
            here, there = describe(store, iri, n, 3), describe(OverSparql(store), iri, n, 3)
            assert (here.incoming_total, here.incoming_truncated) == (there.incoming_total, there.incoming_truncated)
            assert [(s.other.value, s.predicate.value, s.graphs) for s in here.incoming] == \
                   [(s.other.value, s.predicate.value, s.graphs) for s in there.incoming]


class Counting:
    """A local store that counts the quads its lookups hand out."""

    def __init__(self, local):
        self.local, self.read = local, 0

    def quads_for_pattern(self, *pattern):
        for q in self.local.quads_for_pattern(*pattern):
            self.read += 1
            yield q


def test_reading_a_nodes_incoming_quads_stops_past_the_limit(store):
    whole = direct.incoming(store.local, FACIAL, 10**6)
    assert whole is not None and len(whole) > 10
    counting = Counting(store.local)
    assert direct.incoming(counting, FACIAL, 4) is None
    assert counting.read <= 2 * (4 + 1)


def test_a_lookup_past_the_deadline_is_refused(store):
    assert direct.reader(Deadline(store, 60)) is not None and direct.reader(store) is store.local
    with pytest.raises(PageTimeout) as stopped:
        describe(Deadline(store, -1), CODE)
    assert stopped.value.status == 503
    with pytest.raises(PageTimeout):
        Deadline(store, -1).quads_for_pattern(None, None, None, None)


def test_label_rows_from_a_nodes_quads_are_the_label_rows_looked_up(store):
    import pyoxigraph as ox
    for iri in every_iri(store):
        quads = list(store.local.quads_for_pattern(ox.NamedNode(iri), None, None, direct.DEFAULT))
        assert direct.rows_of(quads) == direct.label_rows(store.local, iri), iri


def test_names_a_page_remembers_are_the_names_labels_looks_up(store):
    """The labels kept from the quads of a page's qualified nodes are the labels a lookup finds."""
    fresh = EmbeddedStore.open_build(store.folder)
    for iri in (CODE, FACIAL):
        describe(fresh, iri)
    kept = dict(fresh.memo["labels"])
    assert len(kept) > 20
    assert kept == labels(OverSparql(store), list(kept))
