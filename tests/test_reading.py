"""Reading well in four languages: dates, times and numbers per locale, datatypes by
their names, sort order by the reader's collation, the favicon, and the defects of
issue 13 (confirmation shown twice, one participant slot, participant search offering
partnerships, validation problems in stages, demo partnerships without start dates)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from form_support import form_fields
from staff_support import login, staff_app

from loader.base.collation import sort_key, sorted_by_label
from loader.base.errors import ConfigError
from webapp.http.formatting import ago, by_label, check_timezone, parse_instant, when
from webapp.http.ui_terms import DATATYPES

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "webapp" / "templates"
STAMP = "2024-05-03T10:11:12Z"
UTC_ZONE = ZoneInfo("UTC")
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d")


# --- dates and times ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "date_part", "zone"),
    [
        ("en", "May 3, 2024", "UTC"),
        ("fr", "3 mai 2024", "TU"),
        ("es", "3 may 2024", "UTC"),
        ("pt", "3 de mai. de 2024", "UTC"),
    ],
)
def test_timestamps_read_as_the_reader_writes_them(locale: str, date_part: str, zone: str) -> None:
    text = when(STAMP, locale=locale, tz=UTC_ZONE)
    assert date_part in text and "10:11" in text and text.endswith(zone), text
    assert "T10" not in text and "Z" not in text.replace("UTC", "")


def test_the_time_zone_setting_moves_the_clock_and_names_the_zone() -> None:
    text = when(STAMP, locale="fr", tz=ZoneInfo("Europe/Paris"))
    assert "12:11" in text and text.endswith("+0200"), text


def test_dates_and_bad_values() -> None:
    assert when("2024-05-03", locale="fr") == "3 mai 2024"
    assert when("not a date", locale="fr") == "not a date"  # shown as it is, never an error
    assert when(None, locale="fr") == ""
    assert parse_instant("2024-05-03T10:11:12") == datetime(2024, 5, 3, 10, 11, 12, tzinfo=UTC)


def test_relative_times() -> None:
    now = datetime(2024, 5, 6, 10, 11, 12, tzinfo=UTC)
    assert ago(STAMP, locale="en", now=now) == "3 days ago"
    assert ago(STAMP, locale="fr", now=now) == "il y a 3 jours"
    assert ago(STAMP, locale="pt", now=now) == "há 3 dias"


def test_a_bad_time_zone_names_the_setting() -> None:
    assert check_timezone("America/Sao_Paulo").key == "America/Sao_Paulo"
    with pytest.raises(ConfigError, match="TIMEZONE"):
        check_timezone("Mars/Olympus_Mons")


def test_no_template_prints_a_raw_timestamp() -> None:
    """Every time a template prints goes through ``| when`` (or ``| ago``)."""
    raw = re.compile(
        r'(?<!datetime=")\{\{\s*[\w.]+\.(?:time|modified|published|generated|created)\s*\}\}'
        r"|replace\('T', ' '\)"
    )
    found = [
        f"{path.name}:{number}: {line.strip()[:120]}"
        for path in sorted(TEMPLATES.glob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if raw.search(line)
    ]
    assert found == []


# --- sort order -----------------------------------------------------------------------------


def test_french_sorts_accented_letters_with_their_base_letter() -> None:
    countries = ["France", "Égypte", "Danemark", "États-Unis", "Estonie", "Zambie"]
    ordered = sorted(countries, key=sort_key("fr"))
    assert ordered == ["Danemark", "Égypte", "Estonie", "États-Unis", "France", "Zambie"]
    assert sorted(countries) != ordered  # code-point order puts "É" after "Z"


def test_spanish_sorts_enye_after_n() -> None:
    words = ["Ñandú", "Oso", "Nube", "nada", "ñu"]
    assert sorted(words, key=sort_key("es")) == ["nada", "Nube", "Ñandú", "ñu", "Oso"]
    assert sorted(words, key=sort_key("en"))[:2] == ["nada", "Ñandú"]  # n and ñ alike


def test_ties_are_broken_by_accents_then_case() -> None:
    assert sorted(["Côte", "cote", "côte", "Cote"], key=sort_key("fr")) == [
        "cote",
        "Cote",
        "côte",
        "Côte",
    ]
    pairs = [("Q2", "Égypte"), ("Q1", "France"), ("Q3", "Danemark")]
    assert [q for q, _ in sorted_by_label(pairs, lambda p: p[1], "fr")] == ["Q3", "Q2", "Q1"]
    assert by_label(["b", "A", "á"], locale="pt") == ["A", "á", "b"]


# --- datatypes ------------------------------------------------------------------------------


def test_every_datatype_of_the_ontology_has_a_name() -> None:
    used = set()
    for path in (ROOT / "ontology").glob("*.ttl"):
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri="http://x/"):
            if quad.predicate.value == "http://wikiba.se/ontology#propertyType":
                used.add(quad.object.value.rsplit("#", 1)[-1])
    assert used and used <= set(DATATYPES), used - set(DATATYPES)


# --- pages ----------------------------------------------------------------------------------


def test_pages_show_localised_times_and_datatype_names(client: FlaskClient) -> None:
    page = client.get("/page/P5?uselang=fr").get_data(as_text=True)
    assert "propriété · Élément" in page
    assert "WikibaseItem" not in re.sub(r"<script.*?</script>|<link[^>]*>", "", page, flags=re.S)
    modified = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', page)
    assert modified is not None
    assert modified.group(1) != modified.group(2) and not ISO.search(modified.group(2))
    assert re.search(r"\d{4}", modified.group(2))
    history = client.get("/page/Q1200/history?uselang=pt").get_data(as_text=True)
    shown = re.findall(r'<time datetime="[^"]+">([^<]+)</time>', history)
    assert shown and all(" de " in t and not ISO.search(t) for t in shown), shown


def test_favicon(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/static/favicon.svg")
    with client.get("/static/favicon.svg") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
        assert b"<svg" in icon.data
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)


# --- defects --------------------------------------------------------------------------------

PERSON = "Q1500"  # Amara Okonkwo, fictional (loader/data/demo/people.ttl)


@pytest.fixture
def staff(make_app: Callable[..., Flask]) -> tuple[Flask, FlaskClient, str]:
    app = staff_app(make_app, {"eve": "editor"})
    client = app.test_client()
    return app, client, login(client, "eve")


def test_the_hide_and_unhide_confirmations_show_once(
    staff: tuple[Flask, FlaskClient, str],
) -> None:
    _app, client, token = staff
    hidden = client.post(
        f"/privacy/{PERSON}/hide",
        data={"reason": "at their request", "csrf_token": token},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert hidden.count("is hidden: only staff see it now.") == 1
    shown = client.post(
        f"/privacy/{PERSON}/unhide", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert shown.count("is public again.") == 1


def _partnership_form(client: FlaskClient) -> tuple[str, dict[str, str]]:
    page = client.get("/edit/new/Q4")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    return html, form_fields(html)


def test_the_partnership_form_offers_two_participants_of_the_right_kinds(
    staff: tuple[Flask, FlaskClient, str],
) -> None:
    _app, client, _token = staff
    html, fields = _partnership_form(client)
    rows = [k for k, v in fields.items() if k.endswith("-property") and v == "P5"]
    assert len(rows) == 2
    value = rows[0].replace("-property", "-value")
    found = re.search(rf'id="{value}"[^>]*data-class="([^"]+)"', html)
    assert found is not None, "the participant field's type-ahead has no class filter"
    classes = found.group(1).split(",")
    assert "Q1" in classes and len(classes) == 2  # organisations (networks too) and people
    # what the type-ahead asks the search: parties only, never a partnership
    hits = client.get(f"/search?format=json&q=Wikimedia&type={found.group(1)}").get_json()
    ids = [r["id"] for r in hits["results"]]
    assert "Q1000" in ids and not any(i.startswith("Q12") and len(i) == 5 for i in ids), ids
    everything = client.get("/search?format=json&q=Wikimedia").get_json()
    assert any(r["id"].startswith("Q120") for r in everything["results"])  # they do match


def test_every_problem_is_shown_at_once(staff: tuple[Flask, FlaskClient, str]) -> None:
    """A form problem (two rows for one language), an unreadable value (a bad date) and the
    shapes' verdict (one party only) come back together, not one round at a time."""
    _app, client, _token = staff
    _html, fields = _partnership_form(client)
    p5 = sorted(k for k, v in fields.items() if k.endswith("-property") and v == "P5")
    p9 = next(k for k, v in fields.items() if k.endswith("-property") and v == "P9")
    page = client.post("/edit/new/Q4", data={**fields, "action": "add-language"})
    fields = form_fields(page.get_data(as_text=True))
    fields.update(
        {
            "term-0-lang": "en",
            "term-0-label": "One-party partnership",
            "term-1-lang": "en",
            "term-1-label": "Twice English",
            p5[0].replace("property", "value"): "Q1000",
            p9.replace("property", "value"): "2021-02-30",
            "action": "save",
        }
    )
    response = client.post("/edit/new/Q4", data=fields)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "has two rows" in html  # the form's own check
    assert "there is no day 30" in html  # the value could not be read
    assert "at least two parties" in html  # the shapes


def test_most_demo_partnerships_have_a_start_date() -> None:
    quads = list(
        ox.parse(
            path=str(ROOT / "loader" / "data" / "demo" / "partnerships.ttl"),
            format=ox.RdfFormat.TURTLE,
            base_iri="http://x.test/",
        )
    )
    partnerships = {q.subject.value for q in quads if q.predicate.value.endswith("prop/direct/P1")}
    started = {q.subject.value for q in quads if q.predicate.value.endswith("prop/P9")}
    assert len(partnerships) == 11
    # every real partnership (Q1200-Q1207) has one; the fictional ones are not under way
    assert {f"http://x.test/entity/Q{n}" for n in range(1200, 1208)} <= started
