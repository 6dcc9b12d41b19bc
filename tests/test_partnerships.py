"""Partnership assessment: the criteria grid on partnership pages and /partnerships."""

from __future__ import annotations

import re

from flask.testing import FlaskClient


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
