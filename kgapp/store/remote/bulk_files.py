"""A build's graphs as N-Triples files for Virtuoso's bulk loader, and their counts read back from the files.

No store is filled on the way: each named graph's sources are converted straight into its file (by
the parse an embedded build uses, so blank nodes get the same ids), and the union is loaded from the
same files again: a source without blank nodes through a second name for its file (a hard link), the
graphs with blank nodes back to back in one file, so that a node keeps one label where the reasoner's
and the validator's triples meet it. The server merges the triples the graphs share, as an RDF merge
does. The counts the build verifies and the statistics of its manifest come from the files' distinct
lines: pyoxigraph writes a triple as one canonical line.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
from rdflib import Graph

from kgapp.sources import SourceFile, parse_quads, reading, store_salt
from kgapp.store.stats import from_lines
from kgapp.store.writer import graph_quads, loads_natively

NT = ox.RdfFormat.N_TRIPLES


@dataclass(frozen=True)
class GraphFiles:
    """Each named graph's file, and the files that together hold the union."""

    named: dict[str, Path]
    union: list[Path]


def write(prefix: Path, files: Iterable[SourceFile], graphs: Iterable[tuple[str, Graph]], base_iri: str) -> GraphFiles:
    """Write ``prefix``-named files into its folder: the union's first (the bulk loader takes files in name order,
    the largest first keeps two loaders busy), then one per named graph."""
    by_graph: dict[str, list[SourceFile | Graph]] = {}
    for source in files:
        by_graph.setdefault(str(source.graph), []).append(source)
    for name, graph in graphs:
        by_graph.setdefault(name, []).append(graph)
    named: dict[str, Path] = {}
    union: list[Path] = []
    blank = Path(f"{prefix}0-union.nt")
    with open(blank, "wb") as together:
        union.append(blank)
        for i, (name, parts) in enumerate(by_graph.items()):
            path = named[name] = Path(f"{prefix}2-{i:04d}.nt")
            with open(path, "wb") as out:
                for part in parts:
                    _write_part(out, part, name, base_iri)
            if all(isinstance(p, SourceFile) and loads_natively(p, base_iri) for p in parts):
                link = Path(f"{prefix}1-{i:04d}.nt")
                os.link(path, link)  # no blank node: loaded on its own into the union too
                union.append(link)
            else:
                with open(path, "rb") as copy:
                    shutil.copyfileobj(copy, together)
    return GraphFiles(named, union)


def count(written: GraphFiles) -> tuple[dict[str, int], int, dict[str, Any]]:
    """The distinct triples of each named graph and of the union, and the union's statistics, from the files."""
    seen: set[bytes] = set()
    counts = {}
    for name, path in written.named.items():
        with open(path, "rb") as f:
            lines = set(f)
        counts[name] = len(lines)
        seen |= lines
    return counts, len(seen), from_lines(seen, counts)


def _write_part(out: BinaryIO, part: SourceFile | Graph, name: str, base_iri: str) -> None:
    if isinstance(part, Graph):
        ox.serialize((q.triple for q in graph_quads(part, name)), out, NT)
    elif loads_natively(part, base_iri):
        with reading(part):
            ox.serialize(ox.parse(path=str(part.path), format=part.ox_format), out, NT)
    else:
        ox.serialize((q.triple for q in parse_quads(part, ox.NamedNode(name), base_iri, store_salt(part))), out, NT)
