"""Read a SPARQL 1.1 Protocol request (no Flask): the query, its dataset and format wishes, refused early when bad."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

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
    formats: tuple[str, ...] = field(default=())  # the ?format= values, in order


def parse_request(method: str, content_type: str | None, args: Params, form: Params, body: bytes,
                  max_length: int | None = None) -> QueryRequest | None:
    """The query a protocol request carries, or None when it carries none (GET /sparql alone).

    ``args`` and ``form`` are multi-dicts (``getlist``) of the URL and the form body. A query longer
    than ``max_length`` characters is refused (413) before anything parses it.
    """
    if method not in ("GET", "HEAD", "POST"):
        raise ProtocolError(405, f"Method {method} not allowed; use GET or POST.", {"Allow": ALLOWED_METHODS})
    mimetype = (content_type or "").split(";")[0].strip().lower()
    if "update" in args or "update" in form or mimetype == UPDATE_BODY:
        raise ProtocolError(403, "This endpoint is read-only: SPARQL Update is not accepted.")
    formats = tuple(args.getlist("format")) + tuple(form.getlist("format"))
    queries, source = _queries(method, mimetype, args, form, body)
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
                        formats)


def _queries(method: str, mimetype: str, args: Params, form: Params, body: bytes) -> tuple[list[str], Params]:
    """The query texts of a request and the multi-dict that carries its other parameters."""
    if method in ("GET", "HEAD"):
        return args.getlist("query"), args
    if mimetype == QUERY_BODY:
        if "query" in args:
            raise ProtocolError(400, "The query is given twice: in the URL and as the request body.")
        try:
            return [body.decode("utf-8")], args
        except UnicodeDecodeError as e:
            raise ProtocolError(400, f"The query is not valid UTF-8: {e}") from None
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


__all__ = ["ProtocolError", "QueryRequest", "parse_request", "ALLOWED_METHODS", "FORM_BODY", "QUERY_BODY"]
