"""The language switch: remembers the interface language a reader chose (a cookie), then
goes back to the page they were on, and only ever to a page of this site."""

from __future__ import annotations

from flask import Blueprint, redirect, request
from werkzeug.wrappers import Response

from webapp.http.i18n import COOKIE, COOKIE_MAX_AGE, UI_LANGUAGES
from webapp.http.redirects import safe_next

bp = Blueprint("i18n", __name__)  # the endpoint keeps its name: templates link "i18n.switch"


@bp.get("/language")
def switch() -> Response:
    """Remember the interface language chosen with the switch, and go back."""
    chosen = request.args.get("to", "")
    response = redirect(safe_next(request.args.get("next")), code=303)
    if chosen in UI_LANGUAGES:
        response.set_cookie(
            COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax", secure=request.is_secure
        )
    return response
