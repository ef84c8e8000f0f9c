"""The /sparql surface: the SPARQL 1.1 Protocol endpoint, its Service Description and the query page."""

from __future__ import annotations

import hashlib
import logging
import time

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed

from kgapp.errors import KgappError
from kgapp.formats import DATASET_FORMATS, GRAPH_FORMATS, RESULT_FORMATS, by_name, serialize_rdf
from kgapp.namespaces import PREFIXES, sparql_prologue
from kgapp.queries import load_queries
from kgapp.read import catalog
from kgapp.sparql.answer import choose_format
from kgapp.sparql.executor import QueryTimeout
from kgapp.sparql.request import (
    ALLOWED_METHODS,
    FORM_BODY,
    QUERY_BODY,
    check_urlencoded,
    parse_request,
)
from kgapp.sparql.service_description import service_description
from kgapp.sparql_text import query_form
from kgapp.web.context import get_config, get_executor, get_store
from kgapp.web.fairness import Fairness, Refused, current_client
from kgapp.web.metrics import metrics
from kgapp.web.urls import endpoint_url, root_url

bp = Blueprint("sparql", __name__)
log = logging.getLogger("kgapp.query")
TRUNCATED = "X-KGApp-Truncated"
ROWS = "X-KGApp-Rows"
ROW_CAP_ANCHOR = "row-cap"  # the query page's section explaining the limits; cut answers link to it

PATH = "/sparql"
VOID_PATH = "/.well-known/void"
RESOURCE_PATH = "/resource"  # pages for IRIs outside this graph's base (the pages blueprint)
STARTER = """SELECT ?code ?notation ?label WHERE {
  ?code a kg:ProcedureCode ;
        skos:notation ?notation ;
        skos:prefLabel ?label .
}
ORDER BY ?notation
"""
ONTOLOGY_GRAPH = "https://w3id.org/kgapp/graph/ontology"
# The ontology's own classes and properties with their labels: the query editor offers them as completions.
@bp.route(PATH, methods=["GET", "POST", "PUT", "DELETE", "PATCH"], provide_automatic_options=False)
def endpoint():
    """A query is admitted for its client (kgapp.web.fairness) before anything reads it: a refusal costs little."""
    if request.method != "POST" and "query" not in request.args:
        return protocol_request()
    fairness: Fairness = current_app.extensions["kgapp.fairness"]
    g.query_log = {"form": "-", "id": "-"}  # a refusal for fairness is logged too
    who = current_client(fairness)
    try:
        with fairness.admit(who):
            return protocol_request(who)
    except Refused as e:
        if (m := metrics()) is not None:
            m.refused.labels(limit=e.limit).inc()
        raise


def protocol_request(who: str = "-"):
    mimetype = request.mimetype
    g.query_log = {"form": "-", "id": "-"}  # refused requests are logged too
    args = check_urlencoded(request.query_string)  # checked for UTF-8 and decoded once, for werkzeug's args
    body = request.get_data() if mimetype in (QUERY_BODY, FORM_BODY) and request.method == "POST" else b""
    form = check_urlencoded(body) if mimetype == FORM_BODY else MultiDict()
    query = parse_request(request.method, request.content_type, args, form, body,
                          max_length=get_config().max_query_length, base_iri=endpoint_url())
    if query is None:
        del g.query_log
        return description_or_page()
    g.query_log.update(form=query_form(query.text) or "?", id=hashlib.sha256(query.text.encode()).hexdigest()[:12])
    try:
        result = get_executor().run(query, request.headers.get("Accept"), endpoint_url() + "#" + ROW_CAP_ANCHOR, who)
    except QueryTimeout:
        if (m := metrics()) is not None:
            m.timeouts.inc()
        raise
    g.query_log.update(rows=result.rows, truncated=result.truncated)
    response = Response(result.body, content_type=result.content_type, headers={ROWS: str(result.rows)})
    if result.truncated:
        response.headers[TRUNCATED] = "true"
    return response


@bp.route(PATH + "/", methods=["GET", "HEAD", "POST"])
def trailing_slash():
    """/sparql/ is /sparql: 308 keeps the method and body of a POST, the query string is kept as sent."""
    query = request.query_string.decode("latin-1")
    return redirect(PATH + ("?" + query if query else ""), 308)


