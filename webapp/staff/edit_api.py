"""The JSON edit API: read a record with its revision, create, save, revert, delete, merge.

Reads are public (the catalogue is open data); every write needs a staff session with
the right role and the session's CSRF token in ``X-CSRF-Token``. Records are sent as
the JSON model (see :mod:`loader.records.record_model`) or as Turtle (``text/turtle``, short
or full form, relative prefixes resolved against BASE_URL; a new record describes
``wd:new``). Errors: 401 not logged in, 403 role or CSRF, 404 unknown, 409 conflict
(with both versions), 410 deleted or merged, 413 too big, 422 invalid (problems per
field), 428 no base revision.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, make_response, request, url_for

from loader.base.errors import BigtentError, NotFound
from loader.base.namespaces import ENTITY_ID
from loader.base.rdf import syntaxes
from loader.editing.editor import Submission
from loader.publish.revision_diffs import diff_revisions, revision_model
from loader.records.record_model import model_json
from loader.staff.accounts import ADMIN, EDITOR
from loader.storage.visibility import not_found
from webapp.http import auth
from webapp.http.bodies import BodyLimit, limit_blueprint, parse_json
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.negotiation import best_type, not_acceptable
from webapp.http.rdf_response import serialise
from webapp.staff.accounts import session_json

bp = Blueprint("edit_api", __name__, url_prefix="/api")
limit_blueprint(bp, BodyLimit("EDIT_MAX_BYTES"))

#: The RDF syntaxes a record may be sent or read in besides JSON.
RDF_TYPES = {s.media_type: s.rdf_format for s in syntaxes("ttl", "nt")}
JSON = "application/json"


def _entity_id(entity_id: str) -> str:
    if not ENTITY_ID.match(entity_id):
        raise NotFound(f"{entity_id[:40]!r} is not an entity id: ids look like Q42 or P9")
    return entity_id


def _body() -> bytes:
    """The request body, refused beyond EDIT_MAX_BYTES."""
    limit = int(get_settings().EDIT_MAX_BYTES)
    too_big = BigtentError(
        f"the record is larger than EDIT_MAX_BYTES ({limit:,} bytes); split it or raise "
        "the setting BIGTENT_EDIT_MAX_BYTES",
        title="Record too large",
        status=413,
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_big
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise too_big
    return data


def _media_type() -> str:
    return (request.mimetype or "").lower()


def _json_body(body: bytes) -> dict[str, Any]:
    data = parse_json(body)
    if not isinstance(data, dict):
        raise BigtentError("the body must be a JSON object", title="Bad request")
    return data


def _int(value: object, name: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise BigtentError(f"{name} must be a revision number")
    try:
        return int(str(value).strip().strip('"'))
    except ValueError:
        raise BigtentError(f"{name} must be a revision number, got {str(value)[:40]!r}") from None


def _unsupported() -> BigtentError:
    return BigtentError(
        f"send the record as {JSON} (the JSON record model) or as text/turtle",
        title="Unsupported media type",
        status=415,
    )


def _submission(entity: str, body: bytes, creating: bool) -> tuple[Submission, dict[str, Any]]:
    """The submitted record and the JSON envelope (empty for Turtle)."""
    editor = get_catalogue().editor
    kind = _media_type()
    if kind == JSON:
        data = _json_body(body)
        return editor.read_json(data, entity), data
    if kind in RDF_TYPES:
        return editor.read_rdf(body, entity, RDF_TYPES[kind], placeholder=creating), {}
    raise _unsupported()


def _summary(data: dict[str, Any]) -> str:
    value = data.get("summary", request.args.get("summary", ""))
    if not isinstance(value, str):
        raise BigtentError("summary must be text")
    return value.strip()[:500]


def _saved(result: Any, status: int = 200) -> Response:
    response = make_response(jsonify(result.as_dict()), status)
    response.headers["Location"] = url_for("edit_api.get_entity", entity_id=result.entity)
    return response


# --- reading ---------------------------------------------------------------------------
@bp.before_request
def _hidden_from_public() -> None:
    """A hidden person does not exist for the public, here as everywhere: it gets the
    same 404 as for an id no entity has (410 once erased)."""
    entity = (request.view_args or {}).get("entity_id")
    if isinstance(entity, str) and ENTITY_ID.match(entity) and auth.current() is None:
        cat = get_catalogue()
        if cat.revisions.state(entity) is None:
            raise not_found(entity)
        cat.visibility.check_public(entity)


@bp.get("/session")
def session_info() -> Response:
    """Who is logged in and the CSRF token for changes."""
    return session_json()


@bp.get("/entity/<entity_id>")
def get_entity(entity_id: str) -> Response:
    """The record (JSON model, or Turtle) with the revision to base an edit on."""
    entity = _entity_id(entity_id)
    cat = get_catalogue()
    offered = [JSON, "text/turtle"]
    chosen = best_type(offered)
    if chosen is None:
        raise not_acceptable(offered)
    if chosen == JSON:
        data = cat.editor.record_json(entity)
        response = jsonify(data)
        revision = data["revision"]
    else:
        _, rev = cat.editor.current(entity)
        triples = cat.entity_triples(entity)
        body = serialise(triples, "text/turtle", cat.ns.prefixes)
        response = make_response(body)
        response.mimetype = "text/turtle"
        revision = rev.id
    response.set_etag(str(revision))
    response.headers["Cache-Control"] = "no-cache"
    response.make_conditional(request)
    return response


@bp.get("/entity/<entity_id>/revisions/<int:revision>")
def get_revision(entity_id: str, revision: int) -> Response:
    """The record as it was after one revision (JSON model)."""
    entity = _entity_id(entity_id)
    cat = get_catalogue()
    model = revision_model(cat.repository, entity, revision)
    data = model_json(model, cat.editor.property_types())
    data["revision"] = revision
    return jsonify(data)


@bp.get("/entity/<entity_id>/history")
def history(entity_id: str) -> Response:
    """Every revision of the entity, newest first."""
    entity = _entity_id(entity_id)
    revisions = get_catalogue().revisions.history(entity)
    if not revisions:
        raise NotFound(f"there is no entity {entity} in this catalogue")
    return jsonify(
        {
            "id": entity,
            "revisions": [
                {
                    "revision": r.id,
                    "number": r.number,
                    "parent": r.parent,
                    "time": r.time,
                    "author": r.author,
                    "summary": r.summary,
                    "action": r.action,
                    "redirect": r.redirect,
                }
                for r in revisions
            ],
        }
    )


@bp.get("/entity/<entity_id>/diff")
def diff(entity_id: str) -> Response:
    """What changed between two revisions (``?from=N&to=M``; ``to`` defaults to the
    newest, ``from`` to the revision before ``to``)."""
    entity = _entity_id(entity_id)
    cat = get_catalogue()
    history = cat.revisions.history(entity)
    if not history:
        raise NotFound(f"there is no entity {entity} in this catalogue")
    new = _int(request.args.get("to"), "to") or history[0].id
    old = _int(request.args.get("from"), "from")
    if old is None:
        newer = next((r for r in history if r.id == new), None)
        if newer is None or newer.parent is None:
            raise BigtentError(f"revision {new} of {entity} has no earlier revision: give ?from=")
        old = newer.parent
    result = diff_revisions(cat.repository, entity, old, new)
    return jsonify(result.as_dict(cat.editor.property_types()))


# --- writing ---------------------------------------------------------------------------


@bp.post("/entity")
@auth.write_access(EDITOR)
def create() -> Response:
    """Create an item (or, with type "property", a property)."""
    body = _body()
    envelope = _json_body(body) if _media_type() == JSON else {}
    kind = str(envelope.get("type") or request.args.get("type") or "item")
    if kind not in ("item", "property"):
        raise BigtentError('type must be "item" or "property"')
    editor = get_catalogue().editor
    result = editor.create(
        lambda entity: _submission(entity, body, creating=True)[0],
        author=auth.author(),
        summary=_summary(envelope),
        kind="P" if kind == "property" else "Q",
    )
    return _saved(result, 201)


@bp.put("/entity/<entity_id>")
@auth.write_access(EDITOR)
def save(entity_id: str) -> Response:
    """Save an edit made on ``base_revision`` (JSON field, ``?base_revision=`` or
    ``If-Match``); merged with newer revisions when nothing conflicts, else 409."""
    entity = _entity_id(entity_id)
    body = _body()
    submission, envelope = _submission(entity, body, creating=False)
    base = _int(
        envelope.get("base_revision")
        or request.args.get("base_revision")
        or request.headers.get("If-Match"),
        "base_revision",
    )
    result = get_catalogue().editor.save(
        entity, submission, base, author=auth.author(), summary=_summary(envelope)
    )
    latest = get_catalogue().revisions.state(entity)
    return make_response(jsonify(result.as_dict(latest.latest if latest else None)), 200)


@bp.post("/entity/<entity_id>/revert")
@auth.write_access(EDITOR)
def revert(entity_id: str) -> Response:
    """Make the entity what it was after ``revision`` (a new revision)."""
    entity = _entity_id(entity_id)
    data = _json_body(_body()) if _media_type() == JSON else request.form.to_dict()
    revision = _int(data.get("revision"), "revision")
    if revision is None:
        raise BigtentError("say which revision to go back to (revision)", status=422)
    result = get_catalogue().editor.revert(
        entity,
        revision,
        author=auth.author(),
        summary=_summary(data),
        base=_int(data.get("base_revision"), "base_revision"),
    )
    latest = get_catalogue().revisions.state(entity)
    return jsonify(result.as_dict(latest.latest if latest else None))


@bp.delete("/entity/<entity_id>")
@auth.write_access(ADMIN)
def delete(entity_id: str) -> Response:
    """Delete the entity with a reason (``reason`` in the JSON body or the query)."""
    entity = _entity_id(entity_id)
    body = _body()
    data = _json_body(body) if body.strip() and _media_type() == JSON else {}
    reason = data.get("reason", request.args.get("reason", ""))
    if not isinstance(reason, str):
        raise BigtentError("reason must be text")
    rev = get_catalogue().editor.delete(
        entity,
        reason[:500],
        author=auth.author(),
        base=_int(data.get("base_revision", request.args.get("base_revision")), "base_revision"),
    )
    return jsonify({"ok": True, "id": entity, "revision": rev.id, "deleted": True})


@bp.post("/entity/<entity_id>/merge")
@auth.write_access(EDITOR)
def merge(entity_id: str) -> Response:
    """Merge this entity into ``into``; it then redirects there."""
    entity = _entity_id(entity_id)
    data = _json_body(_body())
    target = data.get("into")
    if not isinstance(target, str) or not ENTITY_ID.match(target):
        raise BigtentError('say which entity to merge into: {"into": "Q…"}', status=422)
    redirect, target_rev = get_catalogue().editor.merge(
        entity, target, author=auth.author(), summary=_summary(data)
    )
    return jsonify(
        {
            "ok": True,
            "id": entity,
            "into": target,
            "revision": redirect.id,
            "target_revision": target_rev.id,
        }
    )


@bp.post("/entity/<entity_id>/hide")
@auth.write_access(EDITOR)
def hide(entity_id: str) -> Response:
    """Hide a person item from the public (``reason`` in the JSON body: required)."""
    entity = _entity_id(entity_id)
    data = _json_body(_body())
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        raise BigtentError("reason must be text", status=422)
    rev = get_catalogue().editor.hide(entity, reason, author=auth.author())
    return jsonify({"ok": True, "id": entity, "revision": rev.id, "hidden": True})


@bp.post("/entity/<entity_id>/unhide")
@auth.write_access(EDITOR)
def unhide(entity_id: str) -> Response:
    """Show a hidden person item again (optional ``summary`` in the JSON body)."""
    entity = _entity_id(entity_id)
    body = _body()
    data = _json_body(body) if body.strip() else {}
    rev = get_catalogue().editor.unhide(entity, author=auth.author(), summary=_summary(data))
    return jsonify({"ok": True, "id": entity, "revision": rev.id, "hidden": False})
