"""The /compare surface: codes side by side as a page, CSV or JSON (by Accept or format=), and per-graph downloads."""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, request

from kgapp.formats import BY_EXTENSION, BY_NAME, GRAPH_FORMATS, best_format
from kgapp.read.compare import MAX_CODES, as_csv, as_json, compare, presets
from kgapp.read.labels import valid_iri
from kgapp.web.context import get_store
from kgapp.web.negotiate import not_found, page, rdf_response
from kgapp.web.pages import page_url

bp = Blueprint("compare", __name__)
_OFFERED = (BY_NAME["html"], BY_NAME["json"], BY_NAME["csv"])


def _format() -> str:
    asked = request.args.get("format", "").lower()
    if asked in ("html", "json", "csv"):
        return asked
    fmt = best_format(request.headers.get("Accept"), _OFFERED)
    return fmt.name if fmt is not None else "html"


@bp.route("/compare")
def compare_codes():
    store = get_store()
    notations = request.args.getlist("code")
    notations = [n for value in notations for n in value.replace(",", " ").split()][:MAX_CODES * 2]
    c = compare(store, notations)
    fmt = _format()
    status = 200 if c.summaries else 404 if notations else 200
    if fmt == "json":
        response = jsonify(as_json(c, page_url))
        response.status_code = status
    elif fmt == "csv":
        response = Response(as_csv(c), status=status, content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'inline; filename="compare.csv"'
    else:
        response = Response(*page("compare.html", status, c=c, presets=presets(store), asked=notations,
                                  max_codes=MAX_CODES))
    response.headers["Vary"] = "Accept"
    return response


@bp.route("/graph.<ext>")
def graph_download(ext: str):
    """The statements of one named graph (``?iri=…``), as a download in an RDF format."""
    iri = request.args.get("iri", "")
    fmt = BY_EXTENSION.get(ext.lower())
    store = get_store()
    if fmt is None or fmt not in GRAPH_FORMATS or not valid_iri(iri) or iri not in store.named_graphs():
        return not_found("There is no named graph of that name, or no download in that format.")
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in store.quads(iri))
    name = iri.rstrip("/").rsplit("/", 1)[-1] or "graph"
    response = rdf_response(triples, fmt, filename=f"{name}.{fmt.extension}")
    response.headers["Content-Disposition"] = response.headers["Content-Disposition"].replace("inline", "attachment")
    return response
