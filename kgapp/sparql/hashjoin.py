"""A SELECT whose WHERE is one basic graph pattern over wide patterns, rewritten so Oxigraph hash-joins it.

Oxigraph joins the triple patterns of a basic graph pattern one solution at a time: for every
solution of the first pattern it looks the next one up in its indexes (~7-10 µs a lookup on disk).
That is right when one pattern is selective and wrong when all of them are wide: listing every code
with its notation and label does 22,000 lookups at 11,000 codes (230 ms). A pattern wrapped in its own
``{ SELECT * WHERE { … } }`` is evaluated on its own and joined by hashing (~0.5 µs a row: 18 ms).

The rewrite is taken only when the build's statistics (kgapp.store.stats, in the manifest) say every
pattern is wide: the narrowest pattern's rows times the lookups a loop join would do after it cost
more than hashing every pattern's rows (``LOOP_OVER_HASH``). A pattern with a constant subject, a
constant object other than a class, a literal, a blank node or a path counts as narrow or is not
recognised, and the query runs as written, as does a pattern sharing no variable with the others (a
cross product, which the loop join streams and a hash join would build in memory); so does a LIMIT that nothing needs every solution for (no
ORDER BY, GROUP BY or aggregate), which a loop join reaches after a few lookups. For the same reason
the row cap bounds a loop join's cost when nothing reads every solution. The WHERE group must hold
triple patterns and FILTERs only; FILTERs stay in the same group, so they see the same solutions. The
answers are the same: a group's triple patterns are joined either way, and ``SELECT *`` projects every
variable of its pattern.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kgapp.namespaces import RDF
from kgapp.sparql_text import Token, by_shape, connected, expand, prologue, query_form, tokens, word

RDF_TYPE = str(RDF.type)
LOOP_OVER_HASH = 15  # one index lookup of a loop join costs about this many hashed rows (measured at 945k triples)
NARROW = 1  # rows assumed for a pattern the statistics cannot size (a constant subject or object)

AGGREGATES = ("COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT")

Pattern = tuple[Token, Token, Token]


@by_shape(none_only=True)
def rewrite(text: str, stats: Mapping[str, Any] | None, row_cap: int | None = None) -> str | None:
    """``text`` with each triple pattern of its WHERE group in a sub-SELECT, or None to run it as written.

    ``row_cap``: the rows the answer will be cut at; a loop join that nothing makes read every solution (no
    ORDER BY, GROUP BY or aggregate) stops there, so its cost counts at most that many driving rows.
    """
    if not stats or query_form(text) != "SELECT":
        return None
    toks = list(tokens(text))
    group = _where_group(toks)
    if group is None:
        return None
    start, end = group
    words = {word(t) for t in toks[:start] + toks[end + 1:]}
    reads_all = bool(words & {"ORDER", "GROUP", "HAVING", *AGGREGATES})
    if "LIMIT" in words and not reads_all:
        return None  # a LIMIT the loop join reaches after a few rows
    parsed = _patterns(toks[start + 1:end])
    if parsed is None:
        return None
    patterns, filters = parsed
    # a hash join on no shared variable is a cross product built in memory, which the loop join streams
    if len(patterns) < 2 or not connected([{t.value for t in p if t.kind == "var"} for p in patterns]):
        return None
    prefixes = prologue(toks[:start])[1]
    rows = [_rows(p, prefixes, stats) for p in patterns]
    driving = min(rows) if reads_all or row_cap is None else min(min(rows), row_cap)
    if driving * (len(rows) - 1) * LOOP_OVER_HASH <= sum(rows):
        return None
    parts = [f"{{ SELECT * WHERE {{ {s.value} {p.value} {o.value} }} }}" for s, p, o in patterns]
    parts += [text[first.offset:last.offset + len(last.value)] for first, last in filters]
    return text[:toks[start].offset] + "{ " + " ".join(parts) + " }" + text[toks[end].offset + 1:]


def _where_group(toks: list[Token]) -> tuple[int, int] | None:
    """Indexes of the WHERE group's braces: the first ``{`` outside parentheses and its match."""
    depth = 0
    for i, tok in enumerate(toks):
        if tok.value == "(" and tok.kind == "other":
            depth += 1
        elif tok.value == ")" and tok.kind == "other":
            depth -= 1
        elif tok.value == "{" and tok.kind == "other":
            if depth:
                return None
            for j in range(i + 1, len(toks)):
                if toks[j].kind == "other" and toks[j].value in ("{", "}"):
                    return (i, j) if toks[j].value == "}" else None  # a nested group: not one plain BGP
            return None
    return None


