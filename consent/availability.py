"""Whether the database answers. After a failure, requests that need it are told so at once (503, Retry-After)
for a few seconds, instead of each waiting for its own connection attempt to time out; the banner endpoint keeps
serving the versions it holds in memory meanwhile."""

from __future__ import annotations

import time

COOL_DOWN_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5


class DatabaseGate:
    def __init__(self, cool_down: float = COOL_DOWN_SECONDS):
        self.cool_down = cool_down
        self._down_until = 0.0

    @property
    def open(self) -> bool:
        """False while the database recently failed: do not wait on it."""
        return time.monotonic() >= self._down_until

    def failed(self) -> None:
        self._down_until = time.monotonic() + self.cool_down
