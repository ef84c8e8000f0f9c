"""The Flask app factory: one read-only store per app, one blueprint per surface (sparql, pages, export)."""

from __future__ import annotations

from flask import Flask, current_app

from ..config import Config
from ..store import EmbeddedStore, open_store


def create_app(config: Config | dict | None = None) -> Flask:
    """Build the web app over a built store; raises StoreUnavailable if there is none (run `kgapp build`)."""
    cfg = config if isinstance(config, Config) else Config.from_mapping(config)
    app = Flask(__name__)
    app.config["KGAPP"] = cfg
    app.config["TESTING"] = cfg.testing
    app.config["MAX_CONTENT_LENGTH"] = cfg.max_query_length * 4 + 4096
    app.json.sort_keys = False
    app.extensions["kgapp.store"] = open_store(cfg.store)

    from . import export, pages, sparql

    app.register_blueprint(sparql.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(export.bp)
    return app


def get_store() -> EmbeddedStore:
    """The app's store (opened once, read-only, shared by all requests)."""
    return current_app.extensions["kgapp.store"]


def get_config() -> Config:
    return current_app.config["KGAPP"]
