"""Reuse validation and reasoning results when a build's inputs are byte-for-byte unchanged.

The key hashes every source file (ontology, shapes, data), the instance base and the versions of
kgapp, pyshacl and owlrl, so any change to what decides the results means a fresh run. Partial reuse
per file would be unsound: shapes and rules read across files (a seed's guidance against a reference
file's indicator).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from importlib.metadata import version
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from kgapp import __version__
from kgapp.build.load import to_graph
from kgapp.namespaces import INFERRED_GRAPH, VALIDATION_GRAPH
from kgapp.sources import SourceFile

FOLDER = "cache"


# How kgapp.sources.parse_quads names blank nodes: the cached results name the same nodes only if it is unchanged.
BLANK_NODE_IDS = "per file, by order of appearance (2026-11-28)"


def inputs_key(sources: list[SourceFile], base_iri: str) -> str:
    h = hashlib.sha256()
    for part in (__version__, version("pyshacl"), version("owlrl"), base_iri, BLANK_NODE_IDS):
        h.update(part.encode() + b"\0")
    for s in sources:
        h.update(f"{s.role}\0{s.graph}\0{s.path.name}\0{s.sha256()}\0".encode())
    return h.hexdigest()


def graph_keys(sources: list[dict[str, str]], base_iri: str, key: str) -> dict[str, str]:
    """What decides each named graph's triples, as a digest: for a source graph its own files (``sources``: a
    manifest's entries, with their role and sha256) and how they are parsed; for the inferred and validation
    graphs every input (``key``, inputs_key). Two builds with equal keys hold the same triples in that graph."""
    parts: dict[str, list[str]] = {}
    for s in sources:
        parts.setdefault(s["graph"], []).append(f"{s['role']}\0{Path(s['file']).name}\0{s['sha256']}")
    keys = {}
    for graph, files in parts.items():
        h = hashlib.sha256("\0".join([__version__, base_iri, BLANK_NODE_IDS, *files]).encode())
        keys[graph] = h.hexdigest()
    return {**keys, str(INFERRED_GRAPH): key, str(VALIDATION_GRAPH): key}


def load(root: Path, key: str) -> tuple[Graph, Graph] | None:
    """The cached (validation report, inferred) graphs for ``key``, or None."""
    folder = Path(root) / FOLDER / key
    try:
        graphs = [to_graph(ox.parse(path=str(folder / name), format=ox.RdfFormat.N_TRIPLES))
                  for name in ("validation.nt", "inferred.nt")]
        json.loads((folder / "done.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError):
        return None
    return graphs[0], graphs[1]


def load_sources(root: Path, key: str) -> dict[str, list[str]] | None:
    """The source files the cached report named for each focus node (None for a cache written without them):
    a rebuild need not parse every source again to say where a result's node is described."""
    try:
        found = json.loads((Path(root) / FOLDER / key / "sources.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def save(root: Path, key: str, report: Graph, inferred: Graph, sources: dict[str, list[str]] | None = None) -> None:
    """Write the results under ``key`` (atomically: a folder is complete or absent), with the report's
    ``sources`` (focus node → files) when given."""
    cache = Path(root) / FOLDER
    tmp = cache / f".tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    for name, graph in (("validation.nt", report), ("inferred.nt", inferred)):
        graph.serialize(tmp / name, format="nt", encoding="utf-8")
    if sources is not None:
        (tmp / "sources.json").write_text(json.dumps(sources, sort_keys=True), encoding="utf-8")
    (tmp / "done.json").write_text(json.dumps({"key": key}), encoding="utf-8")
    for old in cache.iterdir():  # keep one entry: the newest inputs
        if old != tmp and not old.name.startswith(".tmp-"):
            _remove(old)
    os.replace(tmp, cache / key)


def _remove(folder: Path) -> None:
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
