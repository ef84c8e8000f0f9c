"""The app in a server's process: granian's factory (``served_app``) and waitress (``serve_waitress``)."""

from __future__ import annotations

import os
import signal

from flask import Flask

from kgapp.config import Config
from kgapp.web.app import close_app, create_app
from kgapp.web.context import get_serving
from kgapp.web.server import BOUND_ENV, bound_address


def prepared(app: Flask, bound: str) -> Flask:
    """``app`` knowing its bound address and switching builds on SIGHUP (call in the main thread)."""
    app.config["KGAPP_BOUND"] = bound  # the address absolute URLs fall back to (kgapp.web.urls)
    serving = get_serving(app)
    signal.signal(signal.SIGHUP, lambda signum, frame: serving.request_reload())
    return app


def served_app() -> Flask:
    """granian's factory, called in its worker process: the app from the KGAPP_* settings."""
    return prepared(create_app(Config.from_mapping()), os.environ.get(BOUND_ENV, "localhost"))


def serve_waitress(config: Config, host: str, port: int, threads: int) -> None:
    """Serve the app with waitress in this process until interrupted (setting ``server=waitress``)."""
    from waitress import serve

    app = prepared(create_app(config), bound_address(host, port))
    # Waitress drops X-Forwarded-* unless told otherwise; with trusted_proxies set they are kept, and the
    # app (kgapp.web.fairness) decides whether the peer may speak for the client.
    # Ctrl+C and a supervisor's SIGTERM stop the server cleanly, even when it was started with SIGINT
    # ignored (as a shell does for a background job); SIGTERM would otherwise end it without cleanup.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        serve(app, host=host, port=port, threads=threads, ident="kgapp",
              clear_untrusted_proxy_headers=not config.trusted_proxies.strip())
    finally:  # Ctrl+C ends serve(): stop the workers now, not in the interpreter's exit handlers
        close_app(app)