@bp.route(PATH, methods=["OPTIONS"], provide_automatic_options=False)
def preflight():
    response = Response(status=204, headers={"Allow": ALLOWED_METHODS})
    del response.headers["Content-Type"]  # no body, so no type
    return response


def description_or_page() -> Response | str:
    """GET /sparql alone: the query page for browsers, the Service Description for everyone else."""
    choices = GRAPH_FORMATS + DATASET_FORMATS + (by_name("html"),)
    fmt = choose_format(choices, request.headers.get("Accept"), request.args.getlist("format"),
                                 "the service description")
    if fmt.name == "html":
        return query_page()
    triples = service_description(get_store(), endpoint_url(), root_url() + VOID_PATH)
    return Response(serialize_rdf(triples, fmt), content_type=fmt.content_type)


def query_page() -> str:
    negotiation = [f.media_type for f in RESULT_FORMATS if f.name == "json"]
    negotiation += [f"{f.media_type};q=0.9" for f in GRAPH_FORMATS if f.name == "ntriples"]
    return render_template(
        "query.html",
        text=request.args.get("qtext") or sparql_prologue() + "\n" + STARTER,
        autorun=bool(request.args.get("qtext")),
        examples=load_queries(),
        endpoint_url=endpoint_url(),
        limits=get_config(),
        settings={
            "endpoint": url_for(".endpoint"), "accept": ", ".join(negotiation),
            "idBase": get_config().base_iri, "idPath": "/id/", "resourcePath": RESOURCE_PATH,
            "prefixes": PREFIXES,
            "formats": {kind: [{"name": f.name, "extension": f.extension} for f in group] for kind, group in
                        (("results", RESULT_FORMATS), ("graph", GRAPH_FORMATS + DATASET_FORMATS))},
            "askFormats": ["json", "xml"],
            "vocabulary": vocabulary(),
        },
    )


def vocabulary() -> list[dict]:
    """The ontology's classes and properties for the editor's completion; none when the store cannot say."""
    try:
        return catalog.ontology_terms(get_store())
    except KgappError:  # a remote store that is down: the page still works, without term completion
        log.warning("could not read the ontology's terms for the query editor", exc_info=True)
        return []


def plain(message: str, status: int, headers: dict | None = None) -> Response:
    return Response(message.rstrip("\n") + "\n", status=status, headers=headers or {},
                    content_type="text/plain; charset=utf-8")


@bp.before_app_request
def unrouted_method():
    """Methods no route takes (TRACE, PROPFIND…) fail routing before any view; answer them plainly too."""
    if request.path == PATH and isinstance(request.routing_exception, MethodNotAllowed):
        return plain(f"Method {request.method} not allowed; use GET or POST.", 405,
                     {"Allow": ALLOWED_METHODS})
    return None


@bp.before_app_request
def start_clock():
    if request.path == PATH:
        g.query_started = time.perf_counter()


@bp.after_app_request
def log_query(response: Response) -> Response:
    """One line per query: what kind, how it ended, how long, how much. Never the text or client headers;
    the id (a hash of the text) lets repeated queries be grouped."""
    entry = g.get("query_log")
    if entry is not None:
        ms = (time.perf_counter() - g.query_started) * 1000
        if (m := metrics()) is not None:
            m.query(entry["form"], ms / 1000, response.status_code, bool(entry.get("truncated")))
        log.info("method=%s form=%s status=%d ms=%.1f rows=%s truncated=%s bytes=%s query=%s",
                 request.method, entry["form"], response.status_code, ms, entry.get("rows", "-"),
                 str(entry.get("truncated", False)).lower(), response.calculate_content_length() or 0,
                 entry["id"])
    return response


@bp.after_app_request
def cors_and_vary(response: Response) -> Response:
    """Every /sparql answer, errors included, may be read cross-origin and varies with Accept."""
    if request.path == PATH:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = f"{TRUNCATED}, {ROWS}, Retry-After"
        response.vary.add("Accept")
        if request.method == "OPTIONS":
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
            response.headers["Access-Control-Max-Age"] = "86400"
    return response
