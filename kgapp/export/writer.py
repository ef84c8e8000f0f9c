"""Serialise the store for other tools: every RDF format, asserted graphs with or without inferred ones, cached per build."""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kgapp.export.layout import CHUNK, EXPORTS, file_name, rights_header, serve_prebuilt
from kgapp.export.prefixes import export_prefixes
from kgapp.formats import Format, by_name, serialize_rdf
from kgapp.namespaces import INFERRED_GRAPH
from kgapp.store.base import Store


def exported_graphs(store, inferred: bool) -> list[str]:
    """The graphs an export contains: every asserted graph, plus the inferred one when asked."""
    return [g for g in store.named_graphs() if inferred or g != str(INFERRED_GRAPH)]


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
    A local build writes its exports while it is built (kgapp.export.prebuilt): they are copied from
    there. Otherwise (a build from before that, a remote server) the first export of a format is
    serialised from the store and also written to the build folder, and later ones stream that file.
    """
    f = export_format(fmt)
    if serve_prebuilt(store.folder, f, inferred, output):
        return
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
    # Exports carry whose content is whose, as VoID and the pages do. The header goes out with the first
    # byte of data, so a store that fails before answering still fails before anything is sent.
    output = _Prefixed(output, rights_header(f))
    graphs = exported_graphs(store, inferred)
    if not graphs:
        return
    prefixes = export_prefixes(store)
    if inferred and f.kind == "rdf" and store.folder is not None:
        # everything, inferred included, is exactly the store's default graph: dump it natively
        store.dump(output, f.ox_rdf, graph="", prefixes=prefixes)
        return
    if f.name == "nquads" and store.folder is not None:
        for g in graphs:  # each graph dumped natively as N-Triples, its name added to every line
            with io.BufferedWriter(_NamedLines(output, g), CHUNK) as lines:
                store.dump(lines, ox.RdfFormat.N_TRIPLES, graph=g)
        return
    items = _quads(store, graphs) if f.kind == "dataset" else _union_triples(store, inferred)
    serialize_rdf(items, f, output, prefixes)


class _Prefixed(io.RawIOBase):
    """Writes ``prefix`` just before the first data written through it."""

    def __init__(self, output, prefix: bytes):
        self.output, self.prefix = output, prefix

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.prefix:
            self.output.write(self.prefix)
            self.prefix = b""
        self.output.write(data)
        return len(data)

    def flush(self) -> None:
        self.output.flush()


class _NamedLines(io.RawIOBase):
    """Turns N-Triples into N-Quads of one graph: every line ends " .\n" (N-Triples escapes newlines in
    literals, so nothing else does) and gets the graph name before its dot."""

    def __init__(self, output, graph: str):
        self.output, self.suffix, self.rest = output, f" <{graph}> .\n".encode(), b""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        text = self.rest + bytes(data)
        cut = text.rfind(b"\n") + 1
        self.rest = text[cut:]
        self.output.write(text[:cut].replace(b" .\n", self.suffix))
        return len(data)

    def close(self) -> None:
        if self.rest:  # a dump always ends its last line; keep any tail rather than lose it
            self.output.write(self.rest)
            self.rest = b""
        super().close()


def _cache_path(store: Store, fmt: str, inferred: bool) -> Path | None:
    return store.folder / EXPORTS / export_filename(fmt, inferred) if store.folder else None


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
    return file_name(export_format(fmt), inferred)
