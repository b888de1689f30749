"""Abuse limits for the reactions API: a sliding one-minute window per key (reader, network),
and known automated user agents. Plain Python, process-local (one process owns the database,
so one process sees every request)."""

from __future__ import annotations

import functools
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0

# Substrings of user agents that announce automation. A tap from one is refused, never counted.
BOT_AGENT = re.compile(
    r"bot\b|bot/|crawler|spider|slurp|facebookexternalhit|headlesschrome|curl/|wget/|"
    r"python-requests|python-urllib|go-http-client|java/|libwww|scrapy",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)  # browsers send a handful of distinct agents
def is_bot(user_agent: str | None) -> bool:
    return bool(user_agent and BOT_AGENT.search(user_agent))


class RateLimiter:
    """At most `limit` events per key in any 60-second window."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """0 if `key` may act now (and counts this act), else whole seconds to wait."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - WINDOW_SECONDS:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(1, math.ceil(hits[0] + WINDOW_SECONDS - now))
            hits.append(now)
            if len(self._hits) > 100_000:  # forget idle keys so memory stays bounded
                self._hits = {
                    k: v for k, v in self._hits.items() if v and v[-1] > now - WINDOW_SECONDS
                }
            return 0
