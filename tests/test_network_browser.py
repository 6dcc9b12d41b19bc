"""The network view in headless Chromium: the graph is drawn from /network.json with
Cytoscape.js served by the app, and a node opens its page."""

from __future__ import annotations

import json
import urllib.request

from browser import WatchedPage
from live_server import LiveServer


def test_graph_is_drawn_and_nodes_open_their_pages(
    browser_page: WatchedPage, live_server: LiveServer
) -> None:
    page = browser_page.page
    page.goto(live_server.url + "network?activity=Q131")
    page.wait_for_selector('#network-graph[data-state="drawn"]', timeout=30000)
    assert page.locator("#network-graph canvas").count() > 0
    with urllib.request.urlopen(
        live_server.url + "network.json?activity=Q131", timeout=30
    ) as response:
        data = json.load(response)
    drawn = page.evaluate("window.bigtentNetwork.nodes().map(n => n.id()).sort()")
    assert drawn == sorted(n["id"] for n in data["nodes"])
    assert page.evaluate("window.bigtentNetwork.edges().length") == len(data["edges"])
    assert page.evaluate("window.bigtentNetwork.$id('Q1208').length") == 1
    page.evaluate("window.bigtentNetwork.$id('Q1208').emit('tap')")  # what a click fires
    page.wait_for_url(live_server.url + "page/Q1208")
    assert page.url == live_server.url + "page/Q1208"
    assert "Partnership assessment" in page.inner_text("main")
