"""What a peers result shows: matched and unmatched criteria, the whole offer (level,
ways of sharing, languages, territories), a consented contact route; and criteria chosen
without Ctrl-click or a cut-off (every value a checkbox without JavaScript)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient

from loader.discovery.browse import member_count, subclasses
from loader.discovery.contact import PAGE, WIKIMEDIA, page_route, wiki_email_url

ASKED = "capacity=Q300,Q303&language=Q250&territory=Q1401&modality=Q230"
#: A username with characters a URL must encode (quote, ampersand, question mark, ë).
USERNAME = 'Zoë & "Ada" O\'Neil?'
ENCODED = "Zo%C3%AB_%26_%22Ada%22_O%27Neil%3F"
CONTACT_PAGE = "https://profiles.example.org/ada?tab=contact&lang=en"
_TURTLE_USERNAME = USERNAME.replace('"', '\\"')
REACHABLE = f"""
wd:Q5300 a wikibase:Item ;
  rdfs:label "Ada Reachable"@en ;
  schema:description "fictional person for a test"@en ;
  wdt:P1 wd:Q11 ;
  wdt:P54 "{_TURTLE_USERNAME}" ;
  wdt:P55 <{CONTACT_PAGE}> ;
  p:P14 [ ps:P14 wd:Q334 ; pq:P38 wd:Q230 ; pq:P39 wd:Q250 ] .
"""


def html(response: Any) -> BeautifulSoup:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def result(doc: BeautifulSoup, entity: str) -> Any:
    for li in doc.select("ol.results.peers > li"):
        if li.find("a", href=f"/page/{entity}"):
            return li
    raise AssertionError(f"{entity} is not a result")


def test_a_result_lists_the_criteria_it_does_not_match(client: FlaskClient) -> None:
    doc = html(client.get(f"/peers?{ASKED}"))
    jonas = result(doc, "Q1505")  # financial management, English, Germany; expert
    matched = jonas.select_one(".criteria-matched").get_text(" ", strip=True)
    unmatched = jonas.select_one(".criteria-unmatched").get_text(" ", strip=True)
    assert "organizational structure" in matched and "Germany" in matched
    assert "community health" in unmatched and "training" in unmatched
    assert "community health" not in matched
    body = client.get(f"/api/peers?{ASKED}").get_json()
    first = body["results"][0]
    assert first["id"] == "Q1505"
    missing = first["unmatched"]
    assert [c["id"] for c in missing["capacities"]] == ["Q303"]
    assert [c["id"] for c in missing["modalities"]] == ["Q230"]
    assert missing["languages"] == [] and missing["territories"] == []
    every_result = body["results"]
    for r in every_result:  # matched and unmatched together are exactly what was asked
        for key in ("capacities", "languages", "territories", "modalities"):
            asked = [c["id"] for c in body["criteria"][key]]
            got = [c["id"] for c in r[key]] + [c["id"] for c in r["unmatched"][key]]
            assert sorted(got) == sorted(asked)


def test_a_result_shows_the_whole_offer_level_included(client: FlaskClient) -> None:
    doc = html(client.get(f"/peers?{ASKED}"))
    offer = result(doc, "Q1505").select_one("dl.offer").get_text(" ", strip=True)
    assert "Level expert" in offer  # from "capacity known" (P13) with proficiency P37
    assert "mentoring" in offer and "consulting" in offer  # ways of sharing, none asked
    assert "German" in offer and "Netherlands" in offer  # beyond the asked English, Germany
    reason = client.get(f"/api/peers?{ASKED}").get_json()["results"][0]["reasons"][0]
    assert [v["label"] for v in reason["offer"]["levels"]] == ["expert"]
    assert {v["id"] for v in reason["offer"]["languages"]} > {"Q250"}


def test_people_without_a_contact_route_have_no_contact_link(client: FlaskClient) -> None:
    page = client.get(f"/peers?{ASKED}")
    doc = html(page)
    assert result(doc, "Q1505").select_one("a.contact-link") is None
    text = page.get_data(as_text=True)
    assert "mailto:" not in text and "tel:" not in text
    assert all(r["contact"] == [] for r in client.get(f"/api/peers?{ASKED}").get_json()["results"])


@pytest.fixture
def reachable(make_app: Callable[..., Flask], write_ttl: Callable[[str, str], Path]) -> Flask:
    app = make_app(CONTACT_WIKI_BASE="https://wiki.example.org/w/")
    report = app.extensions["bigtent"].load_paths([write_ttl("reachable.ttl", REACHABLE)])
    assert report.ok, report
    return app


def test_a_consented_contact_route_is_a_contact_link(reachable: Flask) -> None:
    client = reachable.test_client()
    doc = html(client.get("/peers?capacity=Q334"))
    ada = result(doc, "Q5300")
    links = ada.select("a.contact-link")
    assert [a["href"] for a in links] == [
        f"https://wiki.example.org/w/Special:EmailUser/{ENCODED}",
        CONTACT_PAGE,
    ]
    assert all(a["rel"] == ["nofollow", "noopener"] for a in links)
    assert "Contact" in links[0].get_text() and USERNAME in links[0].get_text()
    raw = client.get("/peers?capacity=Q334").get_data(as_text=True)
    assert '"Ada"' not in raw.split("Special:EmailUser/")[1].split('"')[0]
    assert "tab=contact&amp;lang=en" in raw  # escaped in the attribute
    body = client.get("/api/peers?capacity=Q334").get_json()
    ada_json = next(r for r in body["results"] if r["id"] == "Q5300")
    assert [c["kind"] for c in ada_json["contact"]] == [WIKIMEDIA, PAGE]
    assert ada_json["contact"][0]["url"].endswith(ENCODED)


def test_only_web_pages_are_contact_pages() -> None:
    assert page_route("https://example.org/me") is not None
    assert page_route("http://example.org") is not None
    for bad in (
        "javascript:alert(1)",
        "mailto:ada@example.org",
        "tel:+441234",
        "ftp://x.org/",
        "//x",
    ):
        assert page_route(bad) is None, bad
    assert wiki_email_url("https://meta.wikimedia.org/wiki/", "Ada  Lovelace") == (
        "https://meta.wikimedia.org/wiki/Special:EmailUser/Ada_Lovelace"
    )
    assert wiki_email_url("https://w.example/wiki/", "a/b") == (
        "https://w.example/wiki/Special:EmailUser/a%2Fb"
    )


def test_every_value_can_be_chosen_without_javascript_or_ctrl_click(
    app: Flask, client: FlaskClient
) -> None:
    page = client.get("/peers?capacity=Q310&language=Q250")
    doc = html(page)
    assert doc.select("select[multiple]") == []  # no Ctrl-click lists
    assert "more" not in doc.select_one("form.peers-form").get_text()  # no "and N more"
    index = app.extensions["bigtent"].page_index
    for name, cls in (("capacity", "Q5"), ("language", "Q12"), ("territory", "Q9")):
        fieldset = doc.select_one(f"fieldset#peers-{name}[data-multiselect]")
        assert fieldset.find("legend") is not None
        assert fieldset.select_one("details.choices") is not None
        boxes = fieldset.select(f"input[type=checkbox][name={name}]")
        assert len(boxes) == member_count(index, subclasses(index, cls)), name
        assert len(boxes) > 15 or name == "language", name  # the demo has 14 languages
    checked = [b["value"] for b in doc.select("input[type=checkbox]:checked")]
    assert "Q310" in checked and "Q250" in checked
    assert doc.select_one("input[name=modality]") is not None
