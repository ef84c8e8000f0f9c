"""`kgapp serve`'s server: waitress over the app, and SIGHUP to switch to a newer build at once."""

from __future__ import annotations

import signal

from flask import Flask
from waitress import serve

from kgapp.web.context import get_serving


def run(app: Flask, host: str, port: int, threads: int) -> None:
    """Serve ``app`` until interrupted. SIGHUP: the next request looks at `current` (else once a second)."""
    serving = get_serving(app)
    signal.signal(signal.SIGHUP, lambda signum, frame: serving.request_reload())
    serve(app, host=host, port=port, threads=threads, ident="kgapp")
