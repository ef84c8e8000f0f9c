"""Whole-graph downloads in every RDF format, streamed, and the VoID description that announces them."""

from __future__ import annotations

from itertools import chain

from flask import Blueprint, Response, request, stream_with_context

from kgapp.export import export_filename, stream_export
from kgapp.formats import BY_EXTENSION, GRAPH_FORMATS
from kgapp.read.void import void_triples
from kgapp.web.context import get_config, get_store
from kgapp.web.negotiate import alternates, negotiate, not_found, rdf_response, with_links
from kgapp.web.urls import root_url

bp = Blueprint("export", __name__)
TRUE = ("1", "true", "yes", "on")


@bp.route("/export.<ext>")
def export(ext: str):
    fmt = BY_EXTENSION.get(ext.lower())
    if fmt is None or fmt.kind not in ("rdf", "dataset"):
        return not_found("There is no export in that format; try .ttl, .nt, .jsonld, .rdf, .trig or .nq.")
    inferred = request.args.get("inferred", "").lower() in TRUE
    chunks = stream_export(get_store(), fmt.name, inferred=inferred)
    # The first chunk is read before the status is sent, so a store that fails at once (a remote server
    # down) answers through the one error path rather than as a 200 that breaks off.
    first = next(chunks, b"")
    # The generator does not need the request, but keeping the context lets the app tear down cleanly.
    body = stream_with_context(chain([first], chunks))
    response = Response(body, content_type=fmt.content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{export_filename(fmt.name, inferred)}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/.well-known/void")
@bp.route("/void.<ext>")
def void(ext: str | None = None):
    if ext is not None and ext.lower() not in ("ttl", "nt", "jsonld", "rdf"):
        return not_found("VoID is served as .ttl, .nt, .jsonld or .rdf.")
    fmt = negotiate(ext, GRAPH_FORMATS)  # Turtle first: VoID is read by tools more than people
    root = root_url()
    triples = void_triples(get_store(), root, get_config().base_iri)
    triples.sort(key=lambda t: (t.subject.value != f"{root}/.well-known/void#dataset", t.subject.value))
    response = rdf_response(triples, fmt, filename=f"void.{fmt.extension}")
    return with_links(response, alternates(lambda e: f"/void.{e}", GRAPH_FORMATS), vary=ext is None)
