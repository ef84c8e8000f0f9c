"""Store statistics: what the build records equals a live count, and readers use the record."""

from __future__ import annotations

from kgapp.store.stats import compute, stats
from kgapp.store.writer import graph_counts


def test_live_statistics_match_the_store(store):
    live = compute(store)
    total = next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")))["n"].value
    assert live["triples"] == int(total)
    assert live["classes"]["https://w3id.org/kgapp/ontology#ProcedureCode"] == 5
    assert live["classes"]["https://w3id.org/kgapp/ontology#CranialNerve"] == 4
    assert live["graphs"]["https://w3id.org/kgapp/graph/seed-000-64868"] > 100
    assert "https://w3id.org/kgapp/id/code/cpt/" in live["instance_folders"]
    assert live["distinct_classes"] >= len(live["classes"])


def test_recorded_statistics_are_preferred(store):
    class Fake:
        manifest = {"stats": {"triples": 7}}

        def query(self, *_):
            raise AssertionError("a recorded statistic must not be recomputed")

    assert stats(Fake())["triples"] == 7


def test_a_store_without_a_record_is_counted_once(store):
    class Counting:
        manifest: dict = {}
        calls = 0

        def __init__(self):
            self.memo: dict = {}  # the Store interface's per-store cache

        def query(self, q, **kw):
            Counting.calls += 1
            return store.query(q, **kw)

    s = Counting()
    first = stats(s)
    calls = Counting.calls
    assert stats(s) is first and Counting.calls == calls


def test_counts_the_build_already_has_give_the_same_statistics_with_fewer_scans(store):
    counted = graph_counts(store, store.named_graphs())
    seen: list[str] = []

    class Watching:
        def query(self, q, **kw):
            seen.append(q)
            return store.query(q, **kw)

    assert compute(Watching(), counted) == compute(store)
    assert len(seen) == 4  # not the total count nor the per-graph count
