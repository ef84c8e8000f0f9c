"""Run a checked query and write its answer: the format the client may have, cut at the row cap.

Decisions the specifications leave open:
- ASK results are offered as JSON and XML only: SPARQL 1.1 CSV/TSV defines no boolean form, so
  ``format=csv`` for an ASK is answered 406 rather than with an ad-hoc body.
- When nothing in Accept fits the query form, the form's default format answers (JSON for SELECT/ASK,
  Turtle for CONSTRUCT/DESCRIBE, as Fuseki does) rather than 406: a client asking a CONSTRUCT for
  SPARQL results still gets a graph it can read. 406 is kept for a known ``format=`` that cannot serve.
- A CONSTRUCT/DESCRIBE graph is also offered as TriG and N-Quads (its triples in the default graph),
  after the triple formats, so a dataset-minded client is not refused a valid answer.
- ``format=`` may be repeated and may hold a name (json, turtle…) or a media type, as SPARQLWrapper
  sends both (with ``output=`` and ``results=`` too); the first value kgapp knows decides, ``json``/``xml``
  mean JSON-LD/RDF/XML for graphs, and values it does not know (``rdf+xml``) leave it to Accept.
- Relative IRIs in a query resolve against the endpoint's URL (the request's ``base_iri``), on every store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pyoxigraph as ox

from kgapp.errors import KgappError, ProtocolError
from kgapp.formats import (
    DATASET_FORMATS,
    FORMATS,
    GRAPH_FORMATS,
    RESULT_FORMATS,
    Format,
    best_format,
    by_name,
)
from kgapp.sparql.bounded import is_bounded
from kgapp.sparql.columnar import solutions_query
from kgapp.sparql.hashjoin import rewrite as hashed
from kgapp.sparql.request import QueryRequest
from kgapp.sparql.results import Written, write_result
from kgapp.sparql.topk import plan
from kgapp.sparql.topk import top_k as topk_answer
from kgapp.sparql_text import check_query
from kgapp.store.base import QueryResult, Store, memoised
from kgapp.store.columns import open_columns

_GRAPH_TWINS = {"json": "jsonld", "xml": "rdfxml", "jsonld": "json", "rdfxml": "xml"}


def run_query(store: Store, text: str, default_graphs: Sequence[str] | None = None,
              named_graphs: Sequence[str] | None = None, base_iri: str | None = None,
              planned: bool = False, row_cap: int | None = None) -> QueryResult:
    """Run one checked query: the single place every endpoint query passes (in a worker process, see
    kgapp.executor, which adds the time limit; the row cap is applied while writing, in ``answer``).
    ``planned``: where the store gains from it, answer what reads every solution from the build's columns
    (kgapp.sparql.columnar), hash wide joins (kgapp.sparql.hashjoin) and answer
    ORDER BY … LIMIT as a top-k (kgapp.sparql.topk); ``row_cap`` (the rows the answer is cut at) sizes the
    former."""
    check_query(text)

    def run(sparql: str) -> QueryResult:
        return store.query(sparql, default_graphs=None if default_graphs is None else list(default_graphs),
                           named_graphs=None if named_graphs is None else list(named_graphs), base_iri=base_iri)

    try:
        shape = None
        planned = planned and store.plans_in_caller
        # A bounded star (a lookup) has no aggregate, DISTINCT or ORDER BY: the columns and the top-k have
        # nothing to do for it, and asking them costs more than the lookup's own planning.
        star = planned and is_bounded(text)
        if planned and not star and default_graphs is None and named_graphs is None:
            columns = memoised(store, "columns", lambda: open_columns(store.folder, store.triple_count))
            values = solutions_query(text, columns, base_iri, row_cap) if columns is not None else None
            if values is not None:
                return run(values)
        if planned:  # a star of wide patterns (every code of a type, with its label) still gains from hashing
            text = hashed(text, store.manifest.get("stats"), row_cap) or text
            shape = None if star else plan(text)
        kept = topk_answer(run, shape) if shape is not None else None
        return kept if kept is not None else run(text)
    except KgappError:
        raise
    except SyntaxError as e:
        raise ProtocolError(400, f"Malformed query: {e}") from None
    except RuntimeError as e:  # e.g. a call to a function Oxigraph does not know
        raise ProtocolError(400, f"Query evaluation failed: {e}") from None


def offered(result: QueryResult) -> tuple[Format, ...]:
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
    """The format to answer in: the first known ``format=`` value (406 if it cannot serve), else content
    negotiation, else the first (default) choice."""
    for value in format_values:
        fmt = _named(value)
        if fmt is None:
            continue
        if fmt not in choices and fmt.name in _GRAPH_TWINS:
            fmt = by_name(_GRAPH_TWINS[fmt.name])
        if fmt in choices:
            return fmt
        raise ProtocolError(406, f"format={value} is not offered for {what}. {describe(choices)}")
    return best_format(accept, choices) or choices[0]


def describe(choices: tuple[Format, ...]) -> str:
    return ("Offered: " + ", ".join(f.media_type for f in choices)
            + " (or format=" + ", ".join(f.name for f in choices) + ").")


def result_kind(result: QueryResult) -> str:
    if isinstance(result, ox.QueryBoolean):
        return "an ASK result"
    return "a SELECT result" if isinstance(result, ox.QuerySolutions) else "a CONSTRUCT/DESCRIBE result"


def answer(store: Store, request: QueryRequest, accept: str | None, max_rows: int,
           cap_link: str | None = None, planned: bool = False,
           on_long: Callable[[], None] | None = None) -> tuple[Format, Written]:
    """Run ``request`` and write its result in the negotiated format, at most ``max_rows`` rows (a cut
    answer links to ``cap_link``, the page explaining the cap; ``planned`` as in ``run_query``; ``on_long``
    as in ``write_result``)."""
    result = run_query(store, request.text, request.default_graphs, request.named_graphs, request.base_iri,
                       planned, max_rows)
    fmt = choose_format(offered(result), accept, request.formats, result_kind(result))
    try:
        return fmt, write_result(result, fmt, max_rows, cap_link, on_long)  # lazy: evaluation errors surface here
    except KgappError:
        raise
    except RuntimeError as e:
        raise ProtocolError(400, f"Query evaluation failed: {e}") from None
