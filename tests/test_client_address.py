"""Who the client is (``webapp/http/clients.py``): its address, and behind trusted
proxies only, the rightmost untrusted hop of X-Forwarded-For."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from loader.base.errors import ConfigError
from webapp import create_app
from webapp.http.clients import client_address, forwarded_client, trusted_proxies

PROXIES = trusted_proxies("127.0.0.1, 10.0.0.0/8 ::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("127.0.9.9", ["1.2.3.4"], "127.0.9.9"),  # not a proxy: its header means nothing
        ("127.0.0.1", [], "127.0.0.1"),  # the proxy itself asked
        ("127.0.0.1", ["1.2.3.4"], "1.2.3.4"),
        ("127.0.0.1", ["6.6.6.6, 1.2.3.4"], "1.2.3.4"),  # the client wrote the left part
        ("127.0.0.1", ["1.2.3.4, 10.1.1.1"], "1.2.3.4"),  # a chain of trusted proxies
        ("127.0.0.1", ["6.6.6.6", "1.2.3.4"], "1.2.3.4"),  # header fields in order
        ("127.0.0.1", ["1.2.3.4, not-an-address"], "127.0.0.1"),  # stops at garbage
        ("127.0.0.1", ["10.0.0.1, 10.0.0.2"], "10.0.0.1"),  # all trusted: the first one
        ("::ffff:127.0.0.1", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("::1", ["1.2.3.4:5678"], "1.2.3.4"),
    ],
)
def test_the_rightmost_untrusted_hop_is_the_client(
    peer: str, forwarded: list[str], client: str
) -> None:
    assert forwarded_client(peer, forwarded, PROXIES) == client


def test_without_trusted_proxies_the_header_is_ignored() -> None:
    app = Flask(__name__)
    for config, expected in (({}, "127.0.0.5"), ({"TRUSTED_PROXIES": "127.0.0.5"}, "1.2.3.4")):
        app.config["BIGTENT_TRUSTED_PROXIES"] = config.get("TRUSTED_PROXIES", "")
        environ = {"REMOTE_ADDR": "127.0.0.5"}
        with app.test_request_context(
            headers={"X-Forwarded-For": "1.2.3.4", "User-Agent": "x"}, environ_base=environ
        ):
            assert client_address() == expected


def test_a_wrong_trusted_proxy_stops_the_app_at_start(
    make_settings: Callable[..., Any],
) -> None:
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        create_app(make_settings(TRUSTED_PROXIES="127.0.0.1 proxy.example"))
