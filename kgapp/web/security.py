"""Headers that make every response safe to serve publicly, and plain 500s that never show a traceback."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import InternalServerError

# No inline script or style anywhere: pages load /static files only, and query.js reads its settings
# from a data- attribute, so a label smuggling markup into a page still cannot run.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Queries travel in URLs; no-referrer keeps them from leaking to sites the pages link to.
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    app.config["DEBUG"] = False  # never the interactive debugger, whatever the environment says
    app.after_request(add_security_headers)
    app.register_error_handler(InternalServerError, internal_error)


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def internal_error(error: InternalServerError) -> Response:
    # The details go to the log (Flask has logged the traceback already); the client gets a plain line.
    return Response("500 Internal Server Error: the server failed to answer this request.\n", status=500,
                    content_type="text/plain; charset=utf-8")
