"""Write a build: a new folder beside the old ones, its manifest last, then the `current` link moved atomically.

Layout under the store root::

    current -> builds/20261123T101500-ab12cd34     (symlink, swapped atomically)
    builds/<id>/oxigraph/                          (RocksDB files)
    builds/<id>/exports/                           (every export, written by the build: kgapp.export.prebuilt)
    builds/<id>/search.sqlite                      (full-text index)
    builds/<id>/columns/                           (the default graph as integer arrays: kgapp.store.columns)
    builds/<id>/manifest.json                      (written last: a build without it is incomplete)

Every graph is stored as a named graph (its provenance) and, deduplicated, in the default graph.
Oxigraph's "default graph as union" mode returns a triple once per graph holding it, so COUNTs
would change whenever two sources agree; a materialised union is an RDF merge, and faster to query.

A crash or a rejected build leaves the previous store serving untouched. Old builds are pruned,
keeping a few, and never one that a running server holds (its lease, kgapp.store.lease).
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kgapp.namespaces import DEFAULT_BASE_IRI
from kgapp.sources import SourceFile, may_have_blank_nodes, parse_quads, store_salt
from kgapp.store.embedded import MANIFEST, current_build
from kgapp.store.lease import is_leased
from kgapp.store.search_index import index_rows, write_index
from kgapp.store.stats import compute as compute_stats

KEEP_BUILDS = 3


# -- rdflib ↔ pyoxigraph terms -------------------------------------------------------------------

def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def graph_quads(graph: Graph, name: str) -> Iterator[ox.Quad]:
    g = ox.NamedNode(name)
    for s, p, o in graph:
        # rdflib's subjects are never literals and its predicates are IRIs
        yield ox.Quad(cast("ox.NamedNode | ox.BlankNode", to_ox(s)), cast(ox.NamedNode, to_ox(p)), to_ox(o), g)


# -- writing ---------------------------------------------------------------------------------------

# Called with the build folder, its store (all graphs in) and the converted graphs' quads, as the last
# step of writing a build (the build writes its export files through this).
Extra = Callable[[Path, ox.Store, dict[str, list[ox.Quad]]], None]


def write_build(root: Path, files: Iterable[SourceFile], graphs: Iterable[tuple[str, Graph]],
                manifest: dict[str, Any], base_iri: str = DEFAULT_BASE_IRI,
                parsed: dict[SourceFile, list[ox.Quad]] | None = None, extra: Extra | None = None) -> Path:
    """Write a new build and make it current: source ``files`` are bulk-loaded natively (or from
    ``parsed``, see fill_files), ``graphs`` (graph IRI, rdflib graph: the inferred and validation
    graphs) converted."""
    started = time.perf_counter()
    files, graphs = list(files), list(graphs)
    folder = new_build_folder(root)
    store: ox.Store | None = None
    try:
        store = ox.Store(str(folder / STORE_DIR))
        fill_files(store, files, base_iri, parsed)
        converted = fill_graphs(store, graphs)
        counts, distinct = graph_counts(store, [str(s.graph) for s in files] + [n for n, _ in graphs])
        summary = compute_stats(store, (counts, distinct))
        write_index(folder, index_rows(store))
        if extra is not None:
            extra(folder, store, converted)
        del converted
        store = None  # the last reference: closes RocksDB before anyone opens the folder read-only
    except BaseException as error:
        # The frames below this one (fill, stats…) still reference the stores through the traceback;
        # clearing them lets RocksDB close before its folder is removed.
        traceback.clear_frames(error.__traceback__)
        store = None
        remove_build_folder(folder)
        raise
    return finish_build(root, folder, {**manifest, "graphs": counts, "triples": distinct, "stats": summary,
                                       # the whole build: what the caller spent before, and the writing
                                       "build_seconds": round(float(manifest.get("prepare_seconds", 0))
                                                              + time.perf_counter() - started, 3)})


STORE_DIR = "oxigraph"


def new_build_folder(root: Path) -> Path:
    """A fresh, empty build folder under ``root``/builds (incomplete until finish_build)."""
    builds = Path(root) / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    folder = builds / (time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8])
    folder.mkdir()
    return folder


def finish_build(root: Path, folder: Path, manifest: dict[str, Any]) -> Path:
    """Write the manifest (last: it marks the build complete), make the build current, prune old ones."""
    manifest = {**manifest, "build": folder.name, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    _point_current(Path(root), folder)
    prune(Path(root))
    return folder


def fill(store: ox.Store, files: Iterable[SourceFile], graphs: Iterable[tuple[str, Graph]],
         base_iri: str) -> tuple[dict[str, int], int]:
    """Load everything twice: into its named graph (provenance) and into the default graph.

    A store holds a set of quads, so loading every graph into the default graph too makes it the
    deduplicated merge without any Python-side bookkeeping.
    """
    files, graphs = list(files), list(graphs)
    fill_files(store, files, base_iri)
    fill_graphs(store, graphs)
    return graph_counts(store, [str(s.graph) for s in files] + [n for n, _ in graphs])


def loads_natively(source: SourceFile, base_iri: str) -> bool:
    """Whether fill_files loads ``source`` from its file natively; otherwise from its parsed quads."""
    return base_iri == DEFAULT_BASE_IRI and not source.has_graphs and not may_have_blank_nodes(source.path)


def fill_files(store: ox.Store, files: Iterable[SourceFile], base_iri: str,
               parsed: dict[SourceFile, list[ox.Quad]] | None = None) -> None:
    """Bulk-load source files into their named graphs and the default graph.

    Native loads release the GIL, so this can run in a thread while Python validates and reasons. A
    file in ``parsed`` (or one loads_natively refuses) is loaded from its quads instead: parsed once, a
    blank node keeps one id in every graph, and the build's export files, written from the same
    quads, hold the very terms the store does.
    """
    default = ox.DefaultGraph()
    for source in files:
        name = str(source.graph)
        quads = parsed.get(source) if parsed else None
        if quads is None and loads_natively(source, base_iri):
            for target in (ox.NamedNode(name), default):
                store.bulk_load(path=str(source.path), format=source.ox_format, to_graph=target)
        else:
            quads = quads if quads is not None else parse_quads(source, ox.NamedNode(name), base_iri,
                                                                store_salt(source))
            store.bulk_extend(quads)
            store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, default) for q in quads)
    store.flush()


def fill_graphs(store: ox.Store, graphs: Iterable[tuple[str, Graph]]) -> dict[str, list[ox.Quad]]:
    """Add rdflib graphs (the inferred and validation graphs) to their named graphs and the default
    graph; returns each graph's quads (converted once)."""
    default = ox.DefaultGraph()
    converted = {}
    for name, graph in graphs:
        quads = converted[name] = list(graph_quads(graph, name))
        store.bulk_extend(quads)
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, default) for q in quads)
    store.flush()
    return converted


