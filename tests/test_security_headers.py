"""Security headers: a Content-Security-Policy with no inline script on everything a
browser renders, framing refused except for the embeddable views, and nosniff and a
referrer policy on every response."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

TEMPLATES = Path(__file__).resolve().parents[1] / "webapp" / "templates"


def test_pages_allow_only_this_sites_scripts_and_refuse_framing(client: FlaskClient) -> None:
    for path in ("/", "/page/Q1000", "/query", "/peers", "/statistics", "/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy, path
        assert "unsafe-eval" not in policy and "'unsafe-inline'" not in policy.split(";")[1]
        assert "frame-ancestors 'none'" in policy, path
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_embeddable_views_may_be_framed(client: FlaskClient) -> None:
    for path in ("/network", "/network.svg"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
        assert "X-Frame-Options" not in response.headers


def test_data_responses_carry_nosniff_and_no_policy(client: FlaskClient) -> None:
    response = client.get("/data/Q1000.json")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in response.headers


def test_no_template_has_inline_script_or_event_handlers() -> None:
    """What the policy would block must not be there: every <script> loads a file or
    holds JSON data, and no element carries an on…= handler."""
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert " src=" in tag or re.search(r'type="application/(ld\+)?json"', tag), (
                template.name,
                tag,
            )
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text), template.name
