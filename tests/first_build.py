"""A first build into a server with no kgapp build, on either remote path: loaded in place, or killed midway."""

from __future__ import annotations

import pytest
from virtuoso import clear_kgapp_graphs

from kgapp.build import build
from kgapp.config import Config
from kgapp.store import open_store
from kgapp.store.base import StoreUnavailable
from kgapp.store.remote import build as remote_build

COUNT = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


def _count(store) -> int:
    return int(next(iter(store.query(COUNT)))["n"].value)


def assert_loaded_in_place(spec: str, server, store, monkeypatch, loader: tuple[object, str],
                           swapper: tuple[object, str]) -> None:
    """``loader`` (its last argument: graph → target) is handed the served graphs and the union, ``swapper``
    is never called, and the build is the embedded store's."""
    clear_kgapp_graphs(server)
    with pytest.raises(StoreUnavailable):
        open_store(spec)
    targets: list[str] = []
    load = getattr(*loader)
    monkeypatch.setattr(*loader, lambda *args: (targets.extend(args[-1].values()), load(*args))[1])
    monkeypatch.setattr(*swapper, lambda *args: pytest.fail("nothing to swap on an empty server"))
    build(Config.from_mapping({"store": spec}))
    remote = open_store(spec)
    assert sorted(targets) == sorted([*remote.named_graphs(), remote.manifest["union"]])  # no staging graph
    assert remote.named_graphs() == store.named_graphs() and _count(remote) == store.triple_count


def assert_a_killed_one_is_dropped_by_the_next(spec: str, server, store, monkeypatch, loader: tuple[object, str],
                                               swapper: tuple[object, str]) -> None:
    """A first build killed while loading serves nothing; the next drops what it loaded and loads in place."""
    clear_kgapp_graphs(server)

    def killed(*args):
        server.update(f"INSERT DATA {{ GRAPH <{next(iter(args[-1].values()))}> {{ <urn:s> <urn:p> 1 }} }}")
        raise KeyboardInterrupt  # the process dies mid-load: no chance to clean up
    monkeypatch.setattr(*loader, killed)
    monkeypatch.setattr(remote_build, "_drop_staging", lambda *args: None)
    with pytest.raises(KeyboardInterrupt):
        build(Config.from_mapping({"store": spec}))
    with pytest.raises(StoreUnavailable):  # a half-loaded graph and no manifest: nothing is served
        open_store(spec)
    monkeypatch.undo()
    monkeypatch.setattr(*swapper, lambda *args: pytest.fail("the leftovers were not dropped"))
    build(Config.from_mapping({"store": spec}))
    remote = open_store(spec)
    assert _count(remote) == store.triple_count and not bool(remote.query("ASK { <urn:s> ?p ?o }"))
