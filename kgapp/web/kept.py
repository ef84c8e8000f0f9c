"""GET /sparql answers kept per build (kgapp.web.lean): what a kept answer holds and what it is keyed on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from a2wsgi.wsgi import unicode_to_wsgi

URL_PARTS = ("HTTP_HOST", "wsgi.url_scheme", "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT")  # the endpoint's URL
_KEY_HEADERS = (b"accept", b"host", b"x-forwarded-for")  # what a kept answer's key and its client are made of


@dataclass(frozen=True)
class Kept:
    """A 200 response to a GET, as sent: a build never changes, so the same request gets the same bytes."""

    headers: list[tuple[str, str]]
    body: bytes
    entry: dict  # the log line's form, query id, rows and cut flag
    encoded: list[tuple[bytes, bytes]]  # the headers as an ASGI server takes them (kgapp.web.asgi)


def encoded_headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """WSGI's headers as ASGI's: lower-case names, both halves bytes."""
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


def response_key(environ: dict) -> tuple:
    """What a GET's answer depends on: its query string, Accept, and what the endpoint's URL is built from (the
    base of relative IRIs and the row cap's link). kgapp.web.asgi builds the same key from an ASGI scope."""
    return (environ.get("QUERY_STRING"), environ.get("HTTP_ACCEPT"), *(environ.get(k) for k in URL_PARTS))


def response_key_of(scope: dict[str, Any], script_name: str = "") -> tuple[tuple, str | None]:
    """kgapp.web.lean.response_key of the environ a2wsgi would build from ``scope`` (``script_name``: the
    process's SCRIPT_NAME variable), and the request's X-Forwarded-For."""
    named: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if (name := name.lower().replace(b"_", b"-")) in _KEY_HEADERS:  # named and joined as in a2wsgi's environ
            text = value.decode("latin-1")
            named[name] = named[name] + "," + text if name in named else text
    server, port = scope.get("server") or ("localhost", 80)
    root = unicode_to_wsgi(script_name) if script_name else scope.get("root_path", "").encode("utf8").decode("latin1")
    return ((scope["query_string"].decode("ascii"), named.get(b"accept"), named.get(b"host"),
             scope.get("scheme", "http"), root, server, str(port or 0)), named.get(b"x-forwarded-for"))
