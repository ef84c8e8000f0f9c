"""Serialise the store for other tools: every RDF format, asserted graphs with or without inferred ones."""

from __future__ import annotations

import io
import os
import queue
import shutil
import tempfile
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from functools import lru_cache
from typing import BinaryIO

import pyoxigraph as ox

from .formats import Format, by_name
from .namespaces import DEFAULT_BASE_IRI, INFERRED_GRAPH, PREFIXES
from .stats import stats

CHUNK = 64 * 1024
# "id:" would turn every instance IRI into id:code\/cpt\/64868; per-folder prefixes read far better.
BASE_PREFIXES = {p: ns for p, ns in PREFIXES.items() if p != "id"}
_PN = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")


def exported_graphs(store, inferred: bool) -> list[str]:
    """The graphs an export contains: every asserted graph, plus the inferred one when asked."""
    return [g for g in store.named_graphs() if inferred or g != str(INFERRED_GRAPH)]


def instance_prefixes(store, base_iri: str | None = None) -> dict[str, str]:
    """A prefix per folder of instance IRIs (``cpt:`` for …/id/code/cpt/), named after its last segment."""
    base = base_iri or getattr(store, "manifest", {}).get("base_iri") or DEFAULT_BASE_IRI
    folders = sorted(f[len(base):] for f in stats(store)["instance_folders"] if f.startswith(base) and f != base)
    last = [f.strip("/").split("/")[-1] for f in folders]
    # seed-000 is a folder under gap/ and payer-policy/: such folders and their siblings spell the whole path.
    ambiguous = {f.strip("/").rpartition("/")[0] for f, n in zip(folders, last) if last.count(n) > 1}
    out: dict[str, str] = {}
    for folder, name in zip(folders, last):
        if folder.strip("/").rpartition("/")[0] in ambiguous:
            name = folder.strip("/").replace("/", "-")
        if _PN.match(name) and name not in BASE_PREFIXES and name not in out:
            out[name] = base + folder
    return out


@lru_cache(maxsize=8)
def export_prefixes(store) -> dict[str, str]:
    """Prefixes for Turtle, TriG and RDF/XML output; computed once per opened (immutable) store,
    because finding the instance folders scans every triple."""
    return {**BASE_PREFIXES, **instance_prefixes(store)}


def _union_triples(store, inferred: bool):
    """The union of the exported graphs as triples, streamed in subject order from the store's default graph.

    The default graph already is the deduplicated union of every graph, so nothing is held in memory but
    the (small) set of triples only the reasoner states, which an asserted export leaves out.
    """
    skip: set[ox.Triple] = set()
    if not inferred:
        skip = {ox.Triple(r["s"], r["p"], r["o"]) for r in store.query(
            f"SELECT ?s ?p ?o WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} FILTER NOT EXISTS {{ "
            f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED_GRAPH}>) }} }}")}
    for row in store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }"):
        triple = ox.Triple(row["s"], row["p"], row["o"])
        if triple not in skip:
            yield triple


def _quads(store, graphs: list[str]):
    for g in graphs:
        yield from store.quads(g)


def export_format(fmt: str) -> Format:
    f = by_name(fmt)
    if f is None or f.kind not in ("rdf", "dataset"):
        raise ValueError(f"unknown export format: {fmt}")
    return f


def write_export(store, fmt: str, output: BinaryIO, inferred: bool = False) -> None:
    """Write the export in format ``fmt`` (a kgapp.formats name) to a binary stream.

    The one implementation behind `kgapp export` and the web's /export.*, so both give the same bytes.
    A build never changes, so the first export of a format is also written to the build folder and
    later ones stream that file (serialising a million triples takes seconds; copying them doesn't).
    """
    f = export_format(fmt)
    cached = _cache_path(store, fmt, inferred)
    if cached is not None and cached.is_file():
        with open(cached, "rb") as source:
            shutil.copyfileobj(source, output, CHUNK)
        return
    tmp = _open_tmp(cached)
    target = output if tmp is None else _Tee(output, tmp)
    try:
        _serialise(store, f, target, inferred)
        target.flush()
    except BaseException:
        if tmp is not None:
            tmp.close()
            Path(tmp.name).unlink(missing_ok=True)
        raise
    if tmp is not None:
        tmp.close()
        os.replace(tmp.name, cached)


