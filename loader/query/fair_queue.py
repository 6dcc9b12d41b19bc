"""The waiting room of the SPARQL workers: per-client queues served fairly.

When every worker is busy, queries wait here, each client in its own first-in-first-out
queue. A freed worker goes to the waiting client that holds the fewest workers, ties
going to the client served longest ago or never (round-robin), so a client with many
queries waiting cannot make another client's single query wait behind all of them. No client
holds more than ``share`` workers at once (the service passes SPARQL_WORKERS − 1, so
with two or more workers one is always left for everyone else).

The room holds ``capacity`` queries in all. When it is full, a newcomer with nothing
waiting yet still gets in if some client has several waiting: the newest of those is
turned away instead, so a crowd from one client cannot lock others out.

Not thread-safe on its own: :class:`loader.query.service.QueryService` uses it under
its lock.
"""

from __future__ import annotations

from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class FairQueue(Generic[T]):
    """Waiting items by client (see the module docstring)."""

    def __init__(self, share: int, capacity: int) -> None:
        self.share = max(1, share)
        self.capacity = max(0, capacity)
        self._queues: dict[str, deque[T]] = {}
        self._running: dict[str, int] = {}
        self._served: dict[str, int] = {}  # when each client last got a worker (a count)
        self._ticks = 0
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Items waiting, all clients together."""
        return self._waiting

    def running(self, client: str) -> int:
        """Workers ``client`` holds now."""
        return self._running.get(client, 0)

    def push(self, client: str, item: T) -> T | None:
        """Queue ``item`` for ``client``. Returns the item turned away when the room is
        full: ``item`` itself, or another client's newest waiting item."""
        if self._waiting >= self.capacity:
            if client in self._queues:
                return item
            crowded = max(self._queues, key=lambda c: len(self._queues[c]), default=None)
            if crowded is None or len(self._queues[crowded]) < 2:
                return item
            turned_away = self._queues[crowded].pop()
            self._waiting -= 1
        else:
            turned_away = None
        self._queues.setdefault(client, deque()).append(item)
        self._waiting += 1
        return turned_away

    def remove(self, client: str, item: T) -> bool:
        """Take a waiting ``item`` out (it gave up); False when it is not waiting."""
        queue = self._queues.get(client)
        if queue is None or item not in queue:
            return False
        queue.remove(item)
        self._waiting -= 1
        if not queue:
            del self._queues[client]
        return True

    def pop(self) -> tuple[str, T] | None:
        """The next item to give a free worker to, and its client (counted as holding
        one more worker), or None when no waiting client may take one."""
        eligible = [c for c in self._queues if self._running.get(c, 0) < self.share]
        if not eligible:
            return None
        client = min(eligible, key=lambda c: (self._running.get(c, 0), self._served.get(c, -1)))
        queue = self._queues[client]
        item = queue.popleft()
        if not queue:
            del self._queues[client]
        self._waiting -= 1
        self._running[client] = self._running.get(client, 0) + 1
        self._ticks += 1
        self._served[client] = self._ticks
        return client, item

    def done(self, client: str) -> None:
        """``client`` gave a worker back."""
        held = self._running.get(client, 0) - 1
        if held > 0:
            self._running[client] = held
        else:
            self._running.pop(client, None)
            if client not in self._queues:
                self._served.pop(client, None)  # forget idle clients (memory stays bounded)
