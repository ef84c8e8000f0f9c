"""Linked Data pages: home, one page per IRI (HTML or RDF by content negotiation), class indexes, search, validation."""

from __future__ import annotations

from urllib.parse import quote

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, redirect, request

from kgapp.formats import BY_EXTENSION, BY_NAME, GRAPH_FORMATS, RDF_FORMATS, best_format
from kgapp.namespaces import KG, VALIDATION_GRAPH
from kgapp.read import catalog
from kgapp.read.compare import preset_for, presets
from kgapp.read.deadline import Deadline
from kgapp.read.describe import (
    Description,
    code_notation,
    describe,
    describe_triples,
    exists,
    sources_for,
)
from kgapp.read.diagram import codes_of_nerve, nerve_diagram, type_diagram
from kgapp.read.labels import is_web_iri, page_path, valid_iri
from kgapp.read.search import notation_match
from kgapp.read.search import search as run_search
from kgapp.read.summary import code_title, summarise
from kgapp.read.vocab import graph_set
from kgapp.rights import RIGHTS
from kgapp.web.context import get_config, get_store
from kgapp.web.entity_page import EntityPage
from kgapp.web.fragments import Fragments
from kgapp.web.negotiate import alternates, negotiate, not_found, page, rdf_response, with_links
from kgapp.web.page_cache import cached
from kgapp.web.shell import entity_html

bp = Blueprint("pages", __name__)


# -- template helpers -------------------------------------------------------------------------------

@bp.app_template_global()
def page_url(iri: str) -> str | None:
    return page_path(iri, get_config().base_iri)


@bp.app_template_global()
def rights() -> str:
    return RIGHTS


@bp.app_template_global()
def external(iri: str) -> bool:
    """An IRI outside kgapp (UBERON, SNOMED…) that may be linked to directly."""
    return is_web_iri(iri) and not iri.startswith("https://w3id.org/kgapp/")


# -- entity pages -----------------------------------------------------------------------------------

def page_store():
    """The served store, bounded by the endpoint's time limit (kgapp.read.deadline)."""
    return Deadline(get_store(), get_config().query_timeout)


def entity(iri: str, ext: str | None, url_for_ext):
    fmt = negotiate(ext)
    store = page_store()
    links = alternates(url_for_ext)
    if fmt.kind == "html":
        number = request.args.get("incoming", "1")
        d = describe(store, iri, int(number) if number.isdigit() and 0 < int(number) < 10**6 else 1,
                     get_config().page_size)
        notation = code_notation(store, iri, d) if valid_iri(iri) else None
        summary = summarise(store, d, notation) if notation else None
        if summary:
            d.sources = sources_for(store, set(d.sources) | summary.graphs())
        preset = preset_for(store, notation) if notation else None
        downloads = [(f, f"/graph.{f.extension}?iri={quote(iri, safe='')}") for f in GRAPH_FORMATS] \
            if iri in graph_set(store) else []
        entity_page = EntityPage(d, links, notation, summary, preset.url if preset else None, downloads,
                                 summary.title if summary else code_title(store, iri, d) if valid_iri(iri) else None,
                                 diagrams(store, d, summary.title if summary else None))
        base = get_config().base_iri
        body = entity_page.body(Fragments(lambda iri: page_path(iri, base), external, d.sources,
                                          store.memo.setdefault("iri_html", {})))
        return with_links(Response(entity_html(entity_page.title, body, links)), links, vary=ext is None)
    return with_links(rdf_response(describe_triples(store, iri), fmt), links, vary=ext is None)


def diagrams(store, d: Description, code_title: str | None) -> list:
    """The pictures a page shows: a code's nerves and type path, or the codes acting on a nerve."""
    if code_title:
        return [x for x in (nerve_diagram(store, d.iri, code_title, d), type_diagram(store, d.iri, code_title, d)) if x]
    types = {s.other.value for _, rows in d.sections for s in rows if s.predicate.value.endswith("#type")}
    if types & {str(KG.CranialNerve), str(KG.Nerve)}:
        return [x for x in (codes_of_nerve(store, d.iri),) if x]
    return []


