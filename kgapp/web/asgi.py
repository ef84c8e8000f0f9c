"""The app behind granian's ASGI interface: /sparql queries answered on the event loop, other requests in threads.

A lookup costs ~115 µs of CPU in one thread, but under a WSGI server's eight request threads each request
also paid for handing the interpreter lock (GIL) from thread to thread: at 70k triples one process answered
~3,900 lookups a second, ~7,200 when one thread took them all (benchmarks/README.md, "Seventh session"). Here
the loop's thread answers a GET /sparql, or a POST of a form or a query (its body read on the loop), itself
(kgapp.web.lean's ``inline``): a refusal, a kept answer, a narrow query in process, and a query for a worker,
whose waits (for a worker to free, for its answer; a long answer is read in a thread) are awaited while the
loop answers others (kgapp.sparql.steps). What would block the loop (starting a worker,
waiting for a slot, a remote store's reply) and every other route run in one of ``threads`` request threads,
as under a WSGI server, on the lean path's lane. A request thread is handed the whole request (its body read
on the loop, at most the app's MAX_CONTENT_LENGTH and one byte more) and hands back the answer's first
``BUFFERED`` bytes: two hand-overs a request, where a2wsgi's own bridge made one for every message sent (a
longer answer, e.g. an export, follows ``BUFFERED`` bytes a hand-over).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from a2wsgi.wsgi import build_environ
from flask import Flask

from kgapp.sparql.request import FORM_BODY, QUERY_BODY
from kgapp.web.kept import Kept, encoded_headers, response_key_of
from kgapp.web.lean import LeanSparql, Posted
from kgapp.web.server import THREADS_ENV
from kgapp.web.sparql import PATH
from kgapp.web.wsgi import served_app

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]
BUFFERED = 1 << 20  # an answer's bytes handed back with its status, and then a hand-over at a time
Started = tuple[int, list[tuple[bytes, bytes]]]


class LoopFront:
    """An ASGI app over a kgapp Flask app (why: the module's docstring)."""

    def __init__(self, app: Flask, threads: int = 8):
        self.app = app
        self.lean = app.wsgi_app if isinstance(app.wsgi_app, LeanSparql) else None
        self.pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="kgapp-request")
        self.body_cap = int(app.config.get("MAX_CONTENT_LENGTH") or 1 << 20) + 1
        self.script_name = os.environ.get("SCRIPT_NAME", "")  # a2wsgi's environ takes it over the root path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets here: the server closes the connection
        scope = _ascii_query(scope)
        posted = None
        if self.lean is not None and scope["path"] == PATH:
            if scope["method"] == "GET" and (kept := self._kept(scope)) is not None:
                await send({"type": "http.response.start", "status": 200, "headers": kept.encoded})
                await send({"type": "http.response.body", "body": kept.body})
                return
            if scope["method"] == "POST" and (mimetype := _mimetype(scope)) in (FORM_BODY, QUERY_BODY):
                body = await self._body(receive)
                if body is None:
                    return  # the client went away
                posted = Posted(mimetype, body)
            asks = (len(posted.body) < self.body_cap if posted is not None  # over the cap: the app's 413, in a thread
                    else scope["method"] == "GET" and b"query" in scope["query_string"])
            if asks:
                answered = await self._inline(scope, posted)
                if answered is not None:
                    status, headers, body = answered
                    await send({"type": "http.response.start", "status": status, "headers": headers})
                    await send({"type": "http.response.body", "body": body})
                    return
        await self.threads(scope, receive, send, posted.body if posted else None)

    async def threads(self, scope: Scope, receive: Receive, send: Send, body: bytes | None = None) -> None:
        """Answer the request in a request thread (the app as under a WSGI server); ``body``: read already."""
        body = await self._body(receive) if body is None else body
        if body is None:
            return  # the client went away
        environ = build_environ(scope, io.BytesIO(body))  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        (status, headers), first, rest = await loop.run_in_executor(self.pool, _call, self.app, environ)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        try:
            await send({"type": "http.response.body", "body": first, "more_body": rest is not None})
            while rest is not None:
                chunk = await loop.run_in_executor(self.pool, _more, rest)
                await send({"type": "http.response.body", "body": chunk or b"", "more_body": chunk is not None})
                if chunk is None:
                    rest = None
        finally:
            if rest is not None:  # the client went away mid-answer: end the app's iterator in a thread
                await asyncio.shield(loop.run_in_executor(self.pool, _close, rest))

    async def _body(self, receive: Receive) -> bytes | None:
        """The request's body, read on the loop up to ``body_cap`` bytes (the app answers 413 beyond its limit)."""
        parts: list[bytes] = []
        size = 0
        while size < self.body_cap:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if not message.get("more_body"):
                break
        return b"".join(parts)

    def _kept(self, scope: Scope) -> Kept | None:
        """A kept answer to this GET, found without building its WSGI environ (about half of a hit's cost)."""
        assert self.lean is not None
        if self.lean.serving.current.responses is None:
            return None  # no answers kept (result_cache off): nothing to look for
        key, forwarded_for = response_key_of(scope, self.script_name)
        client = scope.get("client")
        return self.lean.kept(key, self.lean.fairness.client_id(client[0] if client else None, forwarded_for))

    async def _inline(self, scope: Scope, posted: Posted | None) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        assert self.lean is not None
        environ = build_environ(scope, io.BytesIO(posted.body if posted else b""))  # type: ignore[arg-type]
        started: list[tuple[str, list[tuple[str, str]]]] = []
        body = await self.lean.inline(environ, lambda status, headers, exc_info=None: started.append((status, headers)),
                                      posted)
        if body is None:
            return None
        status, headers = started[0]
        return int(status[:3]), encoded_headers(headers), b"".join(body)


