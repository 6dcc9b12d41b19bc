"""Entity pages that show the network (loader/discovery/neighbourhood.py,
webapp/templates/_entity_network.html): an organisation's partnerships, networks,
endorsements and funders; a network's members; a capacity's broader and narrower
capacities and who offers or needs it; a territory's organisations and people; a
partnership's picture; a property's usage; old revisions as pages; and the privacy of
all of it (a hidden person is neither listed nor counted).

Facts from the demo catalogue (loader/data/demo/*.ttl)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pages_support import Page, squash
from staff_support import catalogue, login, staff_app

from loader.discovery import neighbourhood
from loader.staff.accounts import ADMIN, EDITOR

WMF = "Q1000"  # Wikimedia Foundation: six partnerships, endorses four organisations
MOZILLA_VIDEO = "Q1205"  # WMF – Mozilla open video partnership, since 2009-01
MOZILLA = "Q1009"  # technology partner in it
MUSEUM = "Q1020"  # Serra Azul Community Museum (fictional), in Q1208 (assessed)
ASSESSED = "Q1208"
CIRCLE = "Q1021"  # lead partner (Q113) of Q1208
HIVE = "Q1100"  # Hive Learning Networks: members Q1050-Q1052 with roles and start times
HIVE_MEMBER = "Q1050"
CLUB = "Q1061"  # Amara Okonkwo is a member
PERSON = "Q1500"  # Amara Okonkwo: offers Q334, needs Q361, territories Q1411 and Q1421
OFFERED = "Q334"
TERRITORY = "Q1411"
CAPACITY_ROOT = "Q300"  # has narrower capacities (ontology/capacities.ttl)
GERMANY = "Q1401"  # organisations located there (loader/data/demo/organisations.ttl)
WMDE = "Q1001"  # Wikimedia Deutschland, located in Germany
PARTICIPANT = "P5"


def _section_body(html: str, key: str) -> str:
    match = re.search(
        rf'<section[^>]*aria-labelledby="{key}-h"[^>]*>(.*?)</section>', html, flags=re.S
    )
    assert match, f"no section {key}"
    return squash(re.sub(r"<[^>]+>", " ", match.group(1)))


def section_html(html: str, key: str) -> str:
    match = re.search(
        rf'<section[^>]*aria-labelledby="{key}-h"[^>]*>(.*?)</section>', html, flags=re.S
    )
    assert match, f"no section {key}"
    return match.group(1)


def get(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url, headers={"Accept-Language": "en"})
    text = response.get_data(as_text=True)
    assert response.status_code == status, (url, response.status_code, text[:500])
    return text


@pytest.fixture
def staff(make_app: Callable[..., Flask]) -> tuple[Flask, FlaskClient, str]:
    app = staff_app(make_app, {"eve": EDITOR, "ada": ADMIN})
    client = app.test_client()
    return app, client, login(client, "ada")


def hide(client: FlaskClient, token: str, entity: str) -> None:
    response = client.post(
        f"/api/entity/{entity}/hide",
        json={"reason": "asked to leave the public registry"},
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def edit_description(client: FlaskClient, token: str, entity: str, text: str) -> None:
    record: dict[str, Any] = client.get(f"/api/entity/{entity}").get_json()
    record["base_revision"] = record.pop("revision")
    record.pop("modified")
    record["descriptions"]["en"] = text
    saved = client.put(
        f"/api/entity/{entity}",
        json={**record, "summary": "clearer description"},
        headers={"X-CSRF-Token": token},
    )
    assert saved.status_code == 200, saved.get_json()


# --- organisations -----------------------------------------------------------------------
def test_an_organisation_page_lists_its_partnerships_with_partners_period_and_status(
    client: FlaskClient,
) -> None:
    html = get(client, f"/page/{MUSEUM}")
    body = section_html(html, "partnerships")
    assert f'href="/page/{ASSESSED}"' in body
    text = _section_body(html, "partnerships")
    assert "Lusophone Open Knowledge Circle" in text and "lead partner" in text  # partner, role
    assert "assessed" in text  # status
    assert "content sharing" in text  # activity type (Q131)
    assert "as content partner" in text  # the museum's own role

    wmf = get(client, f"/page/{WMF}")
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", section_html(wmf, "partnerships"), re.S)
    assert len(rows) == 6
    video = next(r for r in rows if f"/page/{MOZILLA_VIDEO}" in r)
    assert f"/page/{MOZILLA}" in video and "technology partner" in video
    assert "2009-01" in video  # the period: since January 2009
    assert f'/page/{WMF}"' not in video  # the organisation itself is not its own partner


def test_partnerships_are_their_own_section_not_cut_off_in_what_links_here(
    client: FlaskClient,
) -> None:
    html = get(client, f"/page/{WMF}")
    page = Page(html)
    headings = [squash(h.text) for h in page.find("h2")]
    assert any(h.startswith("Partnerships") for h in headings)
    assert any(h.startswith("Endorsements given") for h in headings)
    endorsed = _section_body(html, "endorses")
    assert "(4)" in squash(page.by_id("endorses-h").text) and "CK-12 Foundation" in endorsed
    ck12 = get(client, "/page/Q1012")
    assert f'href="/page/{WMF}"' in section_html(ck12, "endorsed_by")
    assert "low-cost adaptable K-12 textbook materials" in _section_body(ck12, "endorsed_by")
    funder = get(client, "/page/Q1006")  # Open Society Institute funded the wiki-to-print work
    assert 'href="/page/Q1203"' in section_html(funder, "funds")
    assert 'href="/page/Q1006"' in section_html(get(client, "/page/Q1203"), "funded_by")


def test_sections_are_sorted_by_label(client: FlaskClient) -> None:
    html = get(client, f"/page/{WMF}")
    labels = [
        squash(re.sub(r"<[^>]+>", "", m))
        for m in re.findall(
            r'<tr><th scope="row"><a [^>]*>(.*?)</a>', section_html(html, "partnerships")
        )
    ]
    assert labels == sorted(labels, key=str.casefold) and len(labels) == 6


def test_long_sections_are_paged_with_plain_links(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(neighbourhood, "PAGE_SIZE", 4)
    first = get(client, f"/page/{WMF}")
    body = section_html(first, "partnerships")
    assert body.count('<tr><th scope="row">') == 4
    nav = Page(body).find("a", rel="next")
    assert len(nav) == 1
    link = nav[0].attrs["href"]
    assert parse_qs(urlsplit(link).query) == {"partnerships_page": ["2"]}
    second = get(client, link.split("#")[0])
    rest = section_html(second, "partnerships")
    assert rest.count('<tr><th scope="row">') == 2
    shown = set(re.findall(r"/page/(Q12\d\d)", body)) | set(re.findall(r"/page/(Q12\d\d)", rest))
    assert len(shown) == 6
    assert Page(rest).find("a", rel="prev")
    missing = get(client, f"/page/{WMF}?partnerships_page=3", 404)
    assert "partnerships_page=3" in missing
    bad = get(client, f"/page/{WMF}?partnerships_page=abc", 400)
    assert "partnerships_page" in bad


def test_memberships_and_members_with_roles_and_periods(client: FlaskClient) -> None:
    member = get(client, f"/page/{HIVE_MEMBER}")
    text = _section_body(member, "memberships")
    assert f'href="/page/{HIVE}"' in section_html(member, "memberships")
    assert "member" in text and "2013-09" in text

    network = get(client, f"/page/{HIVE}")
    rows = re.findall(r'<tr><th scope="row">(.*?)</tr>', section_html(network, "members"), re.S)
    assert len(rows) == 3
    first = next(r for r in rows if f'/page/{HIVE_MEMBER}"' in r)
    assert "member" in first and "2013-09" in first
    assert any("partner" in r for r in rows)


# --- partnerships ------------------------------------------------------------------------
def test_a_partnership_page_draws_its_parties(client: FlaskClient) -> None:
    html = get(client, f"/page/{ASSESSED}")
    picture = section_html(html, "parties")
    svg = re.search(r"<svg[^>]*>.*?</svg>", picture, re.S)
    # a group, not an image: an image may hold no links (axe: nested-interactive)
    assert svg and 'role="group"' in svg.group(0)
    for party in (MUSEUM, CIRCLE):
        assert f'href="/page/{party}"' in svg.group(0)
    assert svg.group(0).count("<circle") + svg.group(0).count("<path") == 2
    assert "lead partner" in _section_body(html, "parties")


# --- capacities --------------------------------------------------------------------------
def test_a_capacity_page_counts_who_offers_and_needs_it_with_links_to_peers(
    client: FlaskClient,
) -> None:
    html = get(client, f"/page/{OFFERED}")
    holders = section_html(html, "holders")
    links = {a.attrs["href"] for a in Page(holders).find("a")}
    offer = next(link for link in links if "direction=offer" in link)
    assert parse_qs(urlsplit(offer).query) == {"capacity": [OFFERED], "direction": ["offer"]}
    answer = client.get(offer.replace("/peers", "/api/peers"))
    total = answer.get_json()["total"]
    assert total >= 1
    assert re.search(
        rf"\b{total} (person or organisation offers|people or organisations offer)", squash(holders)
    )


def test_a_capacity_page_lists_narrower_and_broader_capacities(client: FlaskClient) -> None:
    root = get(client, f"/page/{CAPACITY_ROOT}")
    narrower = section_html(root, "narrower")
    children = re.findall(r'href="/page/(Q\d+)"', narrower)
    assert children
    child = get(client, f"/page/{children[0]}")
    assert f'href="/page/{CAPACITY_ROOT}"' in section_html(child, "broader")


# --- territories -------------------------------------------------------------------------
def test_a_territory_page_lists_its_organisations_and_counts_people(client: FlaskClient) -> None:
    html = get(client, f"/page/{GERMANY}")
    assert f'href="/page/{WMDE}"' in section_html(html, "organisations")
    territory = get(client, f"/page/{TERRITORY}")
    people = _section_body(territory, "people")
    assert re.search(r"\b[1-9]\d* (person is|people are) located here", people)
    assert "Amara" not in people  # counted, never named


# --- properties --------------------------------------------------------------------------
def test_a_property_page_counts_its_uses_and_links_to_them(client: FlaskClient, app: Flask) -> None:
    """Regression: the page of P5 said "Nothing links here" though partnerships use it."""
    cat = catalogue(app)
    rows = cat.select(
        "SELECT (COUNT(?st) AS ?n) WHERE { GRAPH ?g { ?e p:P5 ?st } }",
    )
    statements = int(rows[0]["n"].value)
    assert statements >= 22
    html = get(client, f"/page/{PARTICIPANT}")
    links = _section_body(html, "links")
    assert "Nothing links here" not in links
    assert f"in {statements} statements" in links
    every = get(client, f"/page/{PARTICIPANT}/links")
    assert f'href="/page/{MOZILLA_VIDEO}#' in every
    assert f"in {statements} statements" in squash(re.sub(r"<[^>]+>", " ", every))


def test_what_links_here_counts_statements_and_qualifiers_apart(client: FlaskClient) -> None:
    html = get(client, "/page/Q115")  # "content partner": a role, used in qualifiers
    links = _section_body(html, "links")
    assert re.search(r"\b\d+ qualifiers?\b", links)


# --- old revisions -----------------------------------------------------------------------
def test_an_old_revision_is_shown_with_a_banner(
    staff: tuple[Flask, FlaskClient, str],
) -> None:
    """Regression: /page/Q…?revision=N silently showed the current version."""
    app, client, token = staff
    cat = catalogue(app)
    first = cat.revisions.history(WMF)[-1]
    edit_description(client, token, WMF, "a brand new description")
    public = app.test_client()
    html = get(public, f"/page/{WMF}?revision={first.id}")
    assert "a brand new description" not in html
    banner = squash(re.sub(r"<[^>]+>", " ", html.split('class="revision-banner"')[1][:2000]))
    assert f"revision {first.id} of Wikimedia Foundation" in banner
    assert first.author in banner
    page = Page(html)
    hrefs = {a.attrs.get("href", "") for a in page.find("a")}
    assert f"/page/{WMF}" in hrefs and f"/page/{WMF}/history" in hrefs
    assert any(h.startswith(f"/page/{WMF}/diff?") for h in hrefs)
    assert "a brand new description" in get(public, f"/page/{WMF}")


def test_revision_numbers_are_checked(client: FlaskClient, app: Flask) -> None:
    cat = catalogue(app)
    other = cat.revisions.history("Q1001")[0].id
    missing = get(client, f"/page/{WMF}?revision={other}", 404)
    assert f"has no revision {other}" in missing
    for bad in ("abc", "0", "-1", "9" * 40):
        text = get(client, f"/page/{WMF}?revision={bad}", 400)
        assert "revision" in text
    assert f"has no revision {'9' * 18}" in get(client, f"/page/{WMF}?revision={'9' * 18}", 404)


# --- the smaller defects -----------------------------------------------------------------
def test_the_gone_page_links_the_history(staff: tuple[Flask, FlaskClient, str]) -> None:
    """Regression: the 410 page said the history was available without linking it."""
    _app, client, token = staff
    deleted = client.delete(
        "/api/entity/Q1210",
        json={"reason": "fictional example no longer needed"},
        headers={"X-CSRF-Token": token},
    )
    assert deleted.status_code == 200, deleted.get_data(as_text=True)
    html = get(client, "/page/Q1210", 410)
    assert 'href="/page/Q1210/history"' in html


@pytest.mark.parametrize(("path", "suggested"), [("q1000", WMF), ("Wikimedia_Foundation", WMF)])
def test_a_bad_page_id_gets_suggestions(client: FlaskClient, path: str, suggested: str) -> None:
    """Regression: /page/q1000 and /page/Some_Name gave no suggestions (only /entity/ did)."""
    html = get(client, f"/page/{path}", 404)
    suggestions = section_html(html, "suggestions")
    assert f'href="/page/{suggested}"' in suggestions


def test_a_hidden_persons_page_offers_no_dead_end_edit_links(
    staff: tuple[Flask, FlaskClient, str],
) -> None:
    """Regression: a hidden person's page offered Edit/Merge/Delete, which all refuse."""
    _app, client, token = staff
    before = Page(get(client, f"/page/{PERSON}"))
    assert before.find("a", href=f"/edit/{PERSON}")
    hide(client, token, PERSON)
    page = Page(get(client, f"/page/{PERSON}"))
    for action in ("", "/merge", "/delete"):
        assert not page.find("a", href=f"/edit/{PERSON}{action}")
    assert page.find("form", action=f"/admin/unhide/{PERSON}") or "Show this person again" in (
        get(client, f"/page/{PERSON}")
    )


