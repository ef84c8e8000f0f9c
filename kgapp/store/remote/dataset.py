"""What a query must pass before kgapp forwards it to a SPARQL server, and its FROM clauses as protocol parameters."""

from __future__ import annotations

import re

import pyoxigraph as ox

from kgapp.errors import ProtocolError
from kgapp.sparql_text import check_query, prologue, resolve, tokens, word

# An empty in-memory store parses queries exactly as the embedded store does: same errors, same answer
# to "is this a graph or a table" (evaluation is lazy, so nothing runs except an ASK over no data).
_PARSER = ox.Store()
# Server-side function namespaces (Virtuoso's bif: and sql:, hosted java:/clr:) reach files, SQL and
# the network; standard SPARQL has no such calls, so kgapp does not forward them.
_EXTENSION = re.compile(r"<\s*(bif|sql|java|clr)\s*:", re.IGNORECASE)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescaped(text: str) -> str:
    # SPARQL decodes \u escapes before parsing, so <\u0062if:…> is <bif:…> to the server.
    return _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def check_forwardable(text: str, base_iri: str | None = None, prefixes: dict[str, str] | None = None) -> bool:
    """Refuse what a read-only, no-outbound endpoint must (403/400); True for CONSTRUCT/DESCRIBE."""
    check_query(text)  # updates and SERVICE, whoever the caller is
    found = _EXTENSION.search(_unescaped(text))
    if found:
        raise ProtocolError(400, f"<{found.group(1).lower()}:…> functions are server extensions, not SPARQL 1.1; "
                                 "this endpoint does not forward them.")
    result = _PARSER.query(text, base_iri=base_iri, prefixes=prefixes)  # raises SyntaxError like the embedded store
    return not isinstance(result, (ox.QuerySolutions, ox.QueryBoolean))


def split_dataset(text: str, base_iri: str | None = None, prefixes: dict[str, str] | None = None
                  ) -> tuple[str, list[str] | None, list[str] | None]:
    """``text`` without its FROM / FROM NAMED clauses, and the graphs they named (None, None if there are none)."""
    spans: list[tuple[int, int]] = []
    defaults: list[str] = []
    named: list[str] = []
    toks = tokens(text)
    base, declared = prologue(toks, base_iri or "", prefixes)  # FROM comes after the prologue
    i = 0
    while i < len(toks):
        if word(toks[i]) == "FROM":
            is_named = i + 1 < len(toks) and word(toks[i + 1]) == "NAMED"
            j = i + 2 if is_named else i + 1
            if j >= len(toks):
                break  # the parser has already accepted the query, so this cannot happen
            (named if is_named else defaults).append(_resolve(toks[j].value, declared, base))
            spans.append((toks[i].offset, toks[j].offset + len(toks[j].value)))
            i = j + 1
        else:
            i += 1
    if not spans:
        return text, None, None
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        last = end
    out.append(text[last:])
    return "".join(out), defaults, named


def _resolve(token: str, declared: dict[str, str], base: str) -> str:
    if token.startswith("<"):
        return resolve(base, token[1:-1])
    prefix, _, local = token.partition(":")
    return declared.get(prefix, "") + re.sub(r"\\(.)", r"\1", local)
