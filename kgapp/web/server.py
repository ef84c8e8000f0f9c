"""`kgapp serve` with granian (the default server; waitress runs in kgapp.web.wsgi); SIGHUP: newer build.

granian (a Rust HTTP server) serves the app from one worker process that it starts; the app is made
there by ``kgapp.web.wsgi.served_app`` from the same settings (passed as KGAPP_* variables), so this
process stays small (it never loads the app); ``kgapp.web.asgi`` puts it behind granian's ASGI interface.
granian's own SIGHUP handling (restart its workers, cutting in-flight queries) is replaced by passing the
signal on to the worker, whose app then looks at `current` on its next request, as under waitress:
in-flight queries finish on the build they started on. The event loop is uvloop's (a declared dependency
on Linux and macOS) where it is installed: kept answers went 10-35 % faster than on asyncio's own loop
(benchmarks/README.md, "Eighth session").
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket

from kgapp.config import Config

BOUND_ENV = "KGAPP_BOUND_ADDRESS"  # read by kgapp.web.wsgi in the worker
THREADS_ENV = "KGAPP_REQUEST_THREADS"  # read by kgapp.web.asgi in the worker


def bound_address(host: str, port: int) -> str:
    """host:port as absolute URLs name this server when the Host header is not trusted."""
    return f"{socket.gethostname() if host in ('0.0.0.0', '::', '') else host}:{port}"


def run_granian(config: Config, host: str, port: int, threads: int) -> None:
    """Serve the app over ``config``'s store from one granian worker process until interrupted."""
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    class _Server(Server):  # type: ignore[misc, valid-type]
        def signal_handler_reload(self, *args: object, **kwargs: object) -> None:
            for worker in list(self.wrks):  # on to the app, which switches builds between requests
                if worker.inner.pid:
                    os.kill(worker.inner.pid, signal.SIGHUP)

    os.environ["KGAPP_STORE"] = str(config.store)  # a path or sparql:…; credentials stay in their own variables
    os.environ[BOUND_ENV] = bound_address(host, port)
    os.environ[THREADS_ENV] = str(max(1, threads))
    # ASGI: /sparql queries are answered on the event loop, other requests in ``threads`` request threads
    # (kgapp.web.asgi).
    server = _Server("kgapp.web.asgi:served_asgi", address=host, port=port, interface=Interfaces.ASGI,
                     factory=True, workers=1, log_level=LogLevels.warning, workers_kill_timeout=10,
                     loop=Loops.uvloop if importlib.util.find_spec("uvloop") else Loops.asyncio)
    server.serve()
