"""Per-client rate limiting for the public chat (a sliding window kept in memory)."""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimiter:
    """Allow at most `limit` requests per client in any `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        # Least recently seen client first, so the ones to forget are always at the front.
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        """Record a request from client; False when it is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.pop(client, None) or deque()
            self._hits[client] = hits
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(now)
            self._forget(now)
            return allowed

    def _forget(self, now: float) -> None:
        """Drop idle clients (nothing in the window) and, past max_clients, the least recent."""
        while self._hits:
            oldest = next(iter(self._hits))
            hits = self._hits[oldest]
            idle = not hits or now - hits[-1] >= self.window
            if not idle and len(self._hits) <= self.max_clients:
                break
            del self._hits[oldest]
