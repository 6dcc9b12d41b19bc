"""Per-client SPARQL budget, WDQS-style: query-seconds per minute and parallel queries.

A client is an IP address plus a User-Agent. Each has a bucket of SPARQL_CLIENT_BUDGET
query-seconds that refills continuously (the full budget per minute); a finished query
costs the seconds it ran. A client whose bucket is below zero, or that already has
SPARQL_CLIENT_PARALLEL queries running or waiting, is answered 429 with Retry-After.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from loader.base.errors import BigtentError

_PRUNE_ABOVE = 10000  # clients remembered before idle, full buckets are forgotten


@dataclass
class _Bucket:
    seconds: float
    updated: float
    running: int = 0


class ClientBudget:
    """Admission control for one endpoint."""

    def __init__(self, seconds_per_minute: float, parallel: int) -> None:
        self.capacity = seconds_per_minute
        self.rate = seconds_per_minute / 60.0
        self.parallel = parallel
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _bucket(self, client: str, now: float) -> _Bucket:
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = _Bucket(self.capacity, now)
        else:
            bucket.seconds = min(self.capacity, bucket.seconds + (now - bucket.updated) * self.rate)
            bucket.updated = now
        return bucket

    def admit(self, client: str) -> None:
        """Let one query of ``client`` start, or raise 429 with Retry-After."""
        now = time.monotonic()
        with self._lock:
            bucket = self._bucket(client, now)
            if self.parallel and bucket.running >= self.parallel:
                raise BigtentError(
                    f"You already have {bucket.running} query(ies) running; each client (IP "
                    f"address and User-Agent) may run {self.parallel} at a time (setting "
                    "SPARQL_CLIENT_PARALLEL). Wait for it to finish.",
                    title="Too many requests",
                    status=429,
                    retry_after=1,
                )
            if self.capacity and bucket.seconds < 0:
                wait = math.ceil(-bucket.seconds / self.rate)
                raise BigtentError(
                    f"Your queries used more than {self.capacity:g} query-seconds in the last "
                    "minute, the budget of each client (IP address and User-Agent; setting "
                    f"SPARQL_CLIENT_BUDGET). Try again in {wait} s.",
                    title="Too many requests",
                    status=429,
                    retry_after=max(1, wait),
                )
            bucket.running += 1

    def finish(self, client: str, seconds: float) -> None:
        """A query admitted for ``client`` ended after running ``seconds``."""
        now = time.monotonic()
        with self._lock:
            bucket = self._bucket(client, now)
            bucket.running = max(0, bucket.running - 1)
            if self.capacity:
                bucket.seconds -= seconds
            if len(self._buckets) > _PRUNE_ABOVE:
                self._prune(now)

    def _prune(self, now: float) -> None:
        for client in [
            c
            for c, b in self._buckets.items()
            if b.running == 0
            and min(self.capacity, b.seconds + (now - b.updated) * self.rate) >= self.capacity
        ]:
            del self._buckets[client]
