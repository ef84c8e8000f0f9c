"""Query slots shared fairly: a waiting query of the client holding fewest slots (then least recently served) goes first.

A plain semaphore lets waiters in in whatever order the threads wake, so a client with sixteen queries
waiting gets sixteen times the turns of one with a single query. ``FairGate`` counts the slots each client
holds; when a slot frees it goes to the waiter whose client holds the fewest, ties broken by the client
served longest ago, then by arrival: round-robin by client. ``held_by(who)`` tells the executor whether a
query is its client's only one (kgapp.sparql.executor runs the others at a lower CPU priority).
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Waiter:
    who: str
    seq: int
    event: threading.Event = field(default_factory=threading.Event)
    granted: bool = False


class FairGate:
    """At most ``capacity`` holders at once; ``acquire(who, timeout)`` / ``release(who)``."""

    def __init__(self, capacity: int):
        self.capacity = max(1, capacity)
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}
        self._last: dict[str, int] = {}  # when each client holding or waiting was last let in
        self._count = 0
        self._waiting: list[_Waiter] = []
        self._seq = itertools.count(1)

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

    def release(self, who: str = "-") -> None:
        with self._lock:
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

    @property
    def in_use(self) -> int:
        return self._count

    def _grant(self) -> None:
        while self._count < self.capacity and self._waiting:
            best = min(self._waiting, key=lambda w: (self._held.get(w.who, 0), self._last.get(w.who, 0), w.seq))
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
