"""Per-client SPARQL budget, WDQS-style: query-seconds per minute and parallel queries.

A client is its network address (``client_key``: an IPv4 address, or the /64 network of
an IPv6 address, which one subscriber usually has whole), never its User-Agent or
anything else a request says about itself. Each client has a bucket of
SPARQL_CLIENT_BUDGET query-seconds that refills continuously (the full budget per
minute). A query is charged from the moment it gets a worker until it ends, however it
ends (answered, failed, stopped at the time limit), and a running query counts against
the bucket while it runs, so a client cannot start new queries on seconds its running
ones are already using. A client whose bucket is empty, or that already has
SPARQL_CLIENT_PARALLEL queries running or waiting, is answered 429 with Retry-After.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from loader.base.errors import BigtentError

_PRUNE_ABOVE = 10000  # clients remembered before idle, full buckets are forgotten


def client_key(address: str) -> str:
    """The budget key of a client address: the address itself, or for IPv6 its /64
    network (one household or server usually has all of it)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


@dataclass
class _Bucket:
    seconds: float  # the balance at ``updated``, not counting running queries
    updated: float
    admitted: int = 0  # queries running or waiting
    started: list[float] = field(default_factory=list)  # when each running query started


class ClientBudget:
    """Admission control for one endpoint (see the module docstring)."""

    def __init__(
        self,
        seconds_per_minute: float,
        parallel: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = seconds_per_minute
        self.rate = seconds_per_minute / 60.0
        self.parallel = parallel
        self._clock = clock
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

    def balance(self, client: str) -> float:
        """Query-seconds ``client`` has left now, its running queries charged so far."""
        now = self._clock()
        with self._lock:
            return self._balance(self._bucket(client, now), now)

    @staticmethod
    def _balance(bucket: _Bucket, now: float) -> float:
        return bucket.seconds - sum(now - began for began in bucket.started)

    def admit(self, client: str) -> None:
        """Let one query of ``client`` start or wait for a worker, or raise 429 with
        Retry-After."""
        now = self._clock()
        with self._lock:
            bucket = self._bucket(client, now)
            if self.parallel and bucket.admitted >= self.parallel:
                raise BigtentError(
                    f"You already have {bucket.admitted} query(ies) running or waiting; each "
                    f"client (network address) may have {self.parallel} at a time (setting "
                    "SPARQL_CLIENT_PARALLEL). Wait for it to finish.",
                    title="Too many requests",
                    status=429,
                    retry_after=1,
                )
            left = self._balance(bucket, now)
            if self.capacity and left <= 0:
                wait = max(1, math.ceil(-left / self.rate))
                raise BigtentError(
                    f"Your queries used the {self.capacity:g} query-seconds each client "
                    "(network address) may use per minute (setting SPARQL_CLIENT_BUDGET; it "
                    f"refills continuously). Try again in {wait} s.",
                    title="Too many requests",
                    status=429,
                    retry_after=wait,
                )
            bucket.admitted += 1

    def start(self, client: str) -> float:
        """A query admitted for ``client`` got a worker: it is charged from now. Returns
        the start time, for :meth:`finish`."""
        now = self._clock()
        with self._lock:
            self._bucket(client, now).started.append(now)
        return now

    def finish(self, client: str, seconds: float, started: float | None = None) -> None:
        """A query admitted for ``client`` ended after running ``seconds`` (0 when it never
        got a worker); ``started`` is what :meth:`start` returned, if it was called."""
        now = self._clock()
        with self._lock:
            bucket = self._bucket(client, now)
            bucket.admitted = max(0, bucket.admitted - 1)
            if started is not None and started in bucket.started:
                bucket.started.remove(started)
            if self.capacity:
                bucket.seconds -= seconds
            if len(self._buckets) > _PRUNE_ABOVE:
                self._prune(now)

    def _prune(self, now: float) -> None:
        for client in [
            c
            for c, b in self._buckets.items()
            if b.admitted == 0
            and min(self.capacity, b.seconds + (now - b.updated) * self.rate) >= self.capacity
        ]:
            del self._buckets[client]
