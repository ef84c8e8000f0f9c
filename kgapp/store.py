"""The embedded Oxigraph store: atomic builds side by side, one `current` link, opened read-only to serve.

Layout under the store root::

    current -> builds/20261123T101500-ab12cd34     (symlink, swapped atomically)
    builds/<id>/oxigraph/                          (RocksDB files)
    builds/<id>/manifest.json                      (written last: a build without it is incomplete)

Every graph is stored as a named graph (its provenance) and, deduplicated, in the default graph.
Oxigraph's "default graph as union" mode returns a triple once per graph holding it, so COUNTs
would change whenever two sources agree; a materialised union is an RDF merge, and faster to query.

A build writes a new folder and only then moves ``current``; a crash or a rejected build leaves the
previous store serving untouched. Old builds are pruned, keeping a few for processes still reading them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from .namespaces import DEFAULT_BASE_IRI
from .sources import SourceFile
from .search import index_rows
from .search_index import FILE as SEARCH_INDEX, write_index
from .stats import compute as compute_stats

MANIFEST = "manifest.json"
KEEP_BUILDS = 3


class StoreUnavailable(Exception):
    """There is no complete build at the store path (never built, or the link points nowhere)."""


# -- rdflib ↔ pyoxigraph terms -------------------------------------------------------------------

def to_ox(term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
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
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), g)


# -- writing ---------------------------------------------------------------------------------------

def write_build(root: Path, files: Iterable[SourceFile], graphs: Iterable[tuple[str, Graph]],
                manifest: dict, base_iri: str = DEFAULT_BASE_IRI) -> Path:
    """Write a new build and make it current: source ``files`` are bulk-loaded natively, ``graphs``
    (graph IRI, rdflib graph: the inferred and validation graphs) converted."""
    root = Path(root)
    builds = root / "builds"
    builds.mkdir(parents=True, exist_ok=True)
    build_id = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    folder = builds / build_id
    folder.mkdir()
    store = ox.Store(str(folder / "oxigraph"))
    try:
        counts, distinct = _fill(store, files, graphs, base_iri)
        summary = compute_stats(store)
        write_index(folder, index_rows(store))
    except BaseException:
        store = None
        shutil.rmtree(folder, ignore_errors=True)
        raise
    store = None  # the last reference: closes RocksDB before anyone opens the folder read-only
    manifest = {**manifest, "build": build_id, "graphs": counts, "triples": distinct, "stats": summary,
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = folder / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    _point_current(root, folder)
    prune(root)
    return folder


def _fill(store: ox.Store, files, graphs, base_iri: str) -> tuple[dict[str, int], int]:
    """Load everything twice: into its named graph (provenance) and into the default graph.

    A store holds a set of quads, so loading every graph into the default graph too makes it the
    deduplicated merge without any Python-side bookkeeping.
    """
    from .load import parse_quads  # rebases IRIs and puts a TriG file's graphs into the file's one

    default = ox.DefaultGraph()
    for source in files:
        name = str(source.graph)
        if base_iri == DEFAULT_BASE_IRI and not source.has_graphs and not _may_have_blank_nodes(source.path):
            for target in (ox.NamedNode(name), default):
                store.bulk_load(path=str(source.path), format=source.ox_format, to_graph=target)
        else:
            quads = parse_quads(source, ox.NamedNode(name), base_iri)
            store.bulk_extend(quads)
            store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, default) for q in quads)
    for name, graph in graphs:
        quads = list(graph_quads(graph, name))  # converted once, loaded into both graphs
        store.bulk_extend(quads)
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, default) for q in quads)
    store.flush()
    counts = {name: _count(store, f"GRAPH <{name}> {{ ?s ?p ?o }}") for name in
              dict.fromkeys([str(s.graph) for s in files] + [n for n, _ in graphs])}
    return counts, _count(store, "?s ?p ?o")


def _may_have_blank_nodes(path: Path) -> bool:
    """Loading a file twice natively would give its blank nodes different ids in its named graph and
    in the default graph; such files take the one-parse path instead. "_:", "[" and "(" are the only
    ways to write a blank node in Turtle or N-Triples, and a false alarm only costs speed."""
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            if b"_:" in chunk or b"[" in chunk or b"(" in chunk:
                return True
    return False


def _count(store: ox.Store, pattern: str) -> int:
    return int(next(iter(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}")))["n"].value)


def _point_current(root: Path, folder: Path) -> None:
    link = root / "current"
    tmp = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.relpath(folder, root), tmp)
    os.replace(tmp, link)  # atomic on POSIX: readers see the old build or the new one, never neither


def prune(root: Path, keep: int = KEEP_BUILDS) -> None:
    """Remove builds beyond the newest ``keep`` complete ones, and any incomplete leftovers."""
    builds = Path(root) / "builds"
    if not builds.is_dir():
        return
    current = current_build(root)
    complete = sorted((d for d in builds.iterdir() if (d / MANIFEST).is_file()), reverse=True)
    for d in builds.iterdir():
        if d == current or not d.is_dir():
            continue
        if d not in complete[:keep] and (d in complete or _older_than(d, 3600)):
            shutil.rmtree(d, ignore_errors=True)


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


# -- reading ---------------------------------------------------------------------------------------

def current_build(root: Path) -> Path | None:
    """The folder of the current complete build, or None."""
    link = Path(root) / "current"
    try:
        folder = link.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    return folder if (folder / MANIFEST).is_file() else None


class EmbeddedStore:
    """A built store opened read-only; its default graph is the merge of all named graphs."""

    embedded = True  # queried in-process (a kgapp.remote_store.RemoteStore is not)

    # ``build`` pins one build folder (query workers open exactly the build their app serves).
    def __init__(self, root: Path, build: Path | None = None):
        self.root = Path(root)
        folder = current_build(self.root) if build is None else Path(build)
        if folder is None or not (folder / MANIFEST).is_file():
            raise StoreUnavailable(f"no complete build at {self.root} (run `kgapp build`)")
        self.folder = folder
        self.manifest: dict = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        self._store = ox.Store.read_only(str(folder / "oxigraph"))
        index = folder / SEARCH_INDEX
        self.search_index: Path | None = index if index.is_file() else None  # older builds have none

    # Every surface queries through here, so a remote store can stand in with the same signature.
    def query(self, sparql: str, *, default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, base_iri: str | None = None, prefixes: dict | None = None):
        kwargs: dict = {"base_iri": base_iri, "prefixes": prefixes}
        # None means "the store's own"; an empty list means no graph (a protocol dataset without named graphs).
        if default_graphs is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graphs]
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        return self._store.query(sparql, **kwargs)

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs())

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        g = ox.NamedNode(graph) if graph else None
        return self._store.quads_for_pattern(None, None, None, g)

    def dump(self, output, fmt: ox.RdfFormat, graph: str | None = None, prefixes: dict | None = None) -> None:
        """Serialise the whole dataset, one named graph, or (``graph=""``) the default graph natively."""
        kwargs = {"prefixes": prefixes} if prefixes and fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
        if graph == "":
            self._store.dump(output, fmt, from_graph=ox.DefaultGraph(), **kwargs)
        elif graph:
            self._store.dump(output, fmt, from_graph=ox.NamedNode(graph), **kwargs)
        else:
            self._store.dump(output, fmt, **kwargs)

    @property
    def triple_count(self) -> int:
        return int(self.manifest.get("triples", 0))

    def rdflib_dataset(self):
        """The store through the rdflib API (oxrdflib), for code that prefers rdflib objects."""
        from oxrdflib import OxigraphStore
        from rdflib import Dataset
        return Dataset(store=OxigraphStore(store=self._store))


def open_store(store, timeout: float = 10.0):
    """The store a setting names (a path, ``oxigraph:PATH``, ``sparql:URL…``); ``timeout`` bounds remote requests."""
    from .store_spec import RemoteSpec, parse_store

    where = parse_store(store)
    if isinstance(where, RemoteSpec):
        from .remote_store import RemoteStore  # imports this module

        return RemoteStore(where, timeout)
    return EmbeddedStore(where)
