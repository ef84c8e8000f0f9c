"""/metrics in Prometheus text format (prometheus-client): requests, query durations, refusals, slots, the build.

Each app has its own CollectorRegistry (never the process-global one), so several apps in one process
(tests) count apart. Query workers are separate processes, but every count is taken in the request
thread of the app's process, so one registry sees everything without prometheus-client's
multi-process mode.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kgapp.web.context import get_config, get_serving

bp = Blueprint("metrics", __name__)
PATH = "/metrics"
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _Served(Collector):
    """Read at scrape time from what the app serves now: build id, triples, build duration, busy slots."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        serving = get_serving(self.app)
        served = serving.current
        manifest = served.store.manifest
        info = GaugeMetricFamily("kgapp_build_info", "The build this app serves (value 1).", labels=["build"])
        info.add_metric([str(manifest.get("build", ""))], 1)
        yield info
        yield GaugeMetricFamily("kgapp_build_triples", "Triples in the served build.",
                                value=served.store.triple_count)
        if "build_seconds" in manifest:
            yield GaugeMetricFamily("kgapp_build_duration_seconds", "How long the served build took to make.",
                                    value=float(manifest["build_seconds"]))
        yield GaugeMetricFamily("kgapp_query_slots_busy", "Query slots in use (of max_concurrent_queries).",
                                value=serving.busy_slots())
        yield GaugeMetricFamily("kgapp_query_slots", "Query slots (max_concurrent_queries).",
                                value=served.executor.slot_count)


class Metrics:
    """The app's counters; ``init_app`` registers them and the /metrics route."""

    def __init__(self, app: Flask):
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("kgapp_http_requests", "HTTP requests by route and status.", ["route", "status"],
                                registry=self.registry)
        self.query_duration = Histogram("kgapp_query_duration_seconds", "Endpoint query time by query form.",
                                        ["form"], buckets=DURATION_BUCKETS, registry=self.registry)
        self.timeouts = Counter("kgapp_query_timeouts", "Queries stopped at query_timeout.", registry=self.registry)
        self.truncations = Counter("kgapp_query_truncated", "Answers cut at max_rows.", registry=self.registry)
        self.refused = Counter("kgapp_rate_limited", "Requests refused with 429, by limit.", ["limit"],
                               registry=self.registry)
        self.registry.register(_Served(app))
        # Labelled children, looked up once: ``labels()`` costs ~5 µs a call on every /sparql request.
        self._requests: dict[tuple[str, int], Any] = {}
        self._durations: dict[str, Any] = {}

    def request(self, route: str, status: int) -> None:
        """One HTTP request answered on ``route`` with ``status``."""
        child = self._requests.get((route, status))
        if child is None:
            child = self._requests[(route, status)] = self.requests.labels(route=route, status=str(status))
        child.inc()

    def query(self, form: str, seconds: float, status: int, truncated: bool) -> None:
        """One endpoint query as it ended (refusals before a worker ran it are counted by status only)."""
        if status == 200:
            child = self._durations.get(form)
            if child is None:
                child = self._durations[form] = self.query_duration.labels(form=form.upper())
            child.observe(seconds)
        if truncated:
            self.truncations.inc()


def metrics() -> Metrics | None:
    """The current app's metrics, or None when the ``metrics`` setting is off."""
    return current_app.extensions.get("kgapp.metrics")


def init_app(app: Flask) -> None:
    if not get_config(app).metrics:
        return
    app.extensions["kgapp.metrics"] = Metrics(app)
    app.register_blueprint(bp)
    app.after_request(count_request)


def count_request(response: Response) -> Response:
    m = metrics()
    if m is not None:
        rule = request.url_rule.rule if request.url_rule is not None else "(unrouted)"
        m.request(rule, response.status_code)
    return response


@bp.route(PATH)
def scrape() -> Response:
    m = metrics()
    assert m is not None  # the route exists only when metrics are on
    g.pop("query_log", None)
    return Response(generate_latest(m.registry), content_type=CONTENT_TYPE_LATEST)

