"""Partnership assessment: the criteria grid on partnership pages and /partnerships."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from webapp.public import partnerships


def section(html: str, marker: str) -> str:
    return html.split(marker, 1)[1].split("</section>", 1)[0]


def grid(html: str) -> dict[str, str]:
    """Criterion label -> the rest of its row, as text."""
    found = {}
    body = section(html, 'aria-labelledby="assessment-h"').split("<tbody>", 1)[1]
    body = body.split("</tbody>", 1)[0]
    for row in body.split("<tr")[1:]:
        head, rest = row.split("</th>", 1)
        found[_text(head.split(">", 1)[1])] = _text(rest)
    return found


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_assessed_partnership_shows_its_grid(client: FlaskClient) -> None:
    html = client.get("/page/Q1208").get_data(as_text=True)
    assessment = section(html, 'aria-labelledby="assessment-h"')
    assert "assessed" in _text(assessment.split("</dd>", 1)[0])  # status
    assert "Memorandum of understanding" in assessment
    assert "No governing document" not in assessment
    rows = grid(html)
    assert set(rows) == {
        "preconditions met",
        "shared objectives",
        "complexity",
        "availability of funding or resources",
    }
    assert rows["preconditions met"].startswith("met")
    assert "3" in rows["shared objectives"].split()
    assert "2025" in rows["complexity"]


def test_missing_criteria_and_documents_are_flagged(client: FlaskClient) -> None:
    declined = client.get("/page/Q1210").get_data(as_text=True)
    rows = grid(declined)
    assert not rows["preconditions met"].startswith("Not assessed")
    assert [c for c, rest in rows.items() if rest == "Not assessed"] == [
        "shared objectives",
        "complexity",
        "availability of funding or resources",
    ]
    assert "No governing document" in section(declined, 'aria-labelledby="assessment-h"')
    unassessed = section(
        client.get("/page/Q1200").get_data(as_text=True), 'aria-labelledby="assessment-h"'
    )
    assert "No assessment recorded" in unassessed
    assert "No status recorded" in unassessed


def test_other_entities_have_no_assessment(client: FlaskClient) -> None:
    html = client.get("/page/Q1000").get_data(as_text=True)
    assert 'id="assessment-h"' not in html


def test_partnerships_by_status_with_flags(client: FlaskClient) -> None:
    response = client.get("/partnerships")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    groups = {}
    for part in html.split("<section")[1:]:
        heading = _text(part.split("</h2>", 1)[0].split(">", 1)[1])
        items = {}
        for item in part.split('<li><a href="/page/')[1:]:
            items[item.split('"', 1)[0]] = _text(item.split("</li>\n    </ul>")[0])
        groups[heading.rsplit(" (", 1)[0]] = items
    assert set(groups["proposed"]) == {"Q1209"}
    assert set(groups["assessed"]) == {"Q1208"}
    assert set(groups["declined"]) == {"Q1210"}
    assert set(groups["No status recorded"]) == {f"Q{n}" for n in range(1200, 1208)}
    assert "No assessment" not in groups["assessed"]["Q1208"]
    assert "No governing document" not in groups["assessed"]["Q1208"]
    assert "No governing document" in groups["declined"]["Q1210"]
    assert "No assessment" not in groups["declined"]["Q1210"].replace("No assessment recorded", "")
    assert "No assessment" in groups["No status recorded"]["Q1200"]
    assert "No governing document" in groups["No status recorded"]["Q1200"]
    assert "3 without a governing document" not in html
    assert "8 without an assessment, 9 without a governing document" in html


# --- /partnerships at scale: the first of each status, each list page by page --------------
def _lists(html: str) -> dict[str, str]:
    """Name of each list the navigation offers -> its URL."""
    nav = html.split('class="register-lists"', 1)[1].split("</nav>", 1)[0]
    found = {}
    for item in nav.split("<li>")[1:]:
        if 'href="' in item:
            href = item.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
            found[_text(item.split("</a>", 1)[0]).strip()] = href
    return found


def _listed(html: str) -> list[str]:
    return re.findall(r'<li><a href="/page/(Q\d+)"', html)


def test_each_status_and_what_partnerships_lack_is_a_list_of_its_own(
    client: FlaskClient,
) -> None:
    lists = _lists(client.get("/partnerships").get_data(as_text=True))
    assert lists["No status recorded"] == "/partnerships?status=none"
    assert lists["Without an assessment"] == "/partnerships?missing=assessment"
    declined = client.get(lists["declined"]).get_data(as_text=True)
    assert _listed(declined) == ["Q1210"]
    assert "<h2" in declined and "declined" in _text(declined.split("<h2", 1)[1])
    assert _listed(client.get(lists["No status recorded"]).get_data(as_text=True)) == [
        f"Q{n}" for n in range(1200, 1208)
    ]
    lacking = _listed(client.get(lists["Without a governing document"]).get_data(as_text=True))
    assert len(lacking) == 9 and "Q1210" in lacking and "Q1208" not in lacking
    both = client.get(lists["declined"] + "&missing=assessment").get_data(as_text=True)
    assert _listed(both) == []
    assert "No partnerships match." in both


def test_the_overview_shows_the_first_of_each_status_and_links_to_the_rest(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(partnerships, "PER_PAGE", 3)
    overview = client.get("/partnerships").get_data(as_text=True)
    unset = overview.split('id="status-none"', 1)[1].split("</section>", 1)[0]
    assert _listed(unset) == ["Q1200", "Q1201", "Q1202"]
    assert 'href="/partnerships?status=none"' in unset
    assert "All 8 partnerships with this status" in _text(unset)
    first = client.get("/partnerships?status=none").get_data(as_text=True)
    assert _listed(first) == ["Q1200", "Q1201", "Q1202"]
    assert "Page 1 of 3" in first
    assert 'rel="next" href="/partnerships?status=none&amp;page=2"' in first
    last = client.get("/partnerships?status=none&page=3").get_data(as_text=True)
    assert _listed(last) == ["Q1206", "Q1207"]
    assert 'rel="prev"' in last and 'rel="next"' not in last


@pytest.mark.parametrize(
    ("query", "status", "names"),
    [
        ("status=Q99999", 400, ["status='Q99999'", "none"]),
        ("status=%3Cscript%3E", 400, ["is not a partnership status"]),
        ("missing=everything", 400, ["missing='everything'", "assessment or document"]),
        ("status=none&page=9", 404, ["page 9 does not exist"]),
        ("page=2", 404, ["page 2 does not exist"]),
        ("page=0", 400, ["page=", "whole number"]),
    ],
)
def test_bad_list_arguments_say_what_is_accepted(
    client: FlaskClient, query: str, status: int, names: list[str]
) -> None:
    response = client.get(f"/partnerships?{query}", headers={"Accept": "application/json"})
    assert response.status_code == status
    message = response.get_json()["error"]
    for name in names:
        assert name in message, message
