"""Query results written natively by Oxigraph and cut at a row cap, without Python objects per solution.

How a SELECT result is cut: Oxigraph writes it as SPARQL TSV, which has exactly one line per solution
(newlines inside literals are escaped), into a writer that counts newlines and stops the serialiser
(and so the lazy evaluation) once ``max_rows`` solutions are in. When the client asked for TSV and
nothing was cut, those bytes are the answer; otherwise Oxigraph parses the kept TSV back and writes the
asked format. Every step stays in Rust: a normal-size result costs one extra native pass, a huge one
never gets built beyond the cap. CONSTRUCT/DESCRIBE results already arrive as Python triples, so they
are simply taken up to the cap. ASK results are one row.

A cut answer says so in its body too where the format has a place for it (clients seldom show headers):
SPARQL JSON ``head.link`` and XML ``<link href>`` point at the page explaining the cap, and the RDF
formats with comments (Turtle, N-Triples, TriG, N-Quads) open with one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from itertools import islice
from json import dumps
from typing import IO, cast
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from kgapp.formats import Format, serialize_rdf
from kgapp.store.base import QueryResult

TSV = ox.QueryResultsFormat.TSV
LONG_ROWS = 100  # rows after which a result counts as long (lookups write a few; a wide star thousands)


@dataclass(frozen=True)
class Written:
    body: bytes
    rows: int  # solutions or triples written (1 for ASK)
    truncated: bool  # more rows existed than were written


class _RowCapReached(Exception):
    """Raised inside the writer to stop Oxigraph's serialiser once the cap is reached."""


class _LineCap:
    """A binary write target keeping whole lines up to ``lines``; one more line stops the serialiser.
    ``on_long`` is called once, when LONG_ROWS rows (lines after the header) are in."""

    def __init__(self, lines: int, on_long: Callable[[], None] | None = None):
        self.limit = lines
        self.lines = 0
        self.parts: list[bytes] = []
        self.truncated = False
        self.on_long = on_long

    def write(self, data: bytes | bytearray | memoryview) -> int:
        data = bytes(data)
        newlines = data.count(b"\n")
        if self.lines + newlines > self.limit:
            end = -1
            for _ in range(self.limit - self.lines):
                end = data.index(b"\n", end + 1)
            self.parts.append(data[:end + 1])
            self.lines = self.limit
            self.truncated = True
            raise _RowCapReached()
        self.parts.append(data)
        self.lines += newlines
        if self.on_long is not None and self.lines > LONG_ROWS:  # the header line, then the rows
            told, self.on_long = self.on_long, None
            told()
        return len(data)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def write_solutions(result: ox.QuerySolutions, fmt: Format, max_rows: int,
                    on_long: Callable[[], None] | None = None) -> Written:
    """A SELECT result in ``fmt``, at most ``max_rows`` solutions (``on_long``: as in ``write_result``)."""
    sink = _LineCap(max_rows + 1, on_long)  # the header line, then one line per solution
    try:
        result.serialize(cast(IO[bytes], sink), TSV)  # pyoxigraph only calls write() and flush()
    except (OSError, _RowCapReached):
        if not sink.truncated:  # a real I/O error, not our stop signal
            raise
    tsv = sink.getvalue()
    rows = max(sink.lines - 1, 0)
    if fmt.ox_results == TSV and not sink.truncated:
        return Written(tsv, rows, False)
    kept = ox.parse_query_results(tsv, TSV)
    # no output given: serialize returns the bytes
    return Written(cast(bytes, kept.serialize(format=fmt.ox_results)), rows, sink.truncated)


def _telling(triples: Iterable[ox.Triple], on_long: Callable[[], None]) -> Iterator[ox.Triple]:
    for i, triple in enumerate(triples, 1):
        if i == LONG_ROWS:
            on_long()
        yield triple


def write_boolean(result: ox.QueryBoolean, fmt: Format) -> Written:
    return Written(cast(bytes, result.serialize(format=fmt.ox_results)), 1, False)


def write_triples(triples: Iterable[ox.Triple], fmt: Format, max_rows: int,
                  on_long: Callable[[], None] | None = None) -> Written:
    """Triples (any iterable of ``ox.Triple``) in an RDF format, at most ``max_rows`` of them (``on_long``: as
    in ``write_result``)."""
    if on_long is not None:
        triples = _telling(triples, on_long)
    kept = list(islice(triples, max_rows + 1))
    truncated = len(kept) > max_rows
    triples = kept[:max_rows]
    return Written(cast(bytes, serialize_rdf(triples, fmt)), len(triples), truncated)


def mark_truncated(body: bytes, fmt: Format, link: str, max_rows: int) -> bytes:
    """``body`` (a cut answer) saying in itself that it was cut, and where the cap is explained."""
    if fmt.name == "json" and body.startswith(b'{"head":{'):
        return b'{"head":{"link":[' + dumps(link).encode() + b"]," + body[len(b'{"head":{'):]
    if fmt.name == "xml":
        tag = b"<link href=" + quoteattr(link).encode() + b"/>"
        if b"</head>" in body:
            return body.replace(b"</head>", tag + b"</head>", 1)
        return body.replace(b"<head/>", b"<head>" + tag + b"</head>", 1)
    if fmt.name in ("turtle", "ntriples", "trig", "nquads"):
        return f"# Cut at {max_rows} triples, this endpoint's row cap: see {link}\n".encode() + body
    return body


def write_result(result: QueryResult, fmt: Format, max_rows: int, cap_link: str | None = None,
                 on_long: Callable[[], None] | None = None) -> Written:
    """Any query result (solutions, boolean, triples) in ``fmt``, cut at ``max_rows``; a cut answer links to
    ``cap_link`` in its body where the format allows. ``on_long`` is called once if the result runs to
    LONG_ROWS rows (the lean path leaves its lane then: kgapp.sparql.lane)."""
    if isinstance(result, ox.QueryBoolean):
        return write_boolean(result, fmt)
    written = (write_solutions(result, fmt, max_rows, on_long) if isinstance(result, ox.QuerySolutions)
               else write_triples(result, fmt, max_rows, on_long))
    if written.truncated and cap_link:
        return replace(written, body=mark_truncated(written.body, fmt, cap_link, max_rows))
    return written