def _term(tok: Token, predicate: bool = False) -> bool:
    if tok.kind in ("var", "iri"):
        return True
    if tok.kind == "pname":
        return not tok.value.startswith("_:")  # a blank node is scoped to its BGP: keep the BGP whole
    return predicate and tok.kind == "name" and tok.value == "a"


def _patterns(body: list[Token]) -> tuple[list[Pattern], list[tuple[Token, Token]]] | None:
    """The triple patterns and FILTERs (first and last token) of a group body, or None if it holds more."""
    patterns: list[Pattern] = []
    filters: list[tuple[Token, Token]] = []
    i = 0
    while i < len(body):
        tok = body[i]
        if word(tok) == "FILTER":
            close = _filter_end(body, i + 1)
            if close is None:
                return None
            filters.append((tok, body[close]))
            i = close + 1
            continue
        if not _term(tok):
            return None
        subject, i = tok, i + 1
        while True:  # a predicate-object list: p o (, o)* (; p o (, o)*)* with an optional last ';'
            if i + 1 >= len(body) or not _term(body[i], predicate=True) or not _term(body[i + 1]):
                return None
            predicate = body[i]
            patterns.append((subject, predicate, body[i + 1]))
            i += 2
            while i < len(body) and body[i].value == ",":
                if i + 1 >= len(body) or not _term(body[i + 1]):
                    return None
                patterns.append((subject, predicate, body[i + 1]))
                i += 2
            if i >= len(body) or body[i].value != ";":
                break
            while i < len(body) and body[i].value == ";":
                i += 1
            if i >= len(body) or not _term(body[i], predicate=True):
                break
        if i < len(body) and body[i].value == ".":
            i += 1
        elif i < len(body) and word(body[i]) != "FILTER":
            return None
    return patterns, filters


def _filter_end(body: list[Token], i: int) -> int | None:
    """Index of the ``)`` closing a FILTER's condition (``(…)`` or a call such as ``isIRI(…)``)."""
    if i < len(body) and body[i].kind in ("name", "pname", "iri") and body[i].value.upper() != "EXISTS":
        i += 1  # FILTER isIRI(?x), FILTER regex(…), FILTER <fn>(…)
    if i >= len(body) or body[i].value != "(":
        return None
    depth = 0
    for j in range(i, len(body)):
        if body[j].kind == "other" and body[j].value in ("{", "}"):
            return None  # EXISTS { … }: a group inside; run as written
        if body[j].kind == "other" and body[j].value == "(":
            depth += 1
        elif body[j].kind == "other" and body[j].value == ")":
            depth -= 1
            if depth == 0:
                return j
    return None


def _iri(tok: Token, prefixes: Mapping[str, str]) -> str | None:
    if tok.kind == "iri":
        return tok.value[1:-1] if ":" in tok.value else None  # a relative IRI: the statistics cannot size it
    if tok.kind == "name" and tok.value == "a":
        return RDF_TYPE
    return expand(tok.value, prefixes) if tok.kind == "pname" else None


def _rows(pattern: Pattern, prefixes: Mapping[str, str], stats: Mapping[str, Any]) -> int:
    """The rows ``pattern`` matches, from the statistics, or NARROW where they cannot tell."""
    subject, predicate, obj = pattern
    if subject.kind != "var":
        return NARROW
    if predicate.kind == "var":
        return int(stats.get("triples", NARROW)) if obj.kind == "var" else NARROW
    p = _iri(predicate, prefixes)
    if p is None:
        return NARROW
    if obj.kind == "var":
        return int(stats.get("properties", {}).get(p, NARROW))
    c = _iri(obj, prefixes) if p == RDF_TYPE else None
    return int(stats.get("classes", {}).get(c, NARROW)) if c is not None else NARROW
