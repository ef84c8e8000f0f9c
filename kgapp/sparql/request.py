"""Read a SPARQL 1.1 Protocol request (no Flask): the query, its dataset and format wishes, refused early when bad."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import unquote_to_bytes

import pyoxigraph as ox

from kgapp.errors import ProtocolError

# Request bodies (not response formats, which all live in kgapp.formats).
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"
FORM_BODY = "application/x-www-form-urlencoded"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"


class Params(Protocol):
    """A multi-dict of request parameters (werkzeug's MultiDict, without importing it)."""

    def __contains__(self, key: object, /) -> bool: ...

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class QueryRequest:
    text: str
    # None: the store's dataset; a tuple (maybe empty): exactly these graphs, as the protocol asked.
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    formats: tuple[str, ...] = field(default=())  # the format=, output=, results= values, in order
    # Relative IRIs in the query resolve against this (the endpoint's own URL), unless it says BASE.
    base_iri: str | None = None


# Parameters that name the answer's format: SPARQLWrapper sends all three with one value.
FORMAT_PARAMS = ("format", "output", "results")
NOT_UTF8 = "The query is not valid UTF-8"


def decode_utf8(data: bytes) -> str:
    """``data`` as UTF-8, or the one 400 every way of sending a query answers for invalid bytes."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(400, f"{NOT_UTF8}: byte 0x{data[e.start]:02x} at position {e.start}.") from None


class DecodedParams(dict[str, list[str]]):
    """Parameters decoded by ``check_urlencoded``: each name with its values in order (a ``Params``)."""

    def getlist(self, key: str) -> list[str]:
        return list(self.get(key, ()))


def check_urlencoded(raw: bytes) -> DecodedParams:
    """The parameters of a query string or form body, refused (400) if a percent-decoded name or value is
    not UTF-8 (werkzeug would keep ``%E9`` as those three characters and so silently run another query).
    Decoded once: werkzeug's own parse of the same bytes gives the same parameters."""
    params = DecodedParams()
    for part in raw.split(b"&"):
        if part:
            name, _, value = part.replace(b"+", b" ").partition(b"=")
            params.setdefault(decode_utf8(unquote_to_bytes(name)), []).append(decode_utf8(unquote_to_bytes(value)))
    return params


def parse_request(method: str, content_type: str | None, args: Params, form: Params, body: bytes,
                  max_length: int | None = None, base_iri: str | None = None) -> QueryRequest | None:
    """The query a protocol request carries, or None when it carries none (GET /sparql alone).

    ``args`` and ``form`` are multi-dicts (``getlist``) of the URL and the form body (already checked
    with ``check_urlencoded``). A query longer than ``max_length`` characters is refused (413) before
    anything parses it; ``base_iri`` is the base its relative IRIs resolve against.
    """
    if method not in ("GET", "HEAD", "POST"):
        raise ProtocolError(405, f"Method {method} not allowed; use GET or POST.", {"Allow": ALLOWED_METHODS})
    mimetype = (content_type or "").split(";")[0].strip().lower()
    if "update" in args or "update" in form or mimetype == UPDATE_BODY:
        raise ProtocolError(403, "This endpoint is read-only: SPARQL Update is not accepted.")
    formats = tuple(v for name in FORMAT_PARAMS for v in args.getlist(name) + form.getlist(name))
    queries, source = _queries(method, content_type or "", mimetype, args, form, body)
    if not queries:
        if method == "POST":
            raise ProtocolError(400, "Missing query: send query=… or a query as the body.")
        return None
    if len(queries) > 1:
        raise ProtocolError(400, "The query parameter is given more than once.")
    if max_length is not None and len(queries[0]) > max_length:
        raise ProtocolError(413, f"The query is {len(queries[0])} characters long; "
                                 f"this endpoint accepts at most {max_length}.")
    if not queries[0].strip():
        raise ProtocolError(400, "The query is empty.")
    defaults = source.getlist("default-graph-uri") + (args.getlist("default-graph-uri") if source is form else [])
    named = source.getlist("named-graph-uri") + (args.getlist("named-graph-uri") if source is form else [])
    for iri in defaults + named:
        _check_graph_iri(iri)
    dataset = bool(defaults or named)  # either parameter replaces the whole dataset (Protocol §2.1.4)
    return QueryRequest(queries[0], tuple(defaults) if dataset else None, tuple(named) if dataset else None,
                        formats, base_iri)


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return "utf-8"


def _decode_body(content_type: str, body: bytes) -> str:
    """A direct POST's query, decoded as its ``charset=`` declares (UTF-8 when it declares none)."""
    charset = _charset(content_type)
    try:
        codec = codecs.lookup(charset).name
    except LookupError:
        raise ProtocolError(415, f"Unknown charset {charset!r} in Content-Type; send the query as UTF-8.") from None
    if codec == "utf-8":
        return decode_utf8(body)
    try:
        return body.decode(codec)
    except LookupError:  # a codec that is not a text encoding (rot13, base64…)
        raise ProtocolError(415, f"charset {charset!r} is not a text encoding; send the query as UTF-8.") from None
    except UnicodeDecodeError as e:
        raise ProtocolError(400, f"The query is not valid {charset}: {e.reason} at position {e.start}.") from None


def _queries(method: str, content_type: str, mimetype: str, args: Params, form: Params, body: bytes
             ) -> tuple[list[str], Params]:
    """The query texts of a request and the multi-dict that carries its other parameters."""
    if method in ("GET", "HEAD"):
        return args.getlist("query"), args
    if mimetype == QUERY_BODY:
        if "query" in args:
            raise ProtocolError(400, "The query is given twice: in the URL and as the request body.")
        return [_decode_body(content_type, body)], args
    if mimetype == FORM_BODY:
        if "query" in args:
            raise ProtocolError(400, "A form POST carries the query in its body, not in the URL.")
        return form.getlist("query"), form
    raise ProtocolError(415, f"Unsupported POST content type {mimetype or '(none)'!r}; "
                             f"send {FORM_BODY} (query=…) or {QUERY_BODY}.")


def _check_graph_iri(iri: str) -> None:
    try:
        ox.NamedNode(iri)
    except ValueError as e:
        raise ProtocolError(400, f"Graph IRI {iri!r} is not an absolute IRI: {e}") from None


__all__ = ["ProtocolError", "QueryRequest", "parse_request", "check_urlencoded", "decode_utf8", "ALLOWED_METHODS",
           "FORM_BODY", "QUERY_BODY"]
