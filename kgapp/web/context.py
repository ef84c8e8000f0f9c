"""What a request reaches through the current app: the build it serves (store, query executor) and settings."""

from __future__ import annotations

from flask import Flask, current_app, g

from kgapp.config import Config
from kgapp.sparql.executor import QueryExecutor
from kgapp.store.base import Store
from kgapp.web.serving import Served, Serving


def get_serving(app: Flask | None = None) -> Serving:
    return (app or current_app).extensions["kgapp.serving"]


def served() -> Served:
    """The build this request reads, taken once per request (kgapp.web.serving) and kept to its end."""
    current = g.get("kgapp_served")
    if current is None:
        current = g.kgapp_served = get_serving().acquire()
    return current


def release_served(exc: BaseException | None = None) -> None:
    """Teardown: give the request's build back (the last request on a replaced build closes it)."""
    current = g.pop("kgapp_served", None)
    if current is not None:
        get_serving().release(current)


def get_store() -> Store:
    """The served build's store (opened read-only, shared by all requests on that build)."""
    return served().store


def get_executor() -> QueryExecutor:
    return served().executor


def get_config(app: Flask | None = None) -> Config:
    return (app or current_app).config["KGAPP"]
