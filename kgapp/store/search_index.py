"""A full-text index of a build's labels and notes (SQLite FTS5, trigram), so search never scans the store.

Written into the build folder with the store, so it is as atomic as the build. Trigrams match any
substring of three or more characters ("spasm" finds "blepharospasm"); shorter words fall back to
a LIKE scan of the index, still far cheaper than scanning every literal of the store.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from kgapp.namespaces import (
    DCTERMS,
    KG,
    RDFS,
    SHAPES_GRAPH,
    SKOS,
    VALIDATION_GRAPH,
    sparql_prologue,
)
from kgapp.store.base import Store

FILE = "search.sqlite"
MAX_CANDIDATES = 20_000  # rows handed to the ranker at most: a bound on work per search
# How much a hit in each field counts: a code's own notation beats its name, which beats its notes.
WEIGHTS: dict[str, float] = {
    str(SKOS.notation): 10, str(SKOS.prefLabel): 6, str(RDFS.label): 6, str(DCTERMS.title): 4,
    str(SKOS.altLabel): 4, str(SKOS.hiddenLabel): 3, str(SKOS.definition): 1.5, str(RDFS.comment): 1.5,
    str(SKOS.scopeNote): 1, str(KG.usageNote): 1, str(KG.policyNote): 1, str(KG.gapNote): 1,
    str(KG.siteOfServiceNote): 1, str(KG.expectedOutcome): 1,
}
# Only literals containing one of the words come back: Oxigraph filters natively, Python ranks the few.
TEXTS = sparql_prologue() + """
SELECT DISTINCT ?s ?p ?text ?type WHERE {
  VALUES ?p { %s }
  GRAPH ?g { ?s ?p ?text } FILTER(isIRI(?s) && ?g NOT IN (<%s>, <%s>) && (%%s))
  OPTIONAL { ?s a ?type FILTER(STRSTARTS(STR(?type), STR(kg:))) }
}""" % (" ".join(f"<{p}>" for p in WEIGHTS), SHAPES_GRAPH, VALIDATION_GRAPH)


# What the index holds: each (subject, predicate, text) once, whatever the subject's types or graphs.
INDEXED = sparql_prologue() + """
SELECT DISTINCT ?s ?p ?text WHERE {
  VALUES ?p { %s }
  GRAPH ?g { ?s ?p ?text } FILTER(isIRI(?s) && ?g NOT IN (<%s>, <%s>))
}""" % (" ".join(f"<{p}>" for p in WEIGHTS), SHAPES_GRAPH, VALIDATION_GRAPH)


def index_rows(store: Store | ox.Store) -> Iterator[tuple[str, str, str]]:
    """Every searchable (subject, predicate, text) of a store, once each, for the build's full-text index."""
    for r in cast(ox.QuerySolutions, store.query(INDEXED)):  # a SELECT query: always solutions
        yield r["s"].value, r["p"].value, r["text"].value


def write_index(folder: Path, rows: Iterator[tuple[str, str, str]]) -> Path:
    """Index (subject IRI, predicate IRI, text) rows into ``folder``/search.sqlite."""
    path = Path(folder) / FILE
    with sqlite3.connect(path) as db:
        db.execute("CREATE VIRTUAL TABLE docs USING fts5(s UNINDEXED, p UNINDEXED, text, tokenize='trigram')")
        db.executemany("INSERT INTO docs VALUES (?, ?, ?)", rows)
    return path


def candidates(path: Path, tokens: list[str]) -> list[tuple[str, str, str]]:
    """Rows whose text contains at least one of ``tokens`` (lower-case words)."""
    long = [t for t in tokens if len(t) >= 3]
    # FTS5 allows MATCH only on its own, not OR-ed with other conditions: one query per kind
    queries = [("SELECT s, p, text FROM docs WHERE docs MATCH ?",
                " OR ".join('"' + t.replace('"', '""') + '"' for t in long))] if long else []
    queries += [("SELECT s, p, text FROM docs WHERE text LIKE ?", f"%{t}%") for t in tokens if len(t) < 3]
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows: list[tuple[str, str, str]] = []
        for sql, param in queries:
            rows += db.execute(f"{sql} LIMIT {MAX_CANDIDATES - len(rows)}", (param,)).fetchall()
            if len(rows) >= MAX_CANDIDATES:
                break
        return rows
    finally:
        db.close()
