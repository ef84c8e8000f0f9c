"""Rendered entity pages kept per build: a build never changes, so the same request gets the same bytes.

Keyed on the build, the path, the query string and the format the Accept header negotiates (a suffix is
in the path); least recently used pages go first once the cache holds ``PAGE_CACHE_BYTES`` (kgapp.web.serving). Only
complete 200 answers are kept, with the headers the page sets (type, Link, Vary); the security headers
are added to every answer as usual. The cache belongs to the served build (kgapp.web.serving), so a new
build starts empty and pages of the old one are never served. Setting ``page_cache`` turns it off.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, make_response, request

from kgapp.formats import best_format
from kgapp.sparql.cache import ResultCache
from kgapp.web.context import served
from kgapp.web.negotiate import PAGE_FORMATS
from kgapp.web.prerender import KEPT_HEADERS

Page = tuple[bytes, int, list[tuple[str, str]]]


def cached(render: Callable[[], object]) -> Response:
    """The answer of ``render()`` for this request, from the build's page cache when it holds it."""
    current = served()
    cache: ResultCache[Page] | None = current.pages
    if cache is None:
        return make_response(render())
    fmt = best_format(request.headers.get("Accept"), PAGE_FORMATS)
    key = (current.build, request.path, request.query_string, fmt.name if fmt else None)
    hit = cache.get(key)
    if hit is not None:
        body, status, headers = hit
        return Response(body, status=status, headers=headers)
    ahead = current.prerendered
    if ahead is not None and fmt is not None and fmt.name == "html" and not request.query_string \
            and not request.script_root:  # as the pre-rendering process asks for it
        page = ahead.get(request.path)
        if page is not None:
            return Response(page[0], status=page[1], headers=page[2])
    response = make_response(render())
    if response.status_code == 200 and not response.is_streamed:
        body = response.get_data()
        headers = [(k, v) for k, v in response.headers.items() if k in KEPT_HEADERS]
        cache.put(key, (body, 200, headers), len(body) + 64 * len(headers))
    return response
