"""The queries kgapp.sparql.columnar evaluates, read from their text: a SELECT over one basic graph pattern
with COUNT, GROUP BY, DISTINCT, ORDER BY, LIMIT and OFFSET; anything else is left to Oxigraph (None).

The shape taken: a prologue of PREFIX/BASE, ``SELECT [DISTINCT] (?v | (COUNT([DISTINCT] ?v|*) AS ?n))+``,
``[WHERE] { triple patterns }`` of variables and absolute IRIs (``a`` as predicate), with plain strings and
unsigned integers as objects (``;`` and ``,`` lists allowed), all connected by shared variables, then
``GROUP BY ?v+``, ``ORDER BY (?v | ASC(?v) | DESC(?v))+``, ``LIMIT``/``OFFSET``, reading every solution (an
aggregate, DISTINCT or ORDER BY: Oxigraph streams the others, and stops at their LIMIT). Whatever SPARQL would
refuse or answer with unbound values (a projected variable the pattern does not bind, a plain variable
beside an aggregate without being grouped) is left to Oxigraph, so its answer and its errors stay its own.
"""

from __future__ import annotations

from kgapp.sparql.columnar_plan import Count, Node, Plan, acceptable
from kgapp.sparql.hashjoin import RDF_TYPE
from kgapp.sparql.topk import limit_offset
from kgapp.sparql_text import (
    Token,
    by_shape,
    expand,
    is_absolute,
    prologue,
    query_form,
    resolve,
    tokens,
    word,
)
from kgapp.store.term_text import KIND_INTEGER, KIND_IRI, KIND_STRING, unescaped

_READS_ALL = frozenset({"ORDER", "GROUP", "DISTINCT", "COUNT"})

class _Unsupported(Exception):
    """The query has another shape: Oxigraph answers it."""


@by_shape(none_only=True)
def read_plan(text: str, base_iri: str | None = None) -> Plan | None:
    """The plan of ``text`` when it has the shape above, else None."""
    if query_form(text) != "SELECT":
        return None
    toks = tokens(text)
    if not any(tok.kind == "name" and tok.value.upper() in _READS_ALL for tok in toks):
        return None  # the common case (a lookup), told without reading the prologue
    try:
        return _Reader(toks, base_iri or "").plan()
    except (_Unsupported, IndexError):
        return None


