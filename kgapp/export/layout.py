"""The export files in a build folder: their names, the rights header they open with, and the splice
that serves the inferred export from the asserted file and the inferred graph's part."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO

from kgapp.formats import BY_NAME, Format
from kgapp.rights import RIGHTS

EXPORTS = "exports"
CHUNK = 64 * 1024
# The bytes that close a whole document; a later part goes just before them.
CLOSING = {"jsonld": b"]", "rdfxml": b"</rdf:RDF>"}


def rights_header(f: Format) -> bytes:
    """The rights statement as comment lines, for the formats that have comments ("#" lines)."""
    if f.name not in ("turtle", "ntriples", "trig", "nquads"):
        return b""
    words, lines, line = RIGHTS.split(), [], "#"
    for word in words:
        if len(line) + 1 + len(word) > 100:
            lines.append(line)
            line = "#"
        line += " " + word
    return ("\n".join([*lines, line]) + "\n").encode("utf-8")


def file_name(f: Format, inferred: bool = False) -> str:
    return f"kgapp{'-inferred' if inferred else ''}.{f.extension}"


def inferred_part_name(f: Format) -> str:
    return f"inferred.{f.extension}"


def union_ntriples(folder: Path) -> list[Path]:
    """The build's N-Triples export files that together hold its default graph once (asserted, inferred part)."""
    ntriples = BY_NAME["ntriples"]
    return [folder / EXPORTS / file_name(ntriples), folder / EXPORTS / inferred_part_name(ntriples)]


def serve_prebuilt(folder: Path | None, f: Format, inferred: bool, output: BinaryIO) -> bool:
    """Copy the build's pre-written export to ``output``; False if the build has none (older builds)."""
    if folder is None:
        return False
    head, part = folder / EXPORTS / file_name(f), folder / EXPORTS / inferred_part_name(f)
    if not part.is_file():  # written last: the mark of a build that pre-wrote its exports
        return False
    closing = CLOSING.get(f.name, b"") if inferred else b""
    with open(head, "rb") as source:
        left = os.fstat(source.fileno()).st_size - len(closing)
        while left > 0 and (chunk := source.read(min(CHUNK, left))):
            output.write(chunk)
            left -= len(chunk)
        if inferred:
            with open(part, "rb") as more:
                shutil.copyfileobj(more, output, CHUNK)
            output.write(closing)
    return True
