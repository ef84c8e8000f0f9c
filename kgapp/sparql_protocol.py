"""The SPARQL 1.1 Protocol without Flask: read a request, refuse what a read-only endpoint must, run, serialise.

Decisions the specifications leave open:
- ASK results are offered as JSON and XML only: SPARQL 1.1 CSV/TSV defines no boolean form, so
  ``Accept: text/csv`` for an ASK is answered 406 rather than with an ad-hoc body.
- A CONSTRUCT/DESCRIBE graph is also offered as TriG and N-Quads (its triples in the default graph),
  after the triple formats, so a dataset-minded client is not refused a valid answer.
- ``format=`` may be repeated and may hold a name (json, turtle…) or a media type, as SPARQLWrapper
  sends both; the first value kgapp knows decides, and ``json``/``xml`` mean JSON-LD/RDF/XML for graphs.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from .formats import FORMATS, GRAPH_FORMATS, DATASET_FORMATS, RESULT_FORMATS, Format, best_format, by_name
from .namespaces import PREFIXES
from .results import Written, write_result
from .sparql_text import is_update, service_position

# Request bodies (not response formats, which all live in kgapp.formats).
QUERY_BODY = "application/sparql-query"
UPDATE_BODY = "application/sparql-update"
FORM_BODY = "application/x-www-form-urlencoded"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
_GRAPH_TWINS = {"json": "jsonld", "xml": "rdfxml", "jsonld": "json", "rdfxml": "xml"}


class ProtocolError(Exception):
    """A request the endpoint answers with an error status and a plain-text message."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True)
class QueryRequest:
    text: str
    # None: the store's dataset; a tuple (maybe empty): exactly these graphs, as the protocol asked.
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    formats: tuple[str, ...] = field(default=())  # the ?format= values, in order


def parse_request(method: str, content_type: str | None, args, form, body: bytes,
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


def _queries(method: str, mimetype: str, args, form, body: bytes) -> tuple[list[str], object]:
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


def check_query(text: str) -> None:
    """Refuse updates (403) and federated SERVICE calls (400) before anything runs."""
    if is_update(text):
        raise ProtocolError(403, "This endpoint is read-only: SPARQL Update operations are not accepted.")
    position = service_position(text)
    if position:
        raise ProtocolError(400, "error at {}:{}: SERVICE (federated query) is not supported by this "
                                 "endpoint; it never fetches from the network.".format(*position))


def run_query(store, text: str, default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None):
    """Run one checked query: the single place every endpoint query passes (in a worker process, see
    kgapp.executor, which adds the time limit; the row cap is applied while writing, in ``answer``)."""
    check_query(text)
    try:
        return store.query(text, default_graphs=None if default_graphs is None else list(default_graphs),
                           named_graphs=None if named_graphs is None else list(named_graphs))
    except SyntaxError as e:
        raise ProtocolError(400, f"Malformed query: {e}") from None
    except RuntimeError as e:  # e.g. a call to a function Oxigraph does not know
        raise ProtocolError(400, f"Query evaluation failed: {e}") from None


def offered(result) -> tuple[Format, ...]:
    """The formats a result can be written in, the server's preference first."""
    if isinstance(result, ox.QueryBoolean):
        return tuple(f for f in RESULT_FORMATS if f.name in ("json", "xml"))
    if isinstance(result, ox.QuerySolutions):
        return RESULT_FORMATS
    return GRAPH_FORMATS + DATASET_FORMATS


def _named(value: str) -> Format | None:
    return by_name(value) or next((f for f in FORMATS if value.strip().lower() in (f.media_type,) + f.aliases),
                                  None)


def choose_format(choices: tuple[Format, ...], accept: str | None, format_values: Sequence[str] = (),
                  what: str = "this result") -> Format:
    """The format to answer in: the first known ``format=`` value, else content negotiation; 406 if none."""
    for value in format_values:
        fmt = _named(value)
        if fmt is None:
            continue
        if fmt not in choices and fmt.name in _GRAPH_TWINS:
            fmt = by_name(_GRAPH_TWINS[fmt.name])
        if fmt in choices:
            return fmt
        raise ProtocolError(406, f"format={value} is not offered for {what}. {describe(choices)}")
    if format_values:
        raise ProtocolError(406, f"Unknown format={format_values[0]}. {describe(choices)}")
    fmt = best_format(accept, choices)
    if fmt is None:
        raise ProtocolError(406, f"None of the media types in Accept: {accept} is offered for {what}. "
                                 f"{describe(choices)}")
    return fmt


def describe(choices: tuple[Format, ...]) -> str:
    return ("Offered: " + ", ".join(f.media_type for f in choices)
            + " (or format=" + ", ".join(f.name for f in choices) + ").")


def result_kind(result) -> str:
    if isinstance(result, ox.QueryBoolean):
        return "an ASK result"
    return "a SELECT result" if isinstance(result, ox.QuerySolutions) else "a CONSTRUCT/DESCRIBE result"


def serialize_triples(triples, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    extra = {"prefixes": PREFIXES} if fmt.name in ("turtle", "trig") else {}
    ox.serialize(triples, buffer, fmt.ox_rdf, **extra)
    return buffer.getvalue()


def answer(store, request: QueryRequest, accept: str | None, max_rows: int) -> tuple[Format, Written]:
    """Run ``request`` and write its result in the negotiated format, at most ``max_rows`` rows."""
    result = run_query(store, request.text, request.default_graphs, request.named_graphs)
    fmt = choose_format(offered(result), accept, request.formats, result_kind(result))
    try:
        return fmt, write_result(result, fmt, max_rows)  # lazy results: evaluation errors surface here
    except RuntimeError as e:
        raise ProtocolError(400, f"Query evaluation failed: {e}") from None
