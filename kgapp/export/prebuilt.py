"""Export files a build writes from the quads it parsed, so every first export is a file copy.

Reading a million triples back out of the store costs ~17 µs a triple (each term is decoded through
RocksDB); serialising the quads the build already holds costs about 1 µs. So while a build runs,
``BuildExports`` writes the asserted export in every format into ``exports/`` of the build folder:
first the sources' part (right after parsing, before the quads are dropped), then, once they are
known, the validation graph's triples are added and each file gets its name (until then it is a
``.partial-`` file: a build that stops half way leaves nothing under an export's name). The inferred
graph's part goes into ``inferred.<ext>``; the ``--inferred`` export is the asserted file with that
part spliced in before its closing bytes (``serve_prebuilt``), so no second copy is kept.

Each part holds the union's triples once: lines of canonical N-Triples are the identity of a triple
(the store and these files get the very same quads, blank node ids included), so a triple stated by
two sources, or by a source and the reasoner, is written once, as the store's default graph holds it.
Typed literals are written as the store gives them back: it keeps numbers, dates and booleans as
values ("0.10"^^xsd:decimal comes back "0.1", "+5"^^xsd:int as "5"^^xsd:integer), so each distinct
one is passed once through Oxigraph's own encoding (a VALUES query) and the files say what it says.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import ExitStack
from itertools import compress
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyoxigraph as ox

from kgapp.export.layout import CLOSING, EXPORTS, file_name, inferred_part_name, rights_header
from kgapp.export.prefixes import export_prefixes_for
from kgapp.formats import BY_NAME, RDF_FORMATS, Format, prefix_args

_TRIPLE_FORMATS = ("turtle", "jsonld", "rdfxml")  # written from triples; N-Triples and N-Quads from lines


class BuildExports:
    """The export files of a build being written: ``write_sources`` then ``finish``."""

    def __init__(self, folder: Path, base_iri: str):
        self.dir, self.base_iri = folder / EXPORTS, base_iri
        self.prefixes: dict[str, str] = {}
        self.hashes: set[int] = set()  # hash() of each N-Triples line written so far (exact check on a hit)
        self.triples = 0  # distinct triples written so far
        self.literals: dict[ox.Literal, ox.Literal] = {}  # typed literal → as the store holds it
        self._encoder = ox.Store()  # empty, in memory: only its query engine's encoding is used

    def _partial(self, name: str) -> Path:
        return self.dir / f".partial-{name}"

    def write_sources(self, parsed: Iterable[tuple[Any, list[ox.Quad]]]) -> None:
        """Start every format's file with the union of the sources (``(source, quads)``, each source
        with a ``graph``); the quads may be dropped afterwards."""
        by_graph: dict[str, list[list[ox.Quad]]] = {}
        for source, quads in parsed:
            by_graph.setdefault(str(source.graph), []).append(quads)
        self.prefixes = export_prefixes_for(self.base_iri, (q for lists in by_graph.values() for qs in lists for q in qs))
        self.dir.mkdir(exist_ok=True)
        with ExitStack() as files:
            heads = {f.name: files.enter_context(open(self._partial(file_name(f)), "wb")) for f in RDF_FORMATS}
            for f in RDF_FORMATS:
                heads[f.name].write(rights_header(f))
            seen: set[bytes] = set()
            parts: list[tuple[list[ox.Quad], list[bool] | None, list[bool] | None]] = []
            for graph, lists in by_graph.items():
                in_graph: set[bytes] = set()
                for quads in lists:
                    quads, lines = self._canonical(quads, graph)
                    graph_new = _new(lines, in_graph)
                    union_new = [line for line in graph_new if line not in seen]
                    seen.update(union_new)
                    heads["nquads"].write(_join(graph_new, graph))
                    heads["ntriples"].write(_join(union_new))
                    parts.append((quads, _mask(lines, union_new), _mask(lines, graph_new)))
            self.triples, self.hashes = len(seen), set(map(hash, seen))
            del seen
            for name in _TRIPLE_FORMATS:
                triples = (q.triple for quads, mask, _ in parts for q in _kept(quads, mask))
                _serialize(triples, BY_NAME[name], heads[name], self.prefixes)
            _serialize((q for quads, _, mask in parts for q in _kept(quads, mask)), BY_NAME["trig"], heads["trig"],
                       self.prefixes)

    def finish(self, store: ox.Store, validation: tuple[str, list[ox.Quad]], inferred: tuple[str, list[ox.Quad]]) -> None:
        """Add the validation graph to every file and write the inferred graph's part; then name them all.

        ``store`` is the build's store, holding both graphs: a triple whose line hash was seen before
        is looked up there, so a hash collision never drops a triple.
        """
        checked = self._part(store, *validation, skip={validation[0], inferred[0]})
        more = self._part(store, *inferred, skip={inferred[0]})
        for f in RDF_FORMATS:
            _append(self._partial(file_name(f)), f, checked[f.name])
            self._partial(inferred_part_name(f)).write_bytes(more[f.name])
        for f in RDF_FORMATS:  # complete: the asserted files get their names, the inferred parts last
            os.replace(self._partial(file_name(f)), self.dir / file_name(f))
        for f in RDF_FORMATS:
            os.replace(self._partial(inferred_part_name(f)), self.dir / inferred_part_name(f))

    def _part(self, store: ox.Store, graph: str, quads: list[ox.Quad], skip: set[str]) -> dict[str, bytes]:
        """One more graph as a part of every format: its quads once each, and the triples not yet written."""
        in_graph: list[ox.Quad] = []
        graph_lines: list[bytes] = []
        new: list[ox.Quad] = []
        new_lines: list[bytes] = []
        here: set[bytes] = set()
        quads, lines = self._canonical(quads, graph)
        for line, q in zip(lines, quads, strict=True):
            if line in here:
                continue
            here.add(line)
            in_graph.append(q)
            graph_lines.append(line)
            h = hash(line)
            if h in self.hashes and _held_elsewhere(store, q, skip):
                continue
            self.hashes.add(h)
            new.append(q)
            new_lines.append(line)
        empty, self.triples = self.triples == 0, self.triples + len(new)
        out = {"ntriples": _join(new_lines), "nquads": _join(graph_lines, graph)}
        for name in _TRIPLE_FORMATS:
            out[name] = _fragment(BY_NAME[name], _serialize([q.triple for q in new], BY_NAME[name], None, self.prefixes),
                                  empty)
        out["trig"] = _fragment(BY_NAME["trig"], _serialize(in_graph, BY_NAME["trig"], None, self.prefixes), empty)
        return out

    def _canonical(self, quads: list[ox.Quad], graph: str) -> tuple[list[ox.Quad], list[bytes]]:
        """The quads, typed literals as the store holds them, and their N-Triples lines."""
        lines = _lines(quads, graph)
        typed = [i for i, line in enumerate(lines) if b'"^^<' in line]  # may over-match: only a hint
        unseen = {quads[i].object for i in typed} - self.literals.keys()
        self._learn([term for term in unseen if isinstance(term, ox.Literal)])
        changed = [i for i in typed if self.literals.get(quads[i].object, quads[i].object) != quads[i].object]
        if not changed:
            return quads, lines
        quads = list(quads)
        for i in changed:
            q = quads[i]
            quads[i] = ox.Quad(q.subject, q.predicate, self.literals[cast(ox.Literal, q.object)], q.graph_name)
        for i, line in zip(changed, _lines([quads[i] for i in changed], graph), strict=True):
            lines[i] = line
        return quads, lines

    def _learn(self, literals: list[ox.Literal]) -> None:
        for start in range(0, len(literals), 5000):
            batch = literals[start:start + 5000]
            rows = " ".join(f"({i} {term})" for i, term in enumerate(batch))
            for row in cast(ox.QuerySolutions, self._encoder.query(f"SELECT ?i ?o {{ VALUES (?i ?o) {{ {rows} }} }}")):
                self.literals[batch[int(row["i"].value)]] = cast(ox.Literal, row["o"])


def _serialize(items, f: Format, output: BinaryIO | None, prefixes: dict[str, str]) -> bytes:
    return ox.serialize(items, output, f.ox_rdf, **prefix_args(f.ox_rdf, prefixes)) or b""


def _lines(quads: list[ox.Quad], graph: str) -> list[bytes]:
    """The canonical N-Triples line (without its newline) of each quad, in order. N-Quads of one named
    graph are N-Triples with the graph's name before each final dot; literals escape newlines."""
    text = ox.serialize(quads, None, ox.RdfFormat.N_QUADS).replace(f" <{graph}> .\n".encode(), b" .\n")
    lines = text.split(b"\n")
    lines.pop()  # after the last newline
    if len(lines) != len(quads):
        raise RuntimeError(f"unexpected N-Quads from pyoxigraph: {len(lines)} lines for {len(quads)} quads")
    return lines


