"""Content negotiation and response helpers every page-like surface shares: format by suffix or Accept, RDF bodies."""

from __future__ import annotations

from flask import Response, abort, render_template, request

from kgapp.export import export_prefixes
from kgapp.formats import BY_EXTENSION, BY_NAME, GRAPH_FORMATS, Format, best_format, serialize_rdf
from kgapp.web.context import get_store

PAGE_FORMATS: tuple[Format, ...] = (BY_NAME["html"],) + GRAPH_FORMATS  # HTML first: browsers send */*


def page(template: str, status: int = 200, **context) -> tuple[str, int]:
    context.setdefault("alternates", [])
    return render_template(template, **context), status


def not_found(message: str = "Nothing in the graph has that name."):
    return page("notfound.html", 404, message=message, q=request.args.get("q", ""))


def negotiate(ext: str | None, offered: tuple[Format, ...] = PAGE_FORMATS) -> Format:
    """The format a suffix names, else the best one for the Accept header; 404/406 otherwise."""
    if ext is not None:
        fmt = BY_EXTENSION.get(ext.lower())
        if fmt is None or fmt not in offered:
            abort(404)
        return fmt
    fmt = best_format(request.headers.get("Accept"), offered)
    if fmt is None:
        abort(Response("Not acceptable. Offered: " + ", ".join(f.media_type for f in offered) + "\n",
                       406, content_type="text/plain; charset=utf-8"))
    return fmt


def alternates(url_for_ext, offered: tuple[Format, ...] = PAGE_FORMATS) -> list[tuple[Format, str]]:
    return [(f, url_for_ext(f.extension)) for f in offered]


def with_links(response: Response, links: list[tuple[Format, str]], vary: bool = True) -> Response:
    response.headers["Link"] = ", ".join(f'<{url}>; rel="alternate"; type="{f.media_type}"' for f, url in links)
    if vary:
        response.headers["Vary"] = "Accept"
    return response


def rdf_response(triples, fmt: Format, filename: str | None = None) -> Response:
    body = serialize_rdf(triples, fmt, prefixes=export_prefixes(get_store()))
    response = Response(body, content_type=fmt.content_type)
    if filename:
        response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
