"""Looking back: readable diffs between revisions, restoring a revision, the audit view.

* ``/page/<id>/diff?from=N&to=M``: what changed, values by label (HTML or JSON); a
  hidden person's diffs are for staff alone (the public gets the unknown id's 404);
* ``POST /edit/<id>/revert``: staff restore a past revision (a new revision); when the
  entity changed since the history page was shown, nothing is written and the page
  says so, keeping the summary typed;
* ``/admin/changes``: recent changes across the catalogue for staff, filterable by
  author, class and kind of change. Editors see it too: everything in it is public in
  history pages and the change feed already, and patrolling each other's edits is
  editors' daily work; admins act on what they find.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import ENTITY_ID
from loader.editing.editor import ValidationFailed
from loader.publish.revision_diffs import compare, present
from loader.staff.accounts import EDITOR
from loader.staff.audit import KINDS, recent_changes
from webapp.http import auth
from webapp.http.caching import conditional
from webapp.http.catalogue import get_catalogue
from webapp.http.i18n import language_etag
from webapp.http.rendering import check_reader_may_see, index, language_tag, unknown_entity
from webapp.http.request_args import check_entity_id, reader_languages, wants_json

bp = Blueprint("history", __name__)

CHANGES_PER_PAGE = 50
MAX_SUMMARY = 500
MAX_AUTHOR = 200


def _revision_arg(name: str) -> int | None:
    raw = request.args.get(name, request.form.get(name))
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise BigtentError(
            f"{name}={raw[:20]!r} is not a revision number: revisions are whole numbers "
            "(see the entity's history)",
            title="Bad revision number",
        )
    return int(raw)


# --- diff ------------------------------------------------------------------------------------
@bp.get("/page/<entity_id>/diff")
def diff(entity_id: str) -> Response:
    """What changed between two revisions (``to`` defaults to the newest, ``from`` to the
    revision before ``to``)."""
    check_entity_id(entity_id)
    as_json = wants_json()
    cat = get_catalogue()
    head = cat.revisions.last_id()  # read first: a later write only makes the tag older
    history = cat.revisions.history(entity_id)
    if not history:
        raise unknown_entity(entity_id)
    # A hidden person's diff is staff's alone; the public gets the unknown id's 404 (410
    # when erased) before any revision is looked at, so no answer tells the two apart.
    hidden = check_reader_may_see(entity_id)
    new = _revision_arg("to") or history[0].id
    old = _revision_arg("from")
    if old is None:
        newer = next((r for r in history if r.id == new), None)
        if newer is None:
            raise NotFound(f"{entity_id} has no revision {new}", title="No such revision")
        if newer.parent is None:
            raise BigtentError(
                f"revision {new} is the first revision of {entity_id}: there is nothing "
                "before it to compare with",
                title="Nothing to compare",
            )
        old = newer.parent
    comparison = compare(cat.repository, entity_id, old, new)
    if as_json:
        types = {pid: info.type for pid, info in index().properties().items()}
        response = jsonify(comparison.diff.as_dict(types))
    else:
        languages = reader_languages()
        view = present(comparison, index(), languages, cat.ns["wd"])
        names = index().names([entity_id], languages)
        newer_than = [r for r in history if r.id > new]
        response = Response(
            render_template(
                "diff.html",
                entity_id=entity_id,
                names=names,
                view=view,
                state=history[0].state,
                latest=history[0].id,
                next_revision=newer_than[-1].id if newer_than else None,
                hidden=hidden,
            ),
            mimetype="text/html",
        )
    response.vary.add("Accept")
    if auth.current() is not None:
        return response  # carries the staff member's name and CSRF token
    # Keyed by the catalogue's newest revision, not the entity's: the page shows other
    # entities by label, and a label edited or a linked person hidden since must not be
    # confirmed to a cache that revalidates (304).
    tag = f"diff-{old}-{new}-r{head}-{'json' if as_json else 'html'}"
    etag = language_etag(f"{tag}-{language_tag(reader_languages())}")
    return conditional(response, etag)


# --- revert ----------------------------------------------------------------------------------
@bp.post("/edit/<entity_id>/revert")
@auth.write_access(EDITOR)
def revert(entity_id: str) -> BaseResponse:
    """Restore a past revision (form fields ``revision``, ``base_revision``, ``summary``)."""
    if not ENTITY_ID.match(entity_id):
        raise NotFound(f"{entity_id[:40]!r} is not an entity id", title="Not found")
    revision = _revision_arg("revision")
    base = _revision_arg("base_revision")
    if revision is None:
        raise BigtentError("say which revision to restore (revision)", status=422)
    if base is None:
        raise BigtentError(
            "say which revision the history page showed as the newest (base_revision)",
            status=422,
        )
    typed = request.form.get("summary", "").strip()[:MAX_SUMMARY]
    cat = get_catalogue()
    if cat.revisions.state(entity_id) is None:
        raise unknown_entity(entity_id)
    if cat.revisions.get(entity_id, base) is None:
        raise BigtentError(
            f"base_revision {base} is not a revision of {entity_id}: reload its history",
            title="Bad revision number",
            status=422,
        )
    try:
        result = cat.editor.revert(
            entity_id, revision, author=auth.author(), summary=typed, base=base
        )
    except ValidationFailed as exc:
        raise BigtentError(
            f"revision {revision} of {entity_id} cannot be restored as it is: "
            + "; ".join(p.message for p in exc.problems[:5])
            + ". Edit the record instead.",
            title="Cannot restore",
            status=422,
        ) from None
    except BigtentError as exc:
        state = cat.revisions.state(entity_id)
        if exc.status == 409 and state is not None and state.latest != base:
            return _revert_conflict(entity_id, revision, base, typed)
        raise
    target = url_for("history.diff", entity_id=entity_id)
    if result.revision is None:
        flash(_("Nothing changed: the entity is already as it was in revision %(n)s.", n=revision))
        return redirect(url_for("pages.history", entity_id=entity_id), code=303)
    flash(
        _(
            "Revision %(old)s restored as revision %(new)s.",
            old=revision,
            new=result.revision.id,
        )
    )
    if result.revision.parent is not None:
        target += f"?from={result.revision.parent}"
    return redirect(target, code=303)


def _revert_conflict(entity_id: str, revision: int, base: int, typed: str) -> BaseResponse:
    """Someone changed the entity after the history page was shown: show what, and let
    the user restore again on top of it, with the summary they typed."""
    if wants_json():
        raise BigtentError(
            f"{entity_id} has changed since revision {base}; nothing was restored. Look at "
            "its history again and restore on top of the newest revision.",
            title="Conflict",
            status=409,
        )
    cat = get_catalogue()
    newer = [r for r in cat.revisions.history(entity_id) if r.id > base]
    names = index().names([entity_id], reader_languages())
    html = render_template(
        "revert_conflict.html",
        entity_id=entity_id,
        names=names,
        revision=revision,
        base=base,
        newer=newer,
        summary=typed,
        latest=newer[0].id if newer else base,
    )
    return auth.no_store(Response(html, status=409, mimetype="text/html"))


# --- audit view ------------------------------------------------------------------------------
@bp.get("/admin/changes")
def changes() -> Response:
    """Recent changes across the catalogue (staff only)."""
    auth.require(EDITOR)
    author = request.args.get("author", "").strip() or None
    if author is not None and len(author) > MAX_AUTHOR:
        raise BigtentError(
            f"author is too long (at most {MAX_AUTHOR} characters)", title="Bad filter"
        )
    kind = request.args.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise BigtentError(
            f"kind={kind[:20]!r} is not a kind of change: use one of {', '.join(KINDS)}",
            title="Bad filter",
        )
    entity_class = request.args.get("class", "").strip() or None
    if entity_class is not None and not ENTITY_ID.match(entity_class):
        raise BigtentError(
            f"class={entity_class[:20]!r} is not a class id: use an item id such as Q5",
            title="Bad filter",
        )
    before = _revision_arg("before")
    cat = get_catalogue()
    page = recent_changes(
        cat.revisions,
        cat.page_index,
        limit=CHANGES_PER_PAGE,
        before=before,
        author=author,
        kind=kind,
        entity_class=entity_class,
    )
    languages = reader_languages()
    wanted = {r.entity for r in page.rows} | {r.redirect for r in page.rows if r.redirect}
    if entity_class:
        wanted.add(entity_class)
    names = index().names(wanted, languages)
    if wants_json():
        return auth.no_store(  # type: ignore[return-value]
            jsonify(
                {
                    "changes": [
                        {
                            "revision": r.id,
                            "entity": r.entity,
                            "time": r.time,
                            "author": r.author,
                            "action": r.action,
                            "summary": r.summary,
                            "redirect": r.redirect,
                            "parent": r.parent,
                        }
                        for r in page.rows
                    ],
                    "next_before": page.next_before,
                }
            )
        )
    html = render_template(
        "admin_changes.html",
        page=page,
        names=names,
        kinds=KINDS,
        author=author or "",
        kind=kind or "",
        entity_class=entity_class or "",
        before=before,
    )
    return auth.no_store(Response(html, mimetype="text/html"))  # type: ignore[return-value]
