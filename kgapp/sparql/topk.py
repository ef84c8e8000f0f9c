"""SELECT … ORDER BY ?v… LIMIT k as a top-k over the unordered solutions, with Oxigraph's exact order.

Oxigraph sorts every solution before LIMIT, and each comparison of two strings reads both from the
store (~0.5 s for 11,000 labels). Keeping the k best in a heap over the same solutions, unordered, costs
one pass. The shortcut is taken only where its order is certainly Oxigraph's: the query ends with
``ORDER BY`` plain variables (``?v``, ``ASC(?v)``, ``DESC(?v)``) and ``LIMIT``/``OFFSET``, and every sort
value is unbound, an IRI or a literal of one kind per column: plain strings (by code point),
language-tagged strings (by text, then tag) or xsd:integer (by value); unbound < IRIs < literals. Any
other value, or two literal kinds in one column, falls back to Oxigraph's own ORDER BY. Solutions that
tie on every key may come in another order than Oxigraph's (SPARQL leaves it open; so may LIMIT's cut).
The k rows are handed back as Oxigraph solutions (a VALUES query), so every writer is reused.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from kgapp.sparql.values import values_query
from kgapp.sparql_text import Token, by_shape, query_form, tokens, word

MAX_K = 10_000  # LIMIT + OFFSET above this: Oxigraph's sort (a heap that large gains little)
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


@dataclass(frozen=True)
class TopK:
    unordered: str  # the query without its ORDER BY, LIMIT and OFFSET
    keys: tuple[tuple[str, bool], ...]  # (variable name, descending)
    limit: int
    offset: int


class _Fallback(Exception):
    """A value whose order the shortcut does not reproduce exactly: let Oxigraph sort."""


@by_shape(none_only=True)
def plan(text: str) -> TopK | None:
    """The shortcut for ``text``, or None when it does not have the shape described above."""
    toks = list(tokens(text))
    if query_form(text) != "SELECT" or not toks:
        return None
    depth, order_at = 0, -1
    for i, tok in enumerate(toks):
        if tok.value in ("{", "}"):
            depth += 1 if tok.value == "{" else -1
        elif depth == 0 and word(tok) == "ORDER" and i + 1 < len(toks) and word(toks[i + 1]) == "BY":
            order_at = i
    if order_at < 0:
        return None
    keys, i = [], order_at + 2
    while i < len(toks) and word(toks[i]) not in ("LIMIT", "OFFSET"):
        tok = toks[i]
        if tok.kind == "var":
            keys.append((tok.value[1:], False))
            i += 1
        elif word(tok) in ("ASC", "DESC") and [t.value for t in toks[i + 1:i + 4:2]] == ["(", ")"] \
                and i + 2 < len(toks) and toks[i + 2].kind == "var":
            keys.append((toks[i + 2].value[1:], word(tok) == "DESC"))
            i += 4
        else:
            return None
    limit, offset = limit_offset(toks[i:])
    if not keys or limit is None or limit + offset > MAX_K:
        return None
    return TopK(text[:toks[order_at].offset], tuple(keys), limit, offset)


def limit_offset(rest: list[Token]) -> tuple[int | None, int]:
    """(LIMIT, OFFSET) when ``rest`` is exactly those two clauses (either order, OFFSET optional)."""
    words: list[str] = []
    end = -1
    for tok in rest:  # the lexer gives a number digit by digit
        if tok.value.isdigit() and words and words[-1].isdigit() and tok.offset == end:
            words[-1] += tok.value
        else:
            words.append(word(tok) or tok.value)
        end = tok.offset + len(tok.value)
    found: dict[str, int] = {}
    for j in range(0, len(words), 2):
        clause, value = words[j], words[j + 1] if j + 1 < len(words) else ""
        if clause not in ("LIMIT", "OFFSET") or clause in found or not value.isdigit():
            return None, 0
        found[clause] = int(value)
    return found.get("LIMIT"), found.get("OFFSET", 0)


class _Desc:
    """A sort value in descending order."""

    __slots__ = ("v",)

    def __init__(self, v: Any):
        self.v = v

    def __lt__(self, other: _Desc) -> bool:
        return bool(other.v < self.v)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and bool(self.v == other.v)

    __hash__ = None  # type: ignore[assignment]


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> tuple[Any, ...]:
    """The sort value of ``term`` and its kind: (rank, kind, value…)."""
    if term is None:
        return (0, "")
    if isinstance(term, ox.NamedNode):
        return (1, "", term.value)
    if isinstance(term, ox.Literal):
        if term.language is not None:
            return (2, "lang", term.value, term.language)
        if term.datatype.value == XSD_STRING:
            return (2, "string", term.value)
        if term.datatype.value == XSD_INTEGER:
            try:
                return (2, "integer", int(term.value))
            except ValueError:
                raise _Fallback from None
    raise _Fallback


def top_k(run: Callable[[str], Any], shape: TopK) -> ox.QuerySolutions | None:
    """The k solutions Oxigraph's ORDER BY would give, run through ``run(query_text)``; None to fall back."""
    result = run(shape.unordered)
    if not isinstance(result, ox.QuerySolutions):
        return None
    names = [v.value for v in result.variables]
    if not names or any(name not in names for name, _ in shape.keys):
        return None

    kinds: list[str | None] = [None] * len(shape.keys)  # the one literal kind each column may hold

    columns = [(names.index(name), desc) for name, desc in shape.keys]  # by index: ~8× faster than by name

    def keyed(i: int, row: ox.QuerySolution) -> tuple[Any, ...]:
        key = []
        for column, (index, desc) in enumerate(columns):
            value = _value(row[index])
            if value[0] == 2 and kinds[column] != value[1]:
                if kinds[column] is not None:
                    raise _Fallback  # literals of two kinds in one column: Oxigraph's order among them is its own
                kinds[column] = value[1]
            key.append(_Desc(value) if desc else value)
        return (tuple(key), i, row)

    try:
        best = heapq.nsmallest(shape.limit + shape.offset, (keyed(i, row) for i, row in enumerate(result)))
    except _Fallback:
        return None
    rows = [[row[name] for name in names] for _, _, row in best[shape.offset:]]
    if any(isinstance(c, (ox.BlankNode, ox.Triple)) for cells in rows for c in cells):
        return None  # VALUES cannot carry them
    kept = run(values_query(names, ([None if c is None else str(c) for c in cells] for cells in rows)))
    return kept if isinstance(kept, ox.QuerySolutions) else None
