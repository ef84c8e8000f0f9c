"""The Flask app factory: one read-only store per app, one blueprint per surface (sparql, pages, export)."""

from __future__ import annotations

import weakref

from flask import Flask, current_app

from ..config import Config
from ..executor import QueryExecutor
from ..store import EmbeddedStore, open_store


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the web app over a built store; raises StoreUnavailable if there is none (run `kgapp build`).

    Only a complete build is ever opened (see kgapp.store), and the app keeps that build for its
    lifetime: a later `kgapp build` swaps `current` for the next app, never under this one.
    """
    cfg = config if isinstance(config, Config) else Config.from_mapping(config)
    app = Flask(__name__)
    app.config["KGAPP"] = cfg
    app.config["TESTING"] = cfg.testing
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_query_length * 4 + 4096
    app.json.sort_keys = False
    store = open_store(cfg.store, timeout=cfg.query_timeout)
    app.extensions["kgapp.store"] = store
    executor = QueryExecutor(store, cfg)  # workers start on the first query, so startup stays fast
    app.extensions["kgapp.executor"] = executor
    weakref.finalize(app, executor.close)
    if not cfg.testing:
        executor.warm()

    from . import export, health, pages, security, sparql

    security.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(export.bp)
    return app


def close_app(app: Flask) -> None:
    """Stop the app's query workers (also done when the app is collected and at exit)."""
    app.extensions["kgapp.executor"].close()


def get_store() -> EmbeddedStore:
    """The app's store (opened once, read-only, shared by all requests)."""
    return current_app.extensions["kgapp.store"]


def get_executor() -> QueryExecutor:
    return current_app.extensions["kgapp.executor"]


def get_config() -> Config:
    return current_app.config["KGAPP"]
