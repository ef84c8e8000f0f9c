"""Serialise the store for other tools: every RDF format, asserted graphs with or without inferred ones."""

from __future__ import annotations

import io
import queue
import re
import threading
from collections.abc import Iterator
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
    """
    f = export_format(fmt)
    graphs = exported_graphs(store, inferred)
    if not graphs:
        return
    items = _quads(store, graphs) if f.kind == "dataset" else _union_triples(store, inferred)
    kwargs = {"prefixes": export_prefixes(store)} if f.name in ("turtle", "trig", "rdfxml") else {}
    ox.serialize(items, output, f.ox_rdf, **kwargs)


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
