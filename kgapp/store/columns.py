"""A build's default graph as integer columns (one row a triple, every term an id), for scans over every code.

Oxigraph answers a GROUP BY or an ORDER BY over thousands of codes by decoding each term from RocksDB
(~1.5 µs a term) and sorting strings read back on every comparison. The build therefore also writes its
default graph as numpy arrays (kgapp.sparql.columnar evaluates the queries that read every solution over
them): the triples as ids sorted by (predicate, subject, object), each term's N-Triples text, its kind
and its rank in SPARQL's ORDER BY. The arrays are memory-mapped, so every query worker shares one copy.

Files under ``columns/`` of a build folder (renamed into place whole, before the manifest is written):
``triples.npy`` (int32, n × 3), ``terms.bin`` + ``offsets.npy`` (UTF-8 terms, int64 ends),
``kind.npy`` (uint8, KIND_*), ``rank.npy`` (int32), ``by_rank.npy`` (the ids in rank order: a term is found by
its kind and key in log n steps) and
``meta.json`` (triple count, predicates' row ranges).
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kgapp.store.term_text import kind_and_key, sort_key

DIR = "columns"


def write_columns(folder: Path, ntriples: Iterable[Path]) -> int:
    """Write ``folder``/columns from N-Triples files that together hold the default graph once (the build's
    export files: canonical lines, ``#`` comments); returns the number of triples."""
    ids: dict[str, int] = {}
    get = ids.setdefault
    flat: list[int] = []
    add = flat.append
    for path in ntriples:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                a = line.index(" ")
                b = line.index(" ", a + 1)
                add(get(line[:a], len(ids)))
                add(get(line[a + 1:b], len(ids)))
                add(get(line[b + 1:line.rindex(" .")], len(ids)))
    triples = np.array(flat, dtype=np.int32).reshape(-1, 3)
    del flat
    triples = triples[np.lexsort((triples[:, 2], triples[:, 0], triples[:, 1]))]
    terms = list(ids)
    del ids
    keyed = [kind_and_key(t) for t in terms]
    order = sorted(range(len(terms)), key=lambda i: sort_key(*keyed[i]))
    rank = np.empty(len(terms), dtype=np.int32)
    rank[np.array(order, dtype=np.int64)] = np.arange(len(terms), dtype=np.int32)
    kind = np.array([k for k, _ in keyed], dtype=np.uint8)
    encoded = [t.encode("utf-8") for t in terms]
    offsets = np.cumsum([len(e) for e in encoded], dtype=np.int64)
    preds = triples[:, 1]
    starts = np.flatnonzero(np.r_[True, preds[1:] != preds[:-1]]) if len(preds) else np.array([], dtype=np.int64)
    ends = np.r_[starts[1:], len(preds)] if len(preds) else starts
    meta = {"triples": len(triples),
            "predicates": {terms[int(preds[s])][1:-1]: [int(s), int(e)] for s, e in zip(starts, ends, strict=True)}}
    partial = folder / f".partial-{DIR}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    np.save(partial / "triples.npy", triples)
    np.save(partial / "offsets.npy", offsets)
    np.save(partial / "kind.npy", kind)
    np.save(partial / "rank.npy", rank)
    np.save(partial / "by_rank.npy", np.array(order, dtype=np.int32))
    (partial / "terms.bin").write_bytes(b"".join(encoded))
    (partial / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    os.replace(partial, folder / DIR)
    return len(triples)


class Columns:
    """A build's columns, memory-mapped read-only."""

    def __init__(self, where: Path):
        meta = json.loads((where / "meta.json").read_text(encoding="utf-8"))
        self.count: int = meta["triples"]
        self.predicates: dict[str, tuple[int, int]] = {p: (s, e) for p, (s, e) in meta["predicates"].items()}
        load: Any = lambda name: np.load(where / name, mmap_mode="r")  # noqa: E731
        self.triples, self.offsets, self.kind, self.rank, self.by_rank = (
            load("triples.npy"), load("offsets.npy"), load("kind.npy"), load("rank.npy"), load("by_rank.npy"))
        with open(where / "terms.bin", "rb") as f:
            self._text = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if os.fstat(f.fileno()).st_size else b""

    def term(self, i: int) -> str:
        """The N-Triples text of term ``i``."""
        start = int(self.offsets[i - 1]) if i else 0
        return self._text[start:int(self.offsets[i])].decode("utf-8")

    def terms(self, ids: Sequence[int]) -> list[str]:
        return [self.term(int(i)) for i in ids]

    def term_id(self, kind: int, key: Any) -> int | None:
        """The id of the term of ``kind`` and ``key`` (kgapp.store.term_text), or None when the graph has none."""
        target, lo, hi = sort_key(kind, key), 0, len(self.by_rank)
        while lo < hi:
            mid = (lo + hi) // 2
            if sort_key(*kind_and_key(self.term(int(self.by_rank[mid])))) < target:
                lo = mid + 1
            else:
                hi = mid
        found = lo < len(self.by_rank) and kind_and_key(self.term(int(self.by_rank[lo]))) == (kind, key)
        return int(self.by_rank[lo]) if found else None

    def rows(self, predicate: str) -> np.ndarray:
        """The (subject, predicate, object) rows of ``predicate``, sorted by subject then object."""
        start, end = self.predicates.get(predicate, (0, 0))
        return np.asarray(self.triples[start:end])


def open_columns(folder: Path | None, triples: int) -> Columns | None:
    """The columns of the build in ``folder``, or None when it has none (an older build) or they do not hold
    ``triples`` triples (the manifest's count: a mismatch means they cannot be trusted)."""
    where = folder / DIR if folder is not None else None
    if where is None or not (where / "meta.json").is_file():
        return None
    try:
        columns = Columns(where)
    except (OSError, ValueError, KeyError):
        return None
    return columns if columns.count == triples else None