def _join(lines: list[bytes], graph: str | None = None) -> bytes:
    if not lines:
        return b""
    text = b"\n".join(lines) + b"\n"
    return text.replace(b" .\n", f" <{graph}> .\n".encode()) if graph else text


def _new(lines: list[bytes], seen: set[bytes]) -> list[bytes]:
    """The lines not in ``seen``, once each, in order; ``seen`` gets them."""
    fresh = [line for line in dict.fromkeys(lines) if line not in seen] if seen else list(dict.fromkeys(lines))
    seen.update(fresh)
    return fresh


def _mask(lines: list[bytes], kept: list[bytes]) -> list[bool] | None:
    """Which of ``lines`` are the first occurrences of ``kept`` (None: all of them)."""
    if len(kept) == len(lines):
        return None
    wanted, mask = set(kept), []
    for line in lines:
        mask.append(line in wanted)
        wanted.discard(line)
    return mask


def _kept(quads: list[ox.Quad], mask: list[bool] | None) -> Iterable[ox.Quad]:
    return quads if mask is None else compress(quads, mask)


def _held_elsewhere(store: ox.Store, q: ox.Quad, skip: set[str]) -> bool:
    """Whether a named graph of ``store`` other than those in ``skip`` states ``q``'s triple."""
    return any(isinstance(h.graph_name, ox.NamedNode) and h.graph_name.value not in skip
               for h in store.quads_for_pattern(q.subject, q.predicate, q.object, None))


