"""Just enough SPARQL lexing to judge a query before running it: its form, updates, SERVICE clauses, its prologue
and prefixed names, and whether its patterns are joined."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, wraps
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urljoin

from kgapp.errors import ProtocolError

QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
UPDATE_FORMS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"})

# Strings, IRIs and comments are matched whole so that a keyword inside them is never seen as one.
# Prefixed names come before bare names so that `ex:SERVICE` or `service:x` are names, not keywords;
# a local name may hold dots but not end with one, as in the SPARQL grammar (`?o.SERVICE` is a keyword).
_COMMENT = r"\#[^\n]*"
_STRING = (r"""'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\""""
           r"""|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*\"""")
_IRI = r"""<[^<>"{}|^`\\\x00-\x20]*>"""
_TOKEN = re.compile(rf"(?P<ws>\s+)|(?P<comment>{_COMMENT})|(?P<string>{_STRING})|(?P<iri>{_IRI})|(?P<var>[?$]\w+)"
                    r"|(?P<pname>(?:[^\W\d][\w\-]*(?:\.[\w\-]+)*)?:(?:[\w:%\-]|\\.|%[0-9A-Fa-f]{2}|\.(?=[\w:%\-.\\]))*)"
                    r"|(?P<name>[^\W\d]\w*)|(?P<other>.)", re.DOTALL)
# The lexer's comments, strings and IRIs alone: in a text without a backslash they are found exactly where
# the lexer finds them, as no other token can hold a quote, a # or a <.
_MASKED = re.compile(rf"(?P<comment>{_COMMENT})|(?P<string>{_STRING})|(?P<iri>{_IRI})", re.DOTALL)
F = TypeVar("F", bound=Callable[..., Any])


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


class Token(NamedTuple):  # a tuple: built for every token of every query, twice as fast as a dataclass
    kind: str  # string, iri, var, pname, name, other
    value: str
    offset: int


