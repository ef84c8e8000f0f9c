"""An N-Triples term's kind and its sort key in SPARQL's ORDER BY, read from the term's text."""

from __future__ import annotations

import re
from typing import Any

XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
# The kinds, in the order ORDER BY puts them (blank nodes < IRIs < literals); literals of two kinds are not
# compared (kgapp.sparql.columnar falls back to Oxigraph for a column that mixes them, or holds OTHER).
KIND_BLANK, KIND_IRI, KIND_STRING, KIND_LANG, KIND_INTEGER, KIND_OTHER = range(6)

_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))")
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def unescaped(text: str) -> str:
    """A string's text with its escapes (N-Triples' and SPARQL's: \\n, \\", \\uXXXX…) replaced."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)) if m.group(3) is None
                       else _ECHAR.get(m.group(3), m.group(3)), text)


def kind_and_key(term: str) -> tuple[int, Any]:
    """(kind, key) of an N-Triples term: keys of one kind sort as Oxigraph's ORDER BY sorts such terms
    (IRIs and plain strings by code point, language-tagged strings by text then tag, integers by value)."""
    if term.startswith("<"):
        return KIND_IRI, unescaped(term[1:-1])
    if term.startswith("_:"):
        return KIND_BLANK, term
    close = term.rindex('"')
    text = unescaped(term[1:close])
    rest = term[close + 1:]
    if not rest:
        return KIND_STRING, text
    if rest.startswith("@"):
        return KIND_LANG, (text, rest[1:])
    if rest == f"^^<{XSD_INTEGER}>":
        try:
            return KIND_INTEGER, int(text)
        except ValueError:
            return KIND_OTHER, term
    return KIND_OTHER, term


def sort_key(kind: int, key: Any) -> tuple[bool, int, Any]:
    """The order of all terms: blank nodes, IRIs, then literals grouped by kind, each kind by its key."""
    return kind >= KIND_STRING, kind, key
