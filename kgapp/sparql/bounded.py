"""Which queries cannot run long: a star of triple patterns around one subject, anchored, with nothing else.

The endpoint runs most queries in worker processes so that a time limit can kill them (Oxigraph cannot
cancel a query). The process hop costs more than a lookup itself, so queries whose cost is bounded by the
size of the graph are answered in the request thread. A query is bounded when its lexed text is exactly:

- a prologue (BASE, PREFIX), then ``SELECT`` with plain variables or ``*``, ``ASK``, or ``CONSTRUCT`` with a
  template of triple patterns; optionally ``WHERE``; one group that is a basic graph pattern; optionally
  ``LIMIT n``; nothing else (no FILTER, OPTIONAL, UNION, GRAPH, sub-queries, paths, aggregates, ORDER BY,
  DISTINCT, VALUES, BIND, blank nodes, FROM, numbers — any other token sends the query to a worker);
- every triple pattern of the group has the same subject (a star), and either that subject is an IRI, or
  every predicate is an IRI and at least one object is an IRI or a literal (the anchor).

A bounded star is also *narrow* (``is_narrow``) when its subject is an IRI or one of its anchors is a string
literal (a code's notation, a label): such a star usually finds a handful of rows, while one anchored only
on an IRI object (every code of a type) may find thousands. The lean path keeps its lane
(kgapp.sparql.lane) for narrow stars only.

A star joins its patterns on one term, so every join is at most as large as the graph and every row
comes out as soon as it is found: the work is linear in the size of the graph plus the rows written, and
the row cap stops the rows. Anything the test is unsure of goes to a worker, where the time limit holds.
"""

from __future__ import annotations

from kgapp.sparql_text import Token, by_shape, tokens

_TERM = ("iri", "pname")


class _Cursor:
    def __init__(self, text: str):
        self.toks = [t for t in tokens(text)]
        self.i = 0

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else None

    def word(self) -> str | None:
        tok = self.peek()
        return tok.value.upper() if tok is not None and tok.kind == "name" else None

    def take(self) -> Token:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def punct(self, char: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "other" and tok.value == char:
            self.i += 1
            return True
        return False


def _constant(tok: Token | None) -> bool:
    return tok is not None and tok.kind in _TERM and not tok.value.startswith("_:")


def _object(cur: _Cursor) -> str | None:
    """One object term: None for a variable, else what anchors it ("iri", "boolean" or "string");
    raises ValueError on anything else."""
    tok = cur.peek()
    if tok is None:
        raise ValueError
    if tok.kind == "var" or _constant(tok):
        cur.take()
        return None if tok.kind == "var" else "iri"
    if tok.kind == "name" and tok.value in ("true", "false"):
        cur.take()
        return "boolean"
    if tok.kind != "string":
        raise ValueError
    cur.take()
    if cur.punct("@"):
        if cur.peek() is None or cur.take().kind != "name":
            raise ValueError
        while cur.punct("-"):
            if cur.peek() is None or cur.take().kind != "name":
                raise ValueError
    elif cur.punct("^"):
        if not cur.punct("^") or not _constant(cur.peek()):
            raise ValueError
        cur.take()
    return "string"


def _triples(cur: _Cursor) -> list[tuple[Token, Token, str | None]]:
    """The triple patterns of ``{ … }`` (the cursor on ``{``): (subject, predicate, object's anchor kind)."""
    if not cur.punct("{"):
        raise ValueError
    found: list[tuple[Token, Token, str | None]] = []
    while not cur.punct("}"):
        subject = cur.peek()
        if subject is None or not (subject.kind == "var" or _constant(subject)):
            raise ValueError
        cur.take()
        while True:
            verb = cur.peek()
            if verb is None or not (verb.kind == "var" or _constant(verb) or (verb.kind == "name" and verb.value == "a")):
                raise ValueError
            cur.take()
            while True:
                found.append((subject, verb, _object(cur)))
                if not cur.punct(","):
                    break
            if not cur.punct(";") or cur.peek() is None or cur.peek().value in (".", "}"):  # type: ignore[union-attr]
                break
        cur.punct(".")
    return found


def _star(patterns: list[tuple[Token, Token, str | None]]) -> str | None:
    """"narrow", "wide" or None (not a bounded star)."""
    if not patterns or len({s.value for s, _, _ in patterns}) != 1:
        return None
    if patterns[0][0].kind != "var":
        return "narrow"
    if any(p.kind == "var" for _, p, _ in patterns) or not any(anchor for _, _, anchor in patterns):
        return None
    return "narrow" if any(anchor == "string" for _, _, anchor in patterns) else "wide"


def is_bounded(text: str) -> bool:
    """Whether ``text`` is a query whose work is bounded by the graph's size (see the module's docstring)."""
    return star_kind(text) is not None


def is_narrow(text: str) -> bool:
    """Whether ``text`` is a bounded star that usually finds few rows (see the module's docstring)."""
    return star_kind(text) == "narrow"


@by_shape()
def star_kind(text: str) -> str | None:
    """"narrow" or "wide" for a bounded star (see the module's docstring), None for any other query."""
    cur = _Cursor(text)
    try:
        while cur.word() in ("BASE", "PREFIX"):
            cur.i += 2 if cur.take().value.upper() == "BASE" else 3
        form = cur.word()
        if form not in ("SELECT", "ASK", "CONSTRUCT"):
            return None
        cur.take()
        if form == "SELECT":
            if not cur.punct("*"):
                if cur.peek() is None or cur.peek().kind != "var":  # type: ignore[union-attr]
                    return None
                while cur.peek() is not None and cur.peek().kind == "var":  # type: ignore[union-attr]
                    cur.take()
        elif form == "CONSTRUCT" and cur.word() != "WHERE":
            _triples(cur)  # the template: any triples, it only shapes the output
        if cur.word() == "WHERE":
            cur.take()
        elif form == "CONSTRUCT" and cur.toks[cur.i - 1].value != "}":
            return None
        kind = _star(_triples(cur))
        if kind is None:
            return None
        if cur.word() == "LIMIT":
            cur.take()
            digits = 0
            while cur.peek() is not None and cur.peek().value.isdigit():  # type: ignore[union-attr]
                cur.take()
                digits += 1
            if not digits:
                return None
        return kind if cur.peek() is None else None
    except (ValueError, IndexError):
        return None
