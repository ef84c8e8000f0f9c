"""Read a remote build through kgapp while a new one is swapped in: which states did a reader see?"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from kgapp.build import build
from kgapp.config import Config
from kgapp.sources import resource_dir
from kgapp.store import open_store

EXTRA = "https://w3id.org/kgapp/graph/extra-probe"
COUNTS = ("SELECT ?n ?e WHERE { { SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } } "
          f"{{ SELECT (COUNT(*) AS ?e) WHERE {{ GRAPH <{EXTRA}> {{ ?s ?p ?o }} }} }} }}")


def states_seen_during_a_build(spec: str, folder: Path) -> tuple[tuple[int, int], set[tuple[int, int]], tuple[int, int]]:
    """Build the shipped data plus one extra graph while a reader polls the union's size and the extra
    graph's through kgapp's remote store: (before, every state seen meanwhile, after)."""
    data = folder / "data"
    shutil.copytree(resource_dir("data"), data)
    (data / "extra-probe.ttl").write_text('<https://w3id.org/kgapp/id/probe> <http://www.w3.org/2000/01/rdf-schema#comment> '
                                          '"only in the new build" .\n', encoding="utf-8")
    reader = open_store(spec)

    def counts() -> tuple[int, int]:
        row = next(iter(reader.query(COUNTS)))
        return int(row["n"].value), int(row["e"].value)
    old = counts()
    builder = threading.Thread(target=build, args=(Config.from_mapping({"store": spec, "data_dirs": [data]}),))
    builder.start()
    seen = set()
    while builder.is_alive():
        seen.add(counts())
    builder.join()
    return old, seen, counts()


def assert_old_or_new(spec: str, folder: Path, monkeypatch) -> None:
    """The states a reader saw during a build (with the test's patches) were the old build's or the new one's;
    the patches are then undone and the shipped data built again, for the other tests."""
    try:
        old, seen, new = states_seen_during_a_build(spec, folder)
    finally:
        monkeypatch.undo()
        build(Config.from_mapping({"store": spec}))
    assert new[1] == 1 and new[0] > old[0] and seen <= {old, new}


def assert_a_reader_that_knew_the_old_build_is_answered_by_the_new(spec: str, folder: Path) -> None:
    """A reader opened on the old build asks right after a new one is swapped in (its manifest still the old
    one's, whose union is dropped by now): it gets the new build's answer, not an empty one."""
    data = folder / "data"
    shutil.copytree(resource_dir("data"), data)
    (data / "extra-probe.ttl").write_text('<https://w3id.org/kgapp/id/probe> <http://www.w3.org/2000/01/rdf-schema#comment> '
                                          '"only in the new build" .\n', encoding="utf-8")
    reader = open_store(spec)
    old = int(next(iter(reader.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))["n"].value)
    try:
        build(Config.from_mapping({"store": spec, "data_dirs": [data]}))
        union = reader.manifest["union"]  # the reader has not looked again yet (MANIFEST_TTL)
        n = int(next(iter(reader.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")))["n"].value)
        assert n == old + 1 and reader.manifest["union"] != union
    finally:
        build(Config.from_mapping({"store": spec}))


def assert_checked_during_the_grace(spec: str, server, monkeypatch, swapper: tuple[object, str]) -> None:
    """The new build is verified after the swap marker is written, the swap (``swapper``) starts no sooner than
    GRACE after it, and a build that fails its check leaves no marker behind."""
    from kgapp.store.remote import build as remote_build
    from kgapp.store.remote.client import RemoteQueryError
    from kgapp.store.remote.graphs import SWAP_GRAPH
    from kgapp.store.remote.swap_guard import GRACE

    events: list[tuple[str, float]] = []

    def note(name: str, call):
        def noted(*args):
            events.append((name, time.monotonic()))
            return call(*args)
        return noted
    for module, name in ((remote_build, "announce"), (remote_build, "_verify"), swapper):
        monkeypatch.setattr(module, name, note(name, getattr(module, name)))
    build(Config.from_mapping({"store": spec}))
    order = [name for name, _ in events]
    at = dict(events)
    assert order == ["announce", "_verify", swapper[1]] and at[swapper[1]] - at["announce"] >= GRACE
    assert at["_verify"] - at["announce"] < GRACE  # checked while the marker stands, not after its grace

    def broken(*args):
        raise RemoteQueryError("injected: the server lost data")
    monkeypatch.setattr(remote_build, "_verify", broken)
    with pytest.raises(RemoteQueryError, match="injected"):
        build(Config.from_mapping({"store": spec}))
    assert not bool(server.query(f"ASK {{ GRAPH <{SWAP_GRAPH}> {{ ?s ?p ?o }} }}", [], graph=False))
