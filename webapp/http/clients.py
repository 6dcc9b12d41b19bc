"""Who the client of a request is, for every per-client limit (login throttling, SPARQL
budgets): its network address, decided in this one place.

A client is the address its connection comes from, never anything the request says about
itself (a User-Agent, a cookie, a header). Behind a reverse proxy every connection comes
from the proxy, so the setting TRUSTED_PROXIES (off by default) names the proxies, by
address or network, whose ``X-Forwarded-For`` header is believed: the client is then the
rightmost address in that header that is not itself a trusted proxy. Hops to the left of
it were written by the client (or by proxies nobody vouches for) and are ignored, so a
client cannot pick its own address by sending the header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from flask import Flask, current_app, request

from loader.base.errors import ConfigError

UNKNOWN = "unknown"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def client_address() -> str:
    """The address of the client that sent this request (see the module docstring); a
    request without a remote address, as some test clients make, counts as one
    "unknown" client."""
    peer = request.remote_addr
    trusted = trusted_proxies(str(current_app.config.get("BIGTENT_TRUSTED_PROXIES", "")))
    if not trusted:
        return _normal(peer) or peer or UNKNOWN
    return forwarded_client(peer, request.headers.getlist("X-Forwarded-For"), trusted)


def forwarded_client(peer: str | None, forwarded: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client behind ``peer``: walking ``X-Forwarded-For`` (every header field, in
    order) from the right, the first address that is not a trusted proxy. A malformed hop
    stops the walk at the last trusted address reached, so nothing a client wrote is taken
    for its address."""
    current = _address(peer)
    if current is None:
        return peer or UNKNOWN
    hops = [hop.strip() for field in forwarded for hop in field.split(",")]
    for hop in reversed(hops):
        if not _is_trusted(current, trusted):
            break
        previous = _address(hop)
        if previous is None:
            break
        current = previous
    return str(current)


@lru_cache(maxsize=8)
def trusted_proxies(text: str) -> tuple[Network, ...]:
    """TRUSTED_PROXIES as networks (single addresses become /32 or /128); ConfigError
    naming the setting for anything that is not an address or network."""
    networks = []
    for item in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(
                f"TRUSTED_PROXIES: {item!r} is not an IP address or network (such as "
                "127.0.0.1, 10.0.0.0/8 or ::1)"
            ) from None
    return tuple(networks)


def init_app(app: Flask) -> None:
    """Check TRUSTED_PROXIES when the app is built, so a typo stops the server at start."""
    trusted_proxies(str(app.config.get("BIGTENT_TRUSTED_PROXIES", "")))


def _is_trusted(address: Address, trusted: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def _address(text: str | None) -> Address | None:
    """An address as a proxy writes it: bare, ``[v6]``, ``v4:port`` or ``[v6]:port``;
    an IPv4-mapped IPv6 address counts as the IPv4 address."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _normal(text: str | None) -> str | None:
    address = _address(text)
    return None if address is None else str(address)