def _fragment(f: Format, body: bytes, empty: bool) -> bytes:
    """A whole document made a part that can follow an earlier one of the same format and prefixes."""
    if f.name in ("turtle", "trig"):
        while not empty and body.startswith(b"@prefix "):  # declared at the top of the file already
            body = body[body.index(b"\n") + 1:]
        return body
    if f.name == "jsonld":
        if not (body.startswith(b"[") and body.endswith(b"]")):
            raise RuntimeError("unexpected JSON-LD from pyoxigraph: not one top-level array")
        inner = body[1:-1]
        return (b"," if inner and not empty else b"") + inner
    if f.name == "rdfxml":
        if not body.endswith(CLOSING["rdfxml"]):
            raise RuntimeError("unexpected RDF/XML from pyoxigraph: no closing </rdf:RDF>")
        start = body.index(b">", body.index(b"<rdf:RDF")) + 1
        start += body[start:start + 1] == b"\n"
        return body[start:-len(CLOSING["rdfxml"])]
    return body


def _append(path: Path, f: Format, part: bytes) -> None:
    """Add ``part`` to a whole document in ``path``, before its closing bytes."""
    closing = CLOSING.get(f.name, b"")
    with open(path, "r+b") as out:
        end = out.seek(0, os.SEEK_END) - len(closing)
        out.seek(end)
        if out.read() != closing:
            raise RuntimeError(f"{path.name} does not end as a {f.name} document should")
        out.seek(end)
        out.truncate()
        out.write(part + closing)