class _Reader:
    def __init__(self, toks: tuple[Token, ...], base: str):
        self.toks = toks
        self.i = next(i for i, t in enumerate(toks) if word(t) == "SELECT")
        self.base, self.prefixes = prologue(toks[:self.i], base)

    def peek(self) -> Token:
        return self.toks[self.i]

    def take(self, value: str | None = None) -> Token:
        tok = self.toks[self.i]
        if value is not None and (word(tok) or tok.value) != value:
            raise _Unsupported
        self.i += 1
        return tok

    def at(self, value: str) -> bool:
        return self.i < len(self.toks) and (word(self.peek()) or self.peek().value) == value

    def plan(self) -> Plan:
        self.take("SELECT")
        distinct = self.at("DISTINCT") and bool(self.take())
        select = self._select()
        if self.at("WHERE"):
            self.take()
        patterns = self._group()
        group_by: tuple[str, ...] | None = None
        if self.at("GROUP"):
            self.take(), self.take("BY")
            group_by = (self._var(),)
            while self.i < len(self.toks) and self.peek().kind == "var":
                group_by += (self._var(),)
        order: list[tuple[str, bool]] = []
        if self.at("ORDER"):
            self.take(), self.take("BY")
            while self.i < len(self.toks) and (self.peek().kind == "var" or word(self.peek()) in ("ASC", "DESC")):
                if self.peek().kind == "var":
                    order.append((self._var(), False))
                else:
                    desc = word(self.take()) == "DESC"
                    self.take("(")
                    order.append((self._var(), desc))
                    self.take(")")
            if not order:
                raise _Unsupported
        limit, offset = limit_offset(list(self.toks[self.i:])) if self.i < len(self.toks) else (None, 0)
        if self.i < len(self.toks) and limit is None and not _only_offset(self.toks[self.i:]):
            raise _Unsupported
        plan = Plan(tuple(patterns), tuple(select), distinct, group_by, tuple(order), limit, offset)
        if not acceptable(plan):
            raise _Unsupported
        return plan

    def _var(self) -> str:
        tok = self.take()
        if tok.kind != "var":
            raise _Unsupported
        return tok.value[1:]

    def _select(self) -> list[str | Count]:
        items: list[str | Count] = []
        while not (self.at("WHERE") or self.at("{")):
            if self.peek().kind == "var":
                items.append(self._var())
                continue
            self.take("("), self.take("COUNT"), self.take("(")
            distinct = self.at("DISTINCT") and bool(self.take())
            of = None if self.at("*") and self.take() else self._var()
            self.take(")"), self.take("AS")
            items.append(Count(self._var(), of, distinct))
            self.take(")")
        if not items:
            raise _Unsupported
        return items

    def _group(self) -> list[tuple[Node, Node, Node]]:
        self.take("{")
        patterns: list[tuple[Node, Node, Node]] = []
        while not self.at("}"):
            subject = self._node()
            while True:
                predicate = self._predicate()
                patterns.append((subject, predicate, self._node(literal=True)))
                while self.at(","):
                    self.take()
                    patterns.append((subject, predicate, self._node(literal=True)))
                if not self.at(";"):
                    break
                while self.at(";"):
                    self.take()
                if self.at(".") or self.at("}"):
                    break
            if self.at("."):
                self.take()
        self.take("}")
        if not patterns:
            raise _Unsupported
        return patterns

    def _iri(self, tok: Token) -> str:
        if tok.kind == "iri":
            iri = resolve(self.base, tok.value[1:-1])
        elif tok.kind == "pname" and "%" not in tok.value:
            iri = expand(tok.value, self.prefixes) or ""
        else:
            raise _Unsupported
        if "\\" in iri or not is_absolute(iri):
            raise _Unsupported
        return iri

    def _node(self, literal: bool = False) -> Node:
        tok = self.take()
        if tok.kind == "var":
            return ("var", tok.value[1:])
        if literal and tok.kind == "string":
            return KIND_STRING, self._string(tok)
        if literal and tok.value.isdigit():
            return KIND_INTEGER, self._integer(tok)
        return KIND_IRI, self._iri(tok)

    def _string(self, tok: Token) -> str:
        """A plain string's text; a language tag or a datatype after it is left to Oxigraph."""
        if self.i < len(self.toks) and self.peek().value in ("@", "^"):
            raise _Unsupported
        quotes = 3 if tok.value[:3] in ('"""', "'''") else 1
        return unescaped(tok.value[quotes:-quotes])

    def _integer(self, tok: Token) -> int:
        """An unsigned integer (the lexer gives it digit by digit); a decimal or a double is left to Oxigraph."""
        digits, end = tok.value, tok.offset + 1
        while self.i < len(self.toks) and self.peek().offset == end and self.peek().value.isdigit():
            digits, end = digits + self.take().value, end + 1
        if self.i < len(self.toks) and self.peek().offset == end and self.peek().kind in ("other", "name"):
            nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
            if self.peek().value != "." or (nxt is not None and nxt.offset == end + 1 and nxt.value[0].isdigit()):
                raise _Unsupported  # 1.5, 1e3
        return int(digits)

    def _predicate(self) -> Node:
        tok = self.take()
        if tok.kind == "name" and tok.value == "a":
            return KIND_IRI, RDF_TYPE
        return ("var", tok.value[1:]) if tok.kind == "var" else (KIND_IRI, self._iri(tok))


def _only_offset(rest: tuple[Token, ...]) -> bool:
    return bool(rest) and word(rest[0]) == "OFFSET" and all(t.value.isdigit() for t in rest[1:]) and len(rest) > 1
