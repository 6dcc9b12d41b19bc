"""HTTP clients on other loopback addresses.

Every address of 127.0.0.0/8 is this machine, so a client that binds its connections to
127.0.0.2, 127.0.0.3, … reaches a server listening on 127.0.0.1 as a *different client*:
what per-client limits (SPARQL budgets, login throttling) tell apart. Traffic never
leaves the loopback interface.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _FromAddress(HTTPAdapter):
    """Binds every connection's local end to one address."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_at(address: str) -> requests.Session:
    """A session whose requests come from ``address`` (a 127.x.y.z loopback address)."""
    if not address.startswith("127."):
        raise ValueError(f"{address} is not a loopback address")
    session = requests.Session()
    adapter = _FromAddress(address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