def _serialise(store, f: Format, output, inferred: bool) -> None:
    graphs = exported_graphs(store, inferred)
    if not graphs:
        return
    kwargs = {"prefixes": export_prefixes(store)} if f.name in ("turtle", "trig", "rdfxml") else {}
    if inferred and f.kind == "rdf" and getattr(store, "embedded", False):
        # everything, inferred included, is exactly the store's default graph: dump it natively
        store.dump(output, f.ox_rdf, graph="", prefixes=kwargs.get("prefixes"))
        return
    items = _quads(store, graphs) if f.kind == "dataset" else _union_triples(store, inferred)
    ox.serialize(items, output, f.ox_rdf, **kwargs)


def _cache_path(store, fmt: str, inferred: bool) -> Path | None:
    folder = getattr(store, "folder", None) if getattr(store, "embedded", False) else None
    return Path(folder) / "exports" / export_filename(fmt, inferred) if folder else None


def _open_tmp(cached: Path | None):
    """A temporary file beside ``cached``, or None when there is nowhere to cache (read-only build)."""
    if cached is None:
        return None
    try:
        cached.parent.mkdir(exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=cached.parent, prefix=".partial-", delete=False)
    except OSError:
        return None


class _Tee(io.RawIOBase):
    """Writes go to the client's stream and to the cache file."""

    def __init__(self, output, copy):
        self.output, self.copy = output, copy

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.output.write(data)
        self.copy.write(data)
        return len(data)

    def flush(self) -> None:
        self.output.flush()


def export_filename(fmt: str, inferred: bool = False) -> str:
    return f"kgapp{'-inferred' if inferred else ''}.{export_format(fmt).extension}"


class _QueueWriter(io.RawIOBase):
    """A file whose writes become queue items; a closed reader makes the next write fail, ending the writer."""

    def __init__(self, q: queue.Queue, cancelled: threading.Event):
        self.q, self.cancelled = q, cancelled

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        while not self.cancelled.is_set():
            try:
                self.q.put(chunk, timeout=0.2)
                return len(chunk)
            except queue.Full:
                continue
        raise BrokenPipeError("export reader went away")


_DONE = object()


def stream(write, *args, **kwargs) -> Iterator[bytes]:
    """Run ``write(*args, output, **kwargs)`` in a thread and yield what it writes, a few chunks in memory at most."""
    q: queue.Queue = queue.Queue(maxsize=8)
    cancelled = threading.Event()
    failure: list[BaseException] = []

    def run():
        try:
            with io.BufferedWriter(_QueueWriter(q, cancelled), CHUNK) as out:
                write(*args, out, **kwargs)
        except BrokenPipeError:
            pass
        except Exception as e:  # handed to the reader, which re-raises it in the request thread
            failure.append(e)
        finally:
            while not cancelled.is_set():
                try:
                    q.put(_DONE, timeout=0.2)
                    break
                except queue.Full:
                    continue

    worker = threading.Thread(target=run, name="kgapp-export", daemon=True)
    worker.start()
    try:
        while (item := q.get()) is not _DONE:
            yield item
        if failure:
            raise failure[0]
    finally:
        cancelled.set()  # if the client left early the writer stops at its next write


def stream_export(store, fmt: str, inferred: bool = False) -> Iterator[bytes]:
    """The bytes of write_export, streamed in chunks (for the web)."""
    export_format(fmt)  # fail before streaming starts, while a proper status can still be sent
    return stream(lambda out: write_export(store, fmt, out, inferred=inferred))
