"""Hidden persons in the web app: who may see them, and the staff buttons that hide and
unhide them (the JSON calls are on the edit API; the rules are in ``loader.editing.privacy``).

The public never sees a hidden person: its page, history, what-links-here and data
documents answer 404 as for an id that does not exist; everything derived (search,
browse, SPARQL, dumps, feed, labels on other pages) leaves it out at the source.
Logged-in staff see its page, with a banner saying it is hidden.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from loader.base.errors import BigtentError
from loader.staff.accounts import EDITOR
from webapp.http import auth
from webapp.http.catalogue import get_catalogue
from webapp.http.request_args import check_entity_id

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


def _back(entity_id: str) -> BaseResponse:
    return redirect(url_for("pages.entity", entity_id=entity_id), code=303)


@bp.post("/<entity_id>/hide")
@auth.write_access(EDITOR)
def hide(entity_id: str) -> BaseResponse:
    """The staff button on a person's page: hide it (form field ``reason``)."""
    check_entity_id(entity_id)
    try:
        get_catalogue().editor.hide(entity_id, request.form.get("reason", ""), author=auth.author())
    except BigtentError as exc:
        flash(exc.message, "error")
        return _back(entity_id)
    flash(_("%(id)s is hidden: only staff see it now.", id=entity_id))
    return _back(entity_id)


@bp.post("/<entity_id>/unhide")
@auth.write_access(EDITOR)
def unhide(entity_id: str) -> BaseResponse:
    """The staff button on a hidden person's page: show it again."""
    check_entity_id(entity_id)
    try:
        get_catalogue().editor.unhide(entity_id, author=auth.author())
    except BigtentError as exc:
        flash(exc.message, "error")
        return _back(entity_id)
    flash(_("%(id)s is public again.", id=entity_id))
    return _back(entity_id)