# --- privacy -----------------------------------------------------------------------------
def test_a_hidden_person_is_neither_listed_nor_counted(
    staff: tuple[Flask, FlaskClient, str],
) -> None:
    app, client, token = staff
    public = app.test_client()

    def people_here() -> int:
        found = re.search(
            r"\b(\d+) (person is|people are)",
            _section_body(get(public, f"/page/{TERRITORY}"), "people"),
        )
        assert found
        return int(found.group(1))

    def offering() -> int:
        return int(public.get(f"/api/peers?capacity={OFFERED}&direction=offer").get_json()["total"])

    def offer_count() -> str:
        return squash(_section_body(get(public, f"/page/{OFFERED}"), "holders"))

    club = get(public, f"/page/{CLUB}")
    assert f'href="/page/{PERSON}"' in section_html(club, "members")
    people, offers = people_here(), offering()
    assert f"{offers} " in offer_count()
    first = catalogue(app).revisions.history(PERSON)[-1].id
    assert "Amara Okonkwo" in get(public, f"/page/{PERSON}?revision={first}")

    hide(client, token, PERSON)
    club = get(public, f"/page/{CLUB}")
    assert "Amara" not in club and f"/page/{PERSON}" not in club
    assert people_here() == people - 1
    assert offering() == offers - 1
    assert f"{offers - 1} " in offer_count() if offers > 1 else "Nobody offers" in offer_count()
    hidden = public.get(f"/page/{PERSON}?revision={first}")
    unknown = public.get(f"/page/Q999999?revision={first}")
    assert hidden.status_code == unknown.status_code == 404
    assert "Amara" not in hidden.get_data(as_text=True)