def graph_counts(store: ox.Store, names: Iterable[str]) -> tuple[dict[str, int], int]:
    """Triples in each named graph, and in the default graph (the distinct triples of the build)."""
    counts = {name: _count(store, f"GRAPH <{name}> {{ ?s ?p ?o }}") for name in dict.fromkeys(names)}
    return counts, _count(store, "?s ?p ?o")


def remove_build_folder(folder: Path, tries: int = 20) -> None:
    """Delete a failed build's folder. RocksDB's background threads may still be closing files just
    after the store is dropped, so a first removal can leave a file behind on a busy machine."""
    for _ in range(tries):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.05)


def _count(store: ox.Store, pattern: str) -> int:
    solutions = cast(ox.QuerySolutions, store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}"))
    return int(next(iter(solutions))["n"].value)


def _point_current(root: Path, folder: Path) -> None:
    link = root / "current"
    tmp = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(folder, root), tmp)
    os.replace(tmp, link)  # atomic on POSIX: readers see the old build or the new one, never neither


def prune(root: Path, keep: int = KEEP_BUILDS) -> None:
    """Remove builds beyond the newest ``keep`` complete ones, and any incomplete leftovers; a build a
    running server holds stays until it lets go (a later prune removes it)."""
    builds = Path(root) / "builds"
    if not builds.is_dir():
        return
    current = current_build(root)
    complete = sorted((d for d in builds.iterdir() if (d / MANIFEST).is_file()), reverse=True)
    for d in builds.iterdir():
        if d == current or not d.is_dir() or is_leased(d):
            continue
        if d not in complete[:keep] and (d in complete or _older_than(d, 3600)):
            shutil.rmtree(d, ignore_errors=True)


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False
