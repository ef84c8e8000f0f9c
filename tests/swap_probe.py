"""Read a remote build through kgapp while a new one is swapped in: which states did a reader see?"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

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
