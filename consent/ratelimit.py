"""Rate limits on what visitors post: counted in Redis when the operator names one (several processes share the
counts), else in this process; per process, too, while Redis is unreachable.

The ``limits`` library does the counting. It is called from the endpoints that need it, so that no other request
(the banner endpoint above all) pays for a rate-limit check.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from limits import parse_many, storage, strategies
from limits.errors import StorageError
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
REDIS_RETRY_SECONDS = 30.0  # after Redis failed, count in memory this long before trying it again


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: str
    retry_after: int  # seconds until the window that refused resets (0 when allowed)


class RateLimiter:
    def __init__(self, spec: str, redis_url: str | None = None):
        self.limits = parse_many(spec)
        self.spec = spec
        self._memory = strategies.FixedWindowRateLimiter(storage.MemoryStorage())
        self._shared = strategies.FixedWindowRateLimiter(storage.storage_from_string(redis_url)) if redis_url else None
        self._shared_down_until = 0.0

    def hit(self, *identifiers: str) -> Verdict:
        """Count one request of ``identifiers`` against every limit; refused if any limit is exceeded."""
        counter = self._counter()
        try:
            return self._hit(counter, identifiers)
        except (StorageError, RedisError, OSError) as error:
            if counter is self._memory:
                raise
            log.warning("rate-limit store unreachable (%s): counting per process for %ss", error, REDIS_RETRY_SECONDS)
            self._shared_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            return self._hit(self._memory, identifiers)

    def _counter(self) -> strategies.FixedWindowRateLimiter:
        if self._shared is not None and time.monotonic() >= self._shared_down_until:
            return self._shared
        return self._memory

    def _hit(self, counter: strategies.FixedWindowRateLimiter, identifiers: tuple[str, ...]) -> Verdict:
        for item in self.limits:
            if not counter.hit(item, *identifiers):
                reset = counter.get_window_stats(item, *identifiers).reset_time
                return Verdict(False, str(item), max(1, int(reset - time.time() + 0.999)))
        return Verdict(True, self.spec, 0)
