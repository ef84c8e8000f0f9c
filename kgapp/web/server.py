"""`kgapp serve`'s server: waitress over the app, and SIGHUP to switch to a newer build at once."""

from __future__ import annotations

import signal
import socket

from flask import Flask
from waitress import serve

from kgapp.web.context import get_config, get_serving


def run(app: Flask, host: str, port: int, threads: int) -> None:
    """Serve ``app`` until interrupted. SIGHUP: the next request looks at `current` (else once a second).

    Waitress drops X-Forwarded-For unless told otherwise; with ``trusted_proxies`` set it is kept, and the
    app (kgapp.web.fairness) decides whether the peer may speak for the client.
    """
    serving = get_serving(app)
    # the address absolute URLs fall back to when the Host header is not trusted (kgapp.web.urls)
    app.config["KGAPP_BOUND"] = f"{socket.gethostname() if host in ('0.0.0.0', '::', '') else host}:{port}"
    signal.signal(signal.SIGHUP, lambda signum, frame: serving.request_reload())
    serve(app, host=host, port=port, threads=threads, ident="kgapp",
          clear_untrusted_proxy_headers=not get_config(app).trusted_proxies.strip())
