"""/metrics: Prometheus text from prometheus-client, one registry per app: requests, queries, refusals, the build."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def scrape(client) -> dict[tuple[str, tuple], float]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain" and "version=" in r.headers["Content-Type"]
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.get_data(as_text=True)) for s in family.samples}


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_queries_and_the_build_are_counted(make_app, store):
    client = make_app(max_rows=3).test_client()
    client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})  # cut at 3 rows
    client.get("/sparql", query_string={"query": "ASK {}"})
    client.get("/sparql", query_string={"query": "ASK {"})  # 400
    client.get("/id/code/cpt/64868")
    samples = scrape(client)
    assert value(samples, "kgapp_http_requests_total", route="/sparql", status="200") == 2
    assert value(samples, "kgapp_http_requests_total", route="/sparql", status="400") == 1
    assert value(samples, "kgapp_http_requests_total", route="/id/<path:rest>", status="200") == 1
    assert value(samples, "kgapp_query_duration_seconds_count", form="SELECT") == 1
    assert value(samples, "kgapp_query_duration_seconds_count", form="ASK") == 1
    assert value(samples, "kgapp_query_truncated_total") == 1
    assert value(samples, "kgapp_build_info", build=store.manifest["build"]) == 1
    assert value(samples, "kgapp_build_triples") == store.triple_count
    assert value(samples, "kgapp_build_duration_seconds") > 0
    assert value(samples, "kgapp_query_slots") == 8 and value(samples, "kgapp_query_slots_busy") == 0


def test_timeouts_are_counted(make_app):
    client = make_app(query_timeout=1).test_client()
    assert client.get("/sparql", query_string={"query": RUNAWAY}).status_code == 503
    assert value(scrape(client), "kgapp_query_timeouts_total") == 1


def test_each_app_counts_apart(make_app):
    one, two = make_app().test_client(), make_app().test_client()
    one.get("/healthz")
    assert value(scrape(one), "kgapp_http_requests_total", route="/healthz", status="200") == 1
    assert value(scrape(two), "kgapp_http_requests_total", route="/healthz", status="200") == 0


@pytest.mark.parametrize("setting", [False, "0", "false"])
def test_metrics_can_be_turned_off(make_app, setting):
    assert make_app(metrics=setting).test_client().get("/metrics").status_code == 404


def test_busy_slots_while_a_query_runs(make_app):
    import threading
    import time

    app = make_app(query_timeout=2)
    client = app.test_client()
    thread = threading.Thread(target=client.get, args=("/sparql",), kwargs={"query_string": {"query": RUNAWAY}})
    thread.start()
    deadline = time.monotonic() + 10
    while value(scrape(client), "kgapp_query_slots_busy") != 1:
        assert time.monotonic() < deadline, "the busy slot never showed"
        time.sleep(0.05)
    thread.join(10)
    assert value(scrape(client), "kgapp_query_slots_busy") == 0