@bp.route("/id/<path:rest>")
def instance(rest: str):
    return cached(lambda: _instance(rest))


def _instance(rest: str):
    base, store = get_config().base_iri, page_store()
    if exists(store, base + rest):
        path = page_url(base + rest)
        return entity(base + rest, None, lambda e: f"{path}.{e}")
    stem, dot, ext = rest.rpartition(".")
    if dot and ext in BY_EXTENSION and exists(store, base + stem):
        path = page_url(base + stem)
        return entity(base + stem, ext, lambda e: f"{path}.{e}")
    return not_found()


@bp.route("/resource")
@bp.route("/resource.<ext>")
def resource(ext: str | None = None):
    return cached(lambda: _resource(ext))


def _resource(ext: str | None):
    iri = request.args.get("iri", "").strip()
    if not valid_iri(iri) or not exists(page_store(), iri):
        return not_found("No IRI given, or the graph says nothing about it." if iri else "Give an IRI to look up.")
    if iri.startswith(get_config().base_iri) and ext is None and is_web_iri(iri):
        return redirect(page_url(iri), 303)  # one URL per instance: its /id/ path
    return entity(iri, ext, lambda e: f"/resource.{e}?iri={quote(iri, safe='')}")


# -- home, classes, search, validation --------------------------------------------------------------

@bp.route("/")
def index():
    store = get_store()
    codes = catalog.instances(store, str(KG.ProcedureCode), 0, 1000)[1]
    graphs = store.named_graphs()
    return page("index.html", classes=catalog.class_counts(store), codes=codes, graphs=graphs, presets=presets(store),
                triples=catalog.total_triples(store), manifest=store.manifest, exports=RDF_FORMATS)


@bp.route("/class/<path:name>")
def class_index(name: str):
    store, size = get_store(), get_config().page_size
    cls = catalog.class_iri(name)
    if cls is None:
        return not_found("There is no class of that name.")
    number = request.args.get("page", "1")
    number = int(number) if number.isdigit() and 0 < int(number) < 10**6 else 1
    total, rows = catalog.instances(store, cls, (number - 1) * size, size)
    if total == 0 or (not rows and number > 1):
        return not_found("That class has no instances here." if total == 0 else "No such page.")
    pages = (total + size - 1) // size
    return page("class.html", cls=cls, name=name, label=catalog.labels(store, [cls])[cls], rows=rows,
                total=total, number=number, pages=pages, offset=(number - 1) * size)


@bp.route("/search")
def search():
    q = request.args.get("q", "")[:200].strip()
    wants_json = best_format(request.headers.get("Accept"), (BY_NAME["html"], BY_NAME["json"])) is BY_NAME["json"] \
        or request.args.get("format") == "json"
    store = get_store()
    hits = run_search(store, q) if q else []
    if wants_json:
        return jsonify(query=q, results=[{"iri": h.iri, "label": h.label, "url": page_url(h.iri), "types": h.types,
                                          "score": h.score, "snippet": h.snippet} for h in hits])
    target = notation_match(store, q) if q else None
    if target and page_url(target):
        return redirect(page_url(target), 302)
    return page("search.html", q=q, hits=hits)


@bp.route("/validation")
@bp.route("/validation.<ext>")
def validation(ext: str | None = None):
    fmt = negotiate(ext)
    links = alternates(lambda e: f"/validation.{e}")
    store = get_store()
    if fmt.kind == "html":
        conforms, results = catalog.validation_report(store)
        return with_links(Response(*page("validation.html", conforms=conforms, results=results, alternates=links)),
                          links, vary=ext is None)
    triples = (ox.Triple(q.subject, q.predicate, q.object) for q in store.quads(str(VALIDATION_GRAPH)))
    return with_links(rdf_response(triples, fmt), links, vary=ext is None)


@bp.app_errorhandler(404)
def handle_404(error):
    return not_found()
