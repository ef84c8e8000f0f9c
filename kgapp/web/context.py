"""What a request reaches through the current app: its store, query executor and settings."""

from __future__ import annotations

from flask import current_app

from kgapp.config import Config
from kgapp.sparql.executor import QueryExecutor
from kgapp.store.base import Store


def get_store() -> Store:
    """The app's store (opened once, read-only, shared by all requests)."""
    return current_app.extensions["kgapp.store"]


def get_executor() -> QueryExecutor:
    return current_app.extensions["kgapp.executor"]


def get_config() -> Config:
    return current_app.config["KGAPP"]
