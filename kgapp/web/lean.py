"""GET /sparql?query=… without Flask's dispatch: the same checks, limits, headers, log line and metrics.

A query by GET is what most clients send and what costs least to answer; Flask's request and app
contexts, routing, hooks and Response object cost more than a bounded lookup itself. This WSGI
middleware answers exactly those requests (GET, path /sparql, a ``query`` parameter), and refuses a GET
or POST to /sparql of a client over its fairness limits (429, as kgapp.web.sparql would, but before
anything is parsed and with one log line a second per refused client: kgapp.web.fairness.RefusalLog),
with the same steps as kgapp.web.sparql: fairness first, then the URL's UTF-8 check, the protocol parse,
the executor (slots, time limit, row cap, cache), the same headers (security, CORS, Vary, row count, cut
flag), one line on ``kgapp.query`` and the same metrics. Everything else goes to Flask.
Setting ``fast_path`` off leaves every request to Flask. The GETs it answers take turns on one lane
(kgapp.sparql.lane: one request thread at a time, in arrival order), which the executor leaves while a
request waits for a slot, a worker or a remote store, and for a bounded star that may be wide. Behind an
event loop (kgapp.web.asgi), ``inline`` answers a GET on the loop's thread, awaiting a query worker.

With ``result_cache`` on, a 200 response to a GET is kept per build as it was sent, keyed on the raw
query string, Accept and what the endpoint's URL is made of (kgapp.web.kept); the same request again gets
those bytes after the fairness check, with its log line and metrics, without parsing anything. Behind the
event loop ``kept`` finds it from the request's ASGI scope, before any environ is built (~6 µs a hit in
process against ~12 through ``inline``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from werkzeug.datastructures import MultiDict
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from kgapp.errors import KgappError
from kgapp.sparql.cache import ResultCache
from kgapp.sparql.executor import QueryTimeout
from kgapp.sparql.lane import INLINE, Lane, WouldWait
from kgapp.sparql.request import FORM_BODY, DecodedParams, check_urlencoded, parse_request
from kgapp.sparql.steps import Steps, drive, drive_async
from kgapp.sparql_text import query_form
from kgapp.web.context import get_config, get_serving
from kgapp.web.fairness import Fairness, RefusalLog, Refused
from kgapp.web.kept import URL_PARTS, Kept, encoded_headers, response_key
from kgapp.web.security import HEADERS
from kgapp.web.sparql import PATH, ROW_CAP_ANCHOR, ROWS, TRUNCATED
from kgapp.web.urls import root_url_for

log = logging.getLogger("kgapp.query")
CORS = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", f"{TRUNCATED}, {ROWS}, Retry-After"),
        ("Vary", "Accept")]
WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
REFUSAL_HEADERS = [("Content-Type", "text/plain; charset=utf-8"),
                   *[(k, v) for k, v in HEADERS.items() if k.lower() != "content-type"], *CORS]


@dataclass(frozen=True)
class Posted:
    """A POST's body, read already (by kgapp.web.asgi), and its media type: a form or a query."""

    mimetype: str
    body: bytes


def _asks(args: DecodedParams, form: DecodedParams, posted: Posted | None) -> bool:
    """Whether the request carries a query: in its URL (a GET), its form, or as its body (a direct POST)."""
    if posted is None:
        return "query" in args
    return "query" in form if posted.mimetype == FORM_BODY else bool(posted.body)


