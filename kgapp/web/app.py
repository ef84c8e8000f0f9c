"""The Flask app factory: one read-only store per app, one blueprint per surface, one error path."""

from __future__ import annotations

import weakref

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from kgapp.config import Config
from kgapp.errors import KgappError
from kgapp.web import check, compare, export, health, metrics, pages, security, sparql
from kgapp.web.context import release_served
from kgapp.web.fairness import Fairness
from kgapp.web.lean import LeanSparql
from kgapp.web.serving import Served, Serving


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the web app over a built store; raises StoreUnavailable if there is none (run `kgapp build`).

    Only a complete build is ever opened (see kgapp.store.writer); when a later `kgapp build` moves
    `current`, the app switches to that build between requests (kgapp.web.serving).
    """
    cfg = config if isinstance(config, Config) else Config.from_mapping(config)
    app = Flask(__name__)
    app.config["KGAPP"] = cfg
    app.config["TESTING"] = cfg.testing
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_query_length * 4 + 4096
    app.json.sort_keys = False
    serving = Serving(cfg)  # workers start on the first query (or warm up in the background when serving)
    app.extensions["kgapp.serving"] = serving
    # The served store and executor under their old keys too, for code that reads them directly (kept current).
    app_ref = weakref.ref(app)
    serving.on_switch = lambda served: _publish(app_ref(), served)
    _publish(app, serving.current)
    app.extensions["kgapp.fairness"] = Fairness(cfg, serving.slots.recent_use)
    weakref.finalize(app, serving.close)
    app.teardown_request(release_served)

    security.init_app(app)
    app.register_error_handler(KgappError, plain_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_blueprint(health.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(export.bp)
    app.register_blueprint(check.bp)
    app.register_blueprint(compare.bp)
    metrics.init_app(app)
    if cfg.fast_path:
        app.wsgi_app = LeanSparql(app, app.wsgi_app)  # type: ignore[method-assign]
    return app


def _publish(app: Flask | None, served: Served) -> None:
    if app is not None:
        app.extensions.update({"kgapp.store": served.store, "kgapp.executor": served.executor})


def plain_error(error: KgappError) -> Response:
    """Every refusal, from any layer on any route: its status, its headers, one plain line, no traceback."""
    return Response(error.message.rstrip("\n") + "\n", status=error.status, headers=error.headers,
                    content_type="text/plain; charset=utf-8")


def http_error(error: HTTPException) -> Response:
    """Werkzeug's own refusals (405, 413, a malformed request…) on any route: plain too, with their headers
    (``Allow``); a 404 keeps the pages' not-found page, registered for that code."""
    response = error.get_response()
    return Response(f"{error.code} {error.name}: {error.description}\n", status=error.code or 500,
                    headers={k: v for k, v in response.headers.items() if k.lower() not in ("content-type",
                                                                                              "content-length")},
                    content_type="text/plain; charset=utf-8")


def close_app(app: Flask) -> None:
    """Stop the app's query workers (also done when the app is collected and at exit)."""
    app.extensions["kgapp.serving"].close()
