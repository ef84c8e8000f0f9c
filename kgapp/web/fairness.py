"""Fair use of the query slots: per-client concurrency and a per-client token bucket, both answered 429.

A client is its peer address, or (only when the peer is listed in ``trusted_proxies``) the nearest
address in X-Forwarded-For that is not itself a trusted proxy, so a client cannot pick its own identity.
``max_queries_per_client`` bounds the queries one client runs at once (when it is lower than
``max_concurrent_queries``; the global slots already bound the rest); ``rate_limit`` queries per second
with bursts of ``rate_burst`` is a token bucket per client (0: off); ``max_query_time_per_client`` bounds the
seconds of query time a client used lately (the query slots' decayed sum, kgapp.sparql.gate: at a steady
rate r it settles at r × 10 s), so a client of heavy queries gets its share of the time, not of the count
(0: off). All answer 429 with Retry-After.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import request

from kgapp.config import Config
from kgapp.errors import ProtocolError
from kgapp.sparql.gate import DECAY
from kgapp.sparql.lane import WouldWait
from kgapp.web.urls import split_list

MAX_TRACKED = 10_000  # clients remembered; idle ones are forgotten beyond this


@dataclass
class _Client:
    running: int = 0
    tokens: float = 0.0
    seen: float = field(default_factory=time.monotonic)


class Fairness:
    """Per-client admission for endpoint queries (one per app)."""

    def __init__(self, config: Config, recent_use: Callable[[str], float] = lambda who: 0.0):
        limit = config.max_queries_per_client
        self.concurrency = limit if 0 < limit < config.max_concurrent_queries else 0
        self.rate, self.burst = float(config.rate_limit), max(1, int(config.rate_burst))
        self.time_share, self.recent_use = max(0.0, config.max_query_time_per_client), recent_use
        self.trusted = set(split_list(config.trusted_proxies))
        self._clients: dict[str, _Client] = {}
        self._lock = threading.Lock()

    def client_id(self, peer: str | None, forwarded_for: str | None) -> str:
        """Who is asking: the peer, or the first untrusted hop in X-Forwarded-For when the peer is a trusted proxy."""
        peer = peer or "-"
        if peer.lower() not in self.trusted or not forwarded_for:
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if hop.lower() not in self.trusted:
                return hop
        return hops[0] if hops else peer

    @property
    def limited(self) -> bool:
        return bool(self.concurrency or self.rate or self.time_share)

    def would_refuse(self, who: str) -> Refused | None:
        """The refusal ``admit`` would raise for ``who`` now, without taking anything: lets a refusal be
        answered before the request is dispatched (kgapp.web.lean), as cheaply as possible."""
        if not self.limited:
            return None
        with self._lock:
            client = self._clients.get(who)
            if client is None:
                return None
            return self._refusal(who, client, client.tokens + (time.monotonic() - client.seen) * self.rate)

    def _refusal(self, who: str, client: _Client, tokens: float) -> Refused | None:
        if self.rate and min(self.burst, tokens) < 1:
            wait = math.ceil((1 - tokens) / self.rate)
            return Refused("rate", f"Too many queries from {who}: at most {self.rate:g} per second "
                                   f"(bursts of {self.burst}). Try again in {wait} s.", wait)
        used = self.recent_use(who) if self.time_share else 0.0
        if used > self.time_share > 0:
            wait = math.ceil(DECAY * math.log(used / self.time_share))
            return Refused("time", f"{who} used {used:.3g} s of query time lately, more than the "
                                   f"{self.time_share:g} s a client may use in about ten seconds. Try again in "
                                   f"{max(1, wait)} s.", wait)
        if self.concurrency and client.running >= self.concurrency:
            return Refused("concurrency", f"{who} already runs {client.running} queries, the most one client "
                                          "may run at once; wait for one to finish.", 1)
        return None

    @contextmanager
    def admit(self, who: str) -> Iterator[None]:
        """Run the body as one of ``who``'s queries, or raise 429 (ProtocolError) if it may not run now."""
        if not self.limited:
            yield
            return
        with self._lock:
            client = self._client(who)
            if self.rate:
                now = time.monotonic()
                client.tokens = min(self.burst, client.tokens + (now - client.seen) * self.rate)
                client.seen = now
            refusal = self._refusal(who, client, client.tokens)
            if refusal is not None:
                raise refusal
            if self.rate:
                client.tokens -= 1
            client.running += 1
        try:
            yield
        except WouldWait:  # tried on an event loop, to be run again in a thread: that run pays the token
            if self.rate:
                with self._lock:
                    client.tokens += 1
            raise
        finally:
            with self._lock:
                client.running -= 1

    def _client(self, who: str) -> _Client:
        client = self._clients.get(who)
        if client is None:
            if len(self._clients) >= MAX_TRACKED:
                self._forget_idle()
            client = self._clients[who] = _Client(tokens=float(self.burst))
        return client

    def _forget_idle(self) -> None:
        idle = sorted((c.seen, who) for who, c in self._clients.items() if c.running == 0)
        for _, who in idle[:len(idle) // 2 + 1]:
            del self._clients[who]


class RefusalLog:
    """Log lines for refusals: the first of a client's each second, then how many more there were.

    A client that ignores Retry-After is refused thousands of times a second; a log line each would cost
    more than the refusals themselves (and flood the log). The metrics still count every one.
    """

    def __init__(self, log: logging.Logger, window: float = 1.0):
        self.log, self.window = log, window
        self._last: dict[str, list] = {}  # who -> [when the last line was written, refusals since]
        self._lock = threading.Lock()

    def refused(self, method: str, who: str, limit: str, size: int) -> None:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(who)
            if last is not None and now - last[0] < self.window:
                last[1] += 1
                return
            since = last[1] if last is not None else 0
            if len(self._last) >= MAX_TRACKED:
                self._last.clear()
            self._last[who] = [now, 0]
        self.log.info("method=%s form=- status=429 ms=0.0 rows=- truncated=false bytes=%d query=- refused=%s "
                      "client=%s more_refused_before=%d", method, size, limit, who, since)


class Refused(ProtocolError):
    """A query refused for fairness: 429 with Retry-After; ``limit`` says which (concurrency, rate or time)."""

    def __init__(self, limit: str, message: str, retry_after: int):
        super().__init__(429, message, {"Retry-After": str(max(1, retry_after))})
        self.limit = limit


def current_client(fairness: Fairness) -> str:
    return fairness.client_id(request.remote_addr, request.headers.get("X-Forwarded-For"))