class LeanSparql:
    """Wraps ``app.wsgi_app``; answers GET /sparql?query=… itself and passes everything else on."""

    def __init__(self, app: Flask, wsgi_app: WSGIApp):
        self.app, self.next = app, wsgi_app
        self.config = get_config(app)
        self.serving = get_serving(app)
        self.fairness: Fairness = app.extensions["kgapp.fairness"]
        self.refusals = RefusalLog(log)
        self._endpoints: dict[tuple, str] = {}
        self.lane = Lane()

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != PATH or method not in ("GET", "POST") \
                or (method == "GET" and "query" not in environ.get("QUERY_STRING", "")):
            return self.next(environ, start_response)
        refused = self._refused(method, environ, start_response)
        if refused is not None:
            return refused
        if method == "POST":
            return self.next(environ, start_response)
        with self.lane.held():  # kgapp.sparql.lane: one thread at a time, left while waiting
            answered = drive(self._get(environ, start_response, self.lane))
        return self.next(environ, start_response) if answered is None else answered

    async def inline(self, environ: dict, start_response: Callable, posted: Posted | None = None
                     ) -> Iterable[bytes] | None:
        """The answer to a GET /sparql?query=… (or a POST of a form or a query, its body ``posted``) on an event
        loop's thread (kgapp.web.asgi), a query worker's answer awaited; None where it would wait otherwise
        (for a slot, a worker, a remote store): then call this app in a request thread."""
        refused = self._refused("POST" if posted else "GET", environ, start_response)
        if refused is not None:
            return refused
        try:
            return await drive_async(self._get(environ, start_response, INLINE, posted))
        except WouldWait:
            return None

    def _refused(self, method: str, environ: dict, start_response: Callable) -> Iterable[bytes] | None:
        """A client over its limits is refused before anything is parsed: a greedy client that ignores
        Retry-After sends thousands of these a second, and each costs the cores everyone shares."""
        if not self.fairness.limited:
            return None
        who = self.fairness.client_id(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"))
        refused = self.fairness.would_refuse(who)
        return None if refused is None else self._refuse(method, who, refused, start_response)

    def _get(self, environ: dict, start_response: Callable, lane: Lane, posted: Posted | None = None
             ) -> Steps[Iterable[bytes] | None]:
        """The answer to a GET with a query (or a POST whose body was read: ``posted``), or None to leave the
        request to Flask (as steps: kgapp.sparql.steps). Answers to POSTs are not kept."""
        method = "POST" if posted else "GET"
        cache, key, hit = self._cached(environ) if posted is None else (None, (), None)
        args, form = None, MultiDict()
        if hit is None:
            try:  # what werkzeug's Request.query_string gives, without making a Request
                args = check_urlencoded(environ.get("QUERY_STRING", "").encode("latin-1"))
                if posted is not None and posted.mimetype == FORM_BODY:
                    form = check_urlencoded(posted.body)
            except KgappError:
                args = None  # invalid UTF-8: Flask's path answers the 400 (and logs it) as for every other route
            if args is None or not _asks(args, form, posted):
                return None
        started = time.perf_counter()
        entry = dict(hit.entry) if hit is not None else {"form": "-", "id": "-"}
        try:
            who = self.fairness.client_id(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"))
            with self.fairness.admit(who):
                if hit is not None:
                    status, headers, body = 200, hit.headers, hit.body
                else:
                    assert args is not None
                    status, headers, body = yield from self._query(environ, args, entry, who, lane, posted, form)
        except WouldWait:
            raise  # tried on an event loop: the request starts again in a thread, logged and counted there
        except KgappError as e:
            metrics = self.app.extensions.get("kgapp.metrics")
            if metrics is not None and isinstance(e, Refused):
                metrics.refused.labels(limit=e.limit).inc()
            if metrics is not None and isinstance(e, QueryTimeout):
                metrics.timeouts.inc()
            status, body = e.status, (e.message.rstrip("\n") + "\n").encode()
            headers = [("Content-Type", "text/plain; charset=utf-8"), *e.headers.items()]
        except Exception:  # noqa: BLE001 - as Flask would: logged, and a plain 500 without a traceback
            log.exception("the endpoint failed")
            status, body = 500, b"500 Internal Server Error: the server failed to answer this request.\n"
            headers = [("Content-Type", "text/plain; charset=utf-8")]
        self._log(method, entry, status, started, len(body))
        if hit is None or status != 200:
            names = {name.lower() for name, _ in headers}
            headers += [(k, v) for k, v in HEADERS.items() if k.lower() not in names] + CORS
            headers.append(("Content-Length", str(len(body))))
            if status == 200 and cache is not None:
                cache.put(key, Kept(headers, body, entry, encoded_headers(headers)), len(body))
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", list(headers))
        return [body]

    def _cached(self, environ: dict) -> tuple[ResultCache[Kept] | None, tuple, Kept | None]:
        """The current build's response cache, this request's key in it (``response_key``), and the response kept
        there."""
        self.serving.maybe_switch()  # a hit reads no build, but must still notice a newer one
        cache, key = self.serving.current.responses, response_key(environ)
        return cache, key, None if cache is None else cache.get(key)

    def kept(self, key: tuple, who: str) -> Kept | None:
        """The response kept for a GET's ``key`` (``response_key``, built by the caller without an environ),
        admitted, logged and counted as any answer; None when none is kept or ``who`` is over a limit (the
        whole path then answers: the query, or the 429)."""
        started = time.perf_counter()
        self.serving.maybe_switch()
        cache = self.serving.current.responses
        if cache is None or (hit := cache.get(key)) is None:
            return None
        try:
            with self.fairness.admit(who):
                pass
        except Refused:
            return None
        self._log("GET", hit.entry, 200, started, len(hit.body))
        return hit

    def _refuse(self, method: str, who: str, refused: Refused, start_response: Callable) -> Iterable[bytes]:
        """429 at the least cost: counted in the metrics as every request is, logged once a second a client."""
        body = (refused.message + "\n").encode()
        metrics = self.app.extensions.get("kgapp.metrics")
        if metrics is not None:
            metrics.refused.labels(limit=refused.limit).inc()
            metrics.request(PATH, 429)
        self.refusals.refused(method, who, refused.limit, len(body))
        start_response("429 TOO MANY REQUESTS", [*REFUSAL_HEADERS, *refused.headers.items(),
                                                 ("Content-Length", str(len(body)))])
        return [body]

    def _query(self, environ: dict, args: DecodedParams, entry: dict, who: str, lane: Lane,
               posted: Posted | None = None, form: DecodedParams | None = None
               ) -> Steps[tuple[int, list[tuple[str, str]], bytes]]:
        base = self._endpoint(environ)
        query = parse_request("POST" if posted else "GET", environ.get("CONTENT_TYPE"), args,
                              MultiDict() if form is None else form, posted.body if posted else b"",
                              max_length=self.config.max_query_length, base_iri=base)
        if query is None:  # a POST without a query after all: Flask's path answers it (a service description)
            raise WouldWait
        entry.update(form=query_form(query.text) or "?", id=hashlib.sha256(query.text.encode()).hexdigest()[:12])
        served = self.serving.acquire()
        try:
            result = yield from served.executor.steps(query, environ.get("HTTP_ACCEPT"), base + "#" + ROW_CAP_ANCHOR,
                                                      who, lane)
        finally:
            self.serving.release(served)
        entry.update(rows=result.rows, truncated=result.truncated)
        headers = [("Content-Type", result.content_type), (ROWS, str(result.rows))]
        if result.truncated:
            headers.append((TRUNCATED, "true"))
        return 200, headers, result.body

    def _endpoint(self, environ: dict) -> str:
        """The endpoint's absolute URL for this request (kgapp.web.urls.root_url_for), kept per URL parts."""
        key = tuple(environ.get(k) for k in URL_PARTS)
        url = self._endpoints.get(key)
        if url is None:
            if len(self._endpoints) >= 256:  # Host is the client's to write: keep the memory bounded
                self._endpoints.clear()
            url = self._endpoints[key] = root_url_for(Request(environ), self.config,
                                                      self.app.config.get("KGAPP_BOUND")) + PATH
        return url

    def _log(self, method: str, entry: dict, status: int, started: float, size: int) -> None:
        ms = (time.perf_counter() - started) * 1000
        metrics = self.app.extensions.get("kgapp.metrics")
        if metrics is not None:
            metrics.request(PATH, status)
            metrics.query(entry["form"], ms / 1000, status, bool(entry.get("truncated")))
        log.info("method=%s form=%s status=%d ms=%.1f rows=%s truncated=%s bytes=%s query=%s", method,
                 entry["form"], status, ms, entry.get("rows", "-"), str(entry.get("truncated", False)).lower(),
                 size, entry["id"])