def _call(app: Flask, environ: dict) -> tuple[Started, bytes, Iterator[bytes] | None]:
    """Run the WSGI app (in a request thread): its status and headers, its first bytes, and an iterator over the
    rest when there is more than ``BUFFERED`` (closed by the caller), else None."""
    started: list[Started] = []
    parts: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
        started[:] = [(int(status[:3]), encoded_headers(headers))]
        return parts.append  # WSGI's write(): kept before the body
    iterable: Iterable[bytes] = app(environ, start_response)
    chunks = iter(iterable)
    try:
        done = _gather(chunks, parts)
    except BaseException:
        _close(iterable)
        raise
    if done:
        _close(iterable)
        return started[0], b"".join(parts), None
    return started[0], b"".join(parts), _closing(chunks, iterable)


def _more(chunks: Iterator[bytes]) -> bytes | None:
    """The answer's next ``BUFFERED`` bytes or so, or None at its end: one hand-over for many small chunks (a file
    is read 8 KB at a time)."""
    parts: list[bytes] = []
    _gather(chunks, parts)
    return b"".join(parts) if parts else None


def _gather(chunks: Iterator[bytes], parts: list[bytes]) -> bool:
    """Append whole chunks to ``parts`` until they hold ``BUFFERED`` bytes; True when the chunks ran out first."""
    size = sum(map(len, parts))
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= BUFFERED:
            return False
    return True


def _closing(chunks: Iterator[bytes], iterable: Iterable[bytes]) -> Iterator[bytes]:
    """The rest of an answer; its iterable is closed when the rest is read or the generator is closed."""
    try:
        yield from chunks
    finally:
        _close(iterable)


def _close(iterable: Iterable[bytes]) -> None:
    close = getattr(iterable, "close", None)
    if close is not None:
        close()


def _mimetype(scope: Scope) -> str:
    """The request's media type: its Content-Type without parameters, lower-cased."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def _ascii_query(scope: Scope) -> Scope:
    """``scope`` with any raw non-ASCII byte of its query string percent-encoded (the same URL to a decoder):
    WSGI's QUERY_STRING is built from it as ASCII."""
    raw: bytes = scope["query_string"]
    if raw.isascii():
        return scope
    return {**scope, "query_string": b"".join(b"%%%02X" % b if b > 127 else bytes((b,)) for b in raw)}


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})  # the app's workers end with the process
            return


def served_asgi() -> LoopFront:
    """granian's factory, called in its worker process: the app from the KGAPP_* settings."""
    return LoopFront(served_app(), int(os.environ.get(THREADS_ENV, "8")))
