"""A small in-process token bucket per client IP for public verification.

Per worker process: with N gunicorn workers a client may get up to N times the configured rate,
and a restart forgets the buckets. Configure with REGISTRY_VERIFY_RATE_PER_MINUTE (refill rate)
and REGISTRY_VERIFY_BURST (bucket size); a rate of 0 turns the limit off.
"""

from __future__ import annotations

import math
import threading
import time

_MAX_CLIENTS = 50_000  # forget idle clients beyond this, so the table cannot grow without bound


class TokenBucket:
    """`burst` requests at once, refilled at `per_minute` a minute, for each client key."""

    def __init__(self, per_minute: float, burst: int, clock=time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = max(1, burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, client: str) -> float | None:
        """Spend one token; None when allowed, else the seconds until a token is available."""
        if self.rate <= 0:
            return None
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > _MAX_CLIENTS:
                    self._forget_full(now)
                return None
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        for client, (tokens, last) in list(self._buckets.items()):
            if tokens + (now - last) * self.rate >= self.burst:
                del self._buckets[client]

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))