def tokens(text: str) -> tuple[Token, ...]:
    """The significant tokens of ``text`` (whitespace and comments dropped), lexed once per text."""
    if len(text) <= _CACHED_LENGTH:
        return _lexed(text)
    return tuple(Token(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(text)  # type: ignore[arg-type]
                 if m.lastgroup not in ("ws", "comment"))


_CACHED_LENGTH = 8192  # a request's query is judged several times (form, updates, SERVICE, bounded): lex it once


@lru_cache(maxsize=64)
def _lexed(text: str) -> tuple[Token, ...]:
    return tuple(Token(m.lastgroup, m.group(), m.start()) for m in _TOKEN.finditer(text)  # type: ignore[arg-type]
                 if m.lastgroup not in ("ws", "comment"))


@lru_cache(maxsize=64)  # a request's query is judged several times: its shape is made once
def shape(text: str) -> str | None:
    """``text`` with every string literal written ``"s"``, or None when that is unsafe (a backslash, where
    an escape could hide a quote) or not worth it (a long text). Texts with the same shape lex to the same
    tokens but for their strings' values, so what kgapp judges of a query's structure (its form, whether it
    is bounded, whether a rewrite applies) holds for every text of a shape: a client that sends one query
    with different values is judged once."""
    if "\\" in text or len(text) > _CACHED_LENGTH:
        return None
    if '"' not in text and "'" not in text:
        return text
    return _MASKED.sub(_masked, text)


def _masked(m: re.Match[str]) -> str:
    return '"s"' if m.lastgroup == "string" else m.group()


def by_shape(none_only: bool = False, size: int = 512) -> Callable[[F], F]:
    """Remember a judgement of a query's structure per shape (see ``shape``) and the other arguments (a
    mapping among them by identity). ``none_only``: the function answers None, or something built from the
    text itself; only the None answers are remembered."""
    def wrap(judge: F) -> F:
        memo: dict[Any, tuple[Any, tuple[Any, ...]]] = {}

        @wraps(judge)
        def judged(text: str, *args: Any, **kwargs: Any) -> Any:
            key = shape(text)
            if key is None:
                return judge(text, *args, **kwargs)
            given = (*args, *(kwargs[name] for name in sorted(kwargs))) if args or kwargs else ()
            full = (key, *sorted(kwargs), *(id(a) if isinstance(a, Mapping) else a for a in given)) if given else key
            seen = memo.get(full)
            if seen is not None and (not given or all(x is y for x, y in zip(seen[1], given, strict=True)
                                                      if isinstance(y, Mapping))):
                return seen[0]
            answer = judge(text, *args, **kwargs)
            if answer is None or not none_only:
                if len(memo) >= size:
                    memo.clear()
                memo[full] = (answer, given)  # the mappings are held, so their ids are not reused meanwhile
            return answer
        return judged  # type: ignore[return-value]
    return wrap


def word(tok: Token) -> str | None:
    """A bare name upper-cased (keywords are case-insensitive), or None for any other token."""
    return tok.value.upper() if tok.kind == "name" else None


def resolve(base: str, ref: str) -> str:
    """``ref`` resolved against ``base``, keeping an empty fragment (``…/core#``), which urljoin drops."""
    if not base or is_absolute(ref) and "/." not in ref:
        return ref  # already absolute, with no dot segment to remove
    joined = urljoin(base, ref)
    return joined + "#" if ref.endswith("#") and not joined.endswith("#") else joined


def is_absolute(iri: str) -> bool:
    """Whether ``iri`` starts with a scheme (``http:``, ``urn:``…)."""
    return _SCHEME.match(iri) is not None


def expand(pname: str, prefixes: Mapping[str, str]) -> str | None:
    """The IRI of a prefixed name (``skos:notation``), or None for an undeclared prefix or an escaped local
    name (``ex:a\\.b``, left to the query engine)."""
    prefix, _, local = pname.partition(":")
    namespace = prefixes.get(prefix)
    return namespace + local if namespace is not None and "\\" not in local else None


def connected(variables: Sequence[set[str]]) -> bool:
    """Whether patterns with these variables are all joined through shared ones (one pattern always is); a
    pattern without a variable joins nothing, so any such beside others makes a cross product."""
    if len(variables) < 2:
        return True
    if not all(variables):
        return False
    reached, rest = set(variables[0]), list(variables[1:])
    while rest:
        joined = [names for names in rest if names & reached]
        if not joined:
            return False
        for names in joined:
            reached |= names
        rest = [names for names in rest if not names & reached]
    return True


def prologue(toks: Sequence[Token], base: str = "", prefixes: Mapping[str, str] | None = None
             ) -> tuple[str, dict[str, str]]:
    """The base IRI and the prefixes (name without its colon → namespace) after a query's BASE and PREFIX
    declarations, each IRI resolved against the base declared before it; starting from ``base`` and
    ``prefixes``."""
    declared = dict(prefixes or {})
    for i, tok in enumerate(toks):
        keyword = word(tok)
        if keyword == "BASE" and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            base = resolve(base, toks[i + 1].value[1:-1])
        elif keyword == "PREFIX" and i + 2 < len(toks) and toks[i + 2].kind == "iri":
            declared[toks[i + 1].value.rstrip(":")] = resolve(base, toks[i + 2].value[1:-1])
    return base, declared


@by_shape()
def query_form(text: str) -> str | None:
    """The first keyword after the prologue, upper-cased (SELECT, ASK, INSERT, LOAD…), or None."""
    expect_iri = expect_pname = False
    for tok in tokens(text):
        if expect_pname:  # PREFIX ex: <…>
            expect_pname, expect_iri = False, True
            continue
        if expect_iri:
            expect_iri = False
            continue
        keyword = word(tok)
        if keyword == "BASE":
            expect_iri = True
        elif keyword == "PREFIX":
            expect_pname = True
        elif keyword in QUERY_FORMS or keyword in UPDATE_FORMS:
            return keyword
        else:
            return None
    return None


def is_update(text: str) -> bool:
    """Whether ``text`` is a SPARQL Update request rather than a query."""
    return query_form(text) in UPDATE_FORMS


def service_position(text: str) -> tuple[int, int] | None:
    """(line, column) of the first SERVICE keyword, or None: federated calls would fetch from the network."""
    if "service" not in text.lower():  # the keyword cannot be there: spare the pass over the tokens
        return None
    for tok in tokens(text):
        if tok.kind == "name" and tok.value.upper() == "SERVICE":
            return line_column(text, tok.offset)
    return None


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``, as parser messages give them."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def check_query(text: str) -> None:
    """Refuse updates (403) and federated SERVICE calls (400) before anything runs."""
    if is_update(text):
        raise ProtocolError(403, "This endpoint is read-only: SPARQL Update operations are not accepted.")
    position = service_position(text)
    if position:
        raise ProtocolError(400, "error at {}:{}: SERVICE (federated query) is not supported by this "
                                 "endpoint; it never fetches from the network.".format(*position))
