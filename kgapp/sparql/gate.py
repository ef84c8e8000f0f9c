"""Query slots shared fairly: a waiting query of the client holding fewest slots (then least recently served) goes first.

A plain semaphore lets waiters in in whatever order the threads wake, so a client with sixteen queries
waiting gets sixteen times the turns of one with a single query. ``FairGate`` counts the slots each client
holds; when a slot frees it goes to the waiter whose client holds the fewest, ties broken by the client
served longest ago, then by arrival: round-robin by client. ``held_by(who)`` tells the executor whether a
query is its client's only one (kgapp.sparql.executor runs the others at a lower CPU priority).
``release(who, used)`` also counts how long the slot was held: ``recent_use(who)`` is that time summed with
a ten-second decay, so a client that has kept slots busy lately is told from one that asks now and then
(the executor runs all its queries at the lower priority, and here it waits behind the others).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from dataclasses import dataclass, field

DECAY = 10.0  # seconds: recent use falls to 1/e in this time (at a steady rate r, it settles at r * DECAY)
MAX_USERS = 10_000  # clients whose recent use is remembered; beyond it, the lightest are forgotten


@dataclass(eq=False)
class _Waiter:
    who: str
    seq: int
    event: threading.Event = field(default_factory=threading.Event)
    granted: bool = False


class FairGate:
    """At most ``capacity`` holders at once; ``acquire(who, timeout)`` / ``release(who)``."""

    def __init__(self, capacity: int, heavy_after: float = math.inf):
        self.capacity = max(1, capacity)
        self.heavy_after = heavy_after if heavy_after > 0 else math.inf  # recent use (s) that makes a client heavy
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}
        self._last: dict[str, int] = {}  # when each client holding or waiting was last let in
        self._count = 0
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count(1)
        self._used: dict[str, tuple[float, float]] = {}  # who -> (recent use in seconds, when it was counted)

    def acquire(self, who: str = "-", timeout: float | None = None) -> bool:
        """Take a slot for ``who``, waiting at most ``timeout`` seconds (None: for ever); False if none came."""
        with self._lock:
            if not self._waiting and self._count < self.capacity:  # a free slot and nobody before us
                self._take(who)
                return True
            waiter = _Waiter(who, next(self._seq))
            self._waiting.append(waiter)
            self._grant()
        if waiter.event.wait(timeout):
            return True
        with self._lock:
            if waiter.granted:  # let in just as the wait ran out
                return True
            self._waiting.remove(waiter)
            return False

    def try_acquire(self, who: str = "-") -> bool:
        """Take a slot for ``who`` only if one is free and nobody waits for it; never waits."""
        with self._lock:
            if self._waiting or self._count >= self.capacity:
                return False
            self._take(who)
            return True

    def release(self, who: str = "-", used: float = 0.0) -> None:
        """Give back a slot of ``who``'s, held for ``used`` seconds."""
        with self._lock:
            if used > 0:
                now = time.monotonic()
                self._used[who] = (self._decayed(who, now) + used, now)
            held = self._held.get(who, 0)
            if held <= 0:
                raise ValueError(f"{who} holds no slot")
            self._count -= 1
            if held == 1:
                del self._held[who]
            else:
                self._held[who] = held - 1
            self._grant()
            self._forget()

    def held_by(self, who: str) -> int:
        """Slots ``who`` holds now."""
        with self._lock:
            return self._held.get(who, 0)

    def is_heavy(self, who: str) -> bool:
        """Whether ``who`` used more than ``heavy_after`` seconds of slot time lately."""
        return self.recent_use(who) > self.heavy_after

    def recent_use(self, who: str) -> float:
        """Seconds of slot time ``who`` used lately (each second counted less as it ages: DECAY)."""
        with self._lock:
            return self._decayed(who, time.monotonic())

    def _decayed(self, who: str, now: float) -> float:
        used, at = self._used.get(who, (0.0, now))
        return used * math.exp((at - now) / DECAY)

    @property
    def in_use(self) -> int:
        return self._count

    def _grant(self) -> None:
        while self._count < self.capacity and self._waiting:
            now = time.monotonic()
            best = min(self._waiting, key=lambda w: (self._held.get(w.who, 0),
                                                     self._decayed(w.who, now) > self.heavy_after,
                                                     self._last.get(w.who, 0), w.seq))
            self._waiting.remove(best)
            self._take(best.who)
            best.granted = True
            best.event.set()

    def _take(self, who: str) -> None:
        self._count += 1
        self._held[who] = self._held.get(who, 0) + 1
        self._last[who] = next(self._seq)

    def _forget(self) -> None:
        """Keep ``_last`` to the clients that hold or wait, plus a bounded tail of recent ones."""
        if len(self._last) > 4 * self.capacity + len(self._waiting) + 64:
            keep = set(self._held) | {w.who for w in self._waiting}
            recent = sorted(self._last.items(), key=lambda kv: kv[1])[-64:]
            self._last = {who: seq for who, seq in self._last.items() if who in keep or (who, seq) in recent}
        if len(self._used) > 1024:  # forget what has decayed to nothing (a use older than a minute or so) ...
            now = time.monotonic()
            used = {who: self._decayed(who, now) for who in self._used}
            kept = sorted((u, who) for who, u in used.items() if u > 0.01)[-MAX_USERS:]  # ... or the least of many
            self._used = {who: (u, now) for u, who in kept}
