"""Staff edit forms in the browser: create and edit records, delete, merge.

The forms are derived from the shapes (:mod:`loader.editing.forms`) and save through the
same Editor as the JSON API, so validation, merging of concurrent edits and conflicts
are the Editor's. A form that does not save is shown again from what was submitted,
with every problem next to its control. Adding a language, a value, a qualifier or a
source re-renders the form on the server (no script needed); ``edit-form.js`` only adds
the type-ahead for entity values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from loader.base.errors import BigtentError, NotFound
from loader.base.ids import INSTANCE_OF
from loader.base.namespaces import ENTITY_ID
from loader.editing.editor import EditConflict, SaveResult, ValidationFailed
from loader.editing.forms import Field, PropertyInfo, RecordType
from loader.publish.revision_diffs import revision_model
from loader.records.record_model import FieldProblem, Statement, model_json, statement_json
from loader.records.threeway import keep_mine
from loader.staff.accounts import ADMIN, EDITOR
from webapp.http import auth
from webapp.http.bodies import BodyLimit, limit_blueprint, parse_json
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.errors import public_error
from webapp.http.i18n import ui_language
from webapp.http.rendering import index
from webapp.http.request_args import reader_languages
from webapp.staff.form_fields import (
    KINDS,
    PRECISIONS,
    RANKS,
    FormState,
    Placed,
    SnakRow,
    StatementRow,
    entity_id_in,
    form_problems,
    from_form,
    from_json,
    place,
    to_json,
)

bp = Blueprint("edit_forms", __name__, url_prefix="/edit")
limit_blueprint(bp, BodyLimit("EDIT_MAX_BYTES"))


# --- helpers -------------------------------------------------------------------------------


def _entity_id(entity_id: str) -> str:
    if not ENTITY_ID.match(entity_id):
        raise NotFound(f"{entity_id[:40]!r} is not an entity id: ids look like Q42 or P9")
    return entity_id


def _login_first() -> BaseResponse | None:
    """Send a reader who is not logged in to the login page (then back here)."""
    if auth.current() is None:
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")), code=303)
    auth.require(EDITOR)
    return None


def _gate(role: str = EDITOR, *, sized: bool = False) -> BaseResponse | None:
    """Who may use a form: a GET from someone not logged in goes to the login page (the
    answer to return); any other request needs ``role``, and a POST a valid CSRF token
    (and, when ``sized``, a body within EDIT_MAX_BYTES)."""
    if request.method == "GET":
        refused = _login_first()
        if refused is not None:
            return refused
        auth.require(role)
        return None
    auth.require(role)
    auth.check_csrf(auth.current())
    if sized:
        _check_size()
    return None


def _check_size() -> None:
    limit = int(get_settings().EDIT_MAX_BYTES)
    if request.content_length is not None and request.content_length > limit:
        raise BigtentError(
            f"the form is larger than EDIT_MAX_BYTES ({limit:,} bytes): shorten the texts or "
            "raise the setting BIGTENT_EDIT_MAX_BYTES",
            title="Record too large",
            status=413,
        )


def _record_type(class_id: str | None, languages: Sequence[str]) -> RecordType | None:
    if class_id is None:
        return None
    return get_catalogue().form_models.record_type(class_id, languages)


def _class_of(state: FormState) -> str | None:
    values = [s.value.strip() for s in state.statements if s.property == INSTANCE_OF]
    return get_catalogue().form_models.class_of_record(values)


def _render(
    state: FormState,
    *,
    entity: str | None,
    class_id: str | None,
    problems: Sequence[Placed] = (),
    status: int = 200,
    conflicts: list[dict[str, Any]] | None = None,
    merged_note: str | None = None,
    focus: str | None = None,
) -> Response:
    """The edit form for ``state``."""
    cat = get_catalogue()
    languages = reader_languages()
    models = cat.form_models
    record_type = _record_type(class_id, languages)
    if record_type is None:
        record_type = RecordType("", _("record"), "", tuple(_all_fields(languages)), closed=False)
    types = cat.editor.property_types()
    sections = _sections(state, record_type, languages)
    ids = {
        v
        for st in state.statements
        for v in [st.value, *(q.value for q in st.qualifiers.values())]
        + [s.value for ref in st.references.values() for s in ref.values()]
        if ENTITY_ID.match(v.strip())
    }
    names = {k: v[1] for k, v in index().names(ids, languages).items()}
    controls: dict[str, list[Placed]] = {}
    for p in problems:
        controls.setdefault(p.control or "", []).append(p)
    properties = models.properties(languages)
    found: dict[str, list[tuple[str, str]]] = {}

    def memo(pid: str) -> list[tuple[str, str]]:
        if pid not in found:
            found[pid] = models.options(pid, languages)
        return found[pid]

    open_rows = {
        int(c.split("-")[1])
        for c in controls
        if c.startswith("st-")
        and c.split("-")[1].isdigit()
        and not c.endswith(f"{c.split('-')[1]}-value")
    }
    html = render_template(
        "edit_form.html",
        state=state,
        entity=entity,
        class_id=class_id,
        record_type=record_type,
        sections=sections,
        names=names,
        types=types,
        problems=list(problems),
        errors=controls,
        properties=properties,
        property_names={p.id: p.label for p in properties},
        options=memo,
        property_options=Markup("").join(
            Markup('<option value="{}">{} ({})</option>').format(p.id, p.label, p.id)
            for p in properties
            if p.editable
        ),
        kinds=KINDS,
        ranks=RANKS,
        precisions=PRECISIONS,
        conflicts=conflicts or [],
        conflicts_json=json.dumps(conflicts or []),
        merged_note=merged_note,
        focus=focus,
        open_rows=open_rows,
        addable=[f for f in record_type.fields if not any(s.field.id == f.id for s in sections)],
    )
    response = make_response(html, status)
    return auth.no_store(response)  # type: ignore[return-value]


def _all_fields(languages: Sequence[str]) -> list[Field]:
    models = get_catalogue().form_models
    return [
        Field(p, primary=p.id == INSTANCE_OF) for p in models.properties(languages) if p.editable
    ]


class Section:
    """A field of the form with its statement rows."""

    def __init__(self, field: Field, rows: list[StatementRow]) -> None:
        self.field = field
        self.rows = rows


def _sections(state: FormState, record_type: RecordType, languages: Sequence[str]) -> list[Section]:
    """The fields shown: the type's primary fields, then any other property with rows."""
    models = get_catalogue().form_models
    by_property: dict[str, list[StatementRow]] = {}
    for st in state.statements:
        by_property.setdefault(st.property.strip(), []).append(st)
    sections = []
    for f in record_type.fields:
        rows = by_property.pop(f.id, [])
        if f.primary or rows:
            sections.append(Section(f, rows))
    for pid, rows in by_property.items():  # not a field of this type (or unknown): keep
        info = models.property(pid, languages)
        if info is None:
            info = PropertyInfo(pid, pid, "", "")
        sections.append(Section(Field(info, primary=False), rows))
    return sections


def _blank_rows(state: FormState, record_type: RecordType | None) -> None:
    """Empty value rows for each primary field without a value: as many as the shapes
    require (a partnership's two participants), else one."""
    if record_type is None:
        return
    present = {s.property for s in state.statements}
    for f in record_type.primary:
        if f.id not in present:
            for _row in range(max(1, f.min_count)):
                state.add_statement(f.id)


def _apply_action(state: FormState, action: str) -> str | None:
    """Add a row as the pressed button asks; returns the control to focus."""
    kind, _sep, arg = action.partition(":")
    if kind == "add-language":
        term = state.add_language()
        return f"term-{term.n}-lang"
    if kind == "add-value" and arg:
        row = state.add_statement(arg.strip()[:20])
        return f"st-{row.n}-value"
    if kind == "add-field":
        pid = request.form.get("new-field", "").strip()[:20]
        if pid:
            row = state.add_statement(pid)
            return f"st-{row.n}-value"
        return None
    if kind in ("add-qualifier", "add-reference") and arg.isdigit():
        st = state.statement(int(arg))
        if st is None:
            return None
        pid = request.form.get(f"st-{st.n}-new-{kind[4:]}", "").strip()[:20]
        if not pid:
            return None
        if kind == "add-qualifier":
            m = max(st.qualifiers, default=-1) + 1
            st.qualifiers[m] = SnakRow(property=pid)
            return f"st-{st.n}-q-{m}-value"
        m = max(st.references, default=-1) + 1
        st.references[m] = {0: SnakRow(property=pid)}
        return f"st-{st.n}-r-{m}-0-value"
    if kind == "theirs" and arg.isdigit():
        _take_theirs(state, int(arg))
    return None


def _take_theirs(state: FormState, k: int) -> None:
    """Put their version of conflict ``k`` in the form."""
    try:
        conflicts = parse_json(request.form.get("conflicts", "[]"), "conflicts")
        conflict = conflicts[k]
    except (BigtentError, IndexError, TypeError, KeyError):
        return
    if not isinstance(conflict, dict):
        return
    theirs = conflict.get("theirs")
    fld = conflict.get("field")
    if fld in ("labels", "descriptions"):
        lang = str(conflict.get("language") or "")
        row = next((t for t in state.terms if t.lang.strip() == lang), None) or state.add_language(
            lang
        )
        setattr(row, fld[:-1], str(theirs or ""))
    elif fld == "statements":
        sid = str(conflict.get("statement") or "")
        state.statements = [s for s in state.statements if s.id != sid]
        if isinstance(theirs, dict):
            fresh = from_json({"statements": [theirs]}, get_catalogue().editor.property_types())
            for st in fresh.statements:
                st.n = state.next_statement()
                state.statements.append(st)


def _messages(result: SaveResult) -> None:
    if result.unchanged:
        flash(_("Nothing changed: the record is as it was."))
    elif result.merged_with is not None:
        flash(
            _(
                "Saved as revision %(revision)s. Someone else saved revision %(other)s "
                "meanwhile; their changes did not touch yours and were kept.",
                revision=result.revision.id if result.revision else "",
                other=result.merged_with,
            )
        )
    else:
        flash(
            _(
                "Saved as revision %(revision)s.",
                revision=result.revision.id if result.revision else "",
            )
        )
    if result.store_pending:
        flash(_("Saved; the SPARQL endpoint will show it when the store is back."))
    for warning in result.warnings:
        flash(_("Warning: %(message)s", message=warning.message))


def _not_saved(state: FormState, exc: BigtentError, **kwargs: Any) -> Response:
    """A save that failed for a reason other than the record (the database away, the
    entity deleted meanwhile): the form again with everything typed and the reason (no
    internals: ``public_error``), so the edit is not lost. Nothing was written."""
    shown = public_error(exc)
    try:
        response = _render(
            state, problems=[Placed(None, shown.message)], status=shown.status, **kwargs
        )
    except BigtentError:
        raise exc from None  # the form cannot be drawn either: the error page
    if shown.retry_after is not None:
        response.headers["Retry-After"] = str(shown.retry_after)
    return response


def _invalid(
    state: FormState, problems: Sequence[FieldProblem], placement: Any, **kwargs: Any
) -> Response:
    return _render(state, problems=place(problems, state, placement), status=422, **kwargs)


# --- create ----------------------------------------------------------------------------------


@bp.get("/new")
def new_index() -> BaseResponse | str:
    """The record types staff can create."""
    refused = _login_first()
    if refused is not None:
        return refused
    types = get_catalogue().form_models.record_types(reader_languages())
    return auth.no_store(make_response(render_template("edit_new.html", types=types)))


@bp.route("/new/<class_id>", methods=["GET", "POST"])
def new(class_id: str) -> BaseResponse:
    """The create form of a record type (GET), and creating the record (POST)."""
    refused = _gate(sized=True)
    if refused is not None:
        return refused
    languages = reader_languages()
    record_type = _record_type(class_id, languages)
    if record_type is None:
        raise NotFound(
            f"{class_id[:40]!r} is not a record type: use a class id such as Q1 "
            "(organisation) or Q4 (partnership); /edit/new lists them"
        )
    if request.method == "GET":
        state = FormState()
        state.add_language(ui_language())
        state.add_statement(INSTANCE_OF, class_id)
        _blank_rows(state, record_type)
        return _render(state, entity=None, class_id=class_id)
    state = from_form(request.form)
    action = request.form.get("action", "save")
    if action != "save":
        focus = _apply_action(state, action)
        return _render(state, entity=None, class_id=class_id, focus=focus)
    cat = get_catalogue()
    editor = cat.editor
    record, placement = to_json(state, editor.property_types())
    early = form_problems(state)
    try:
        if early:
            raise ValidationFailed(early)
        result = editor.create(
            lambda entity: editor.read_json(record, entity),
            author=auth.author(),
            summary=state.summary.strip()[:500],
        )
    except ValidationFailed as exc:
        # every problem at once: the form's, the unreadable values and the shapes' verdict
        problems = early + editor.problems(record, editor.next_id())
        return _invalid(state, problems or exc.problems, placement, entity=None, class_id=class_id)
    except BigtentError as exc:
        return _not_saved(state, exc, entity=None, class_id=class_id)
    _messages(result)
    return redirect(url_for("pages.entity", entity_id=result.entity), code=303)


# --- edit ------------------------------------------------------------------------------------


@bp.route("/<entity_id>", methods=["GET", "POST"])
def edit(entity_id: str) -> BaseResponse:
    """The edit form of a record (GET), and saving it (POST)."""
    entity = _entity_id(entity_id)
    refused = _gate(sized=True)
    if refused is not None:
        return refused
    editor = get_catalogue().editor
    types = editor.property_types()
    if request.method == "GET":
        state = from_json(editor.record_json(entity), types)
        class_id = _class_of(state)
        _blank_rows(state, _record_type(class_id, reader_languages()))
        return _render(state, entity=entity, class_id=class_id)
    editor.current(entity)  # 404 / 410 before anything else
    state = from_form(request.form)
    class_id = _class_of(state)
    action = request.form.get("action", "save")
    conflicts = _posted_conflicts()
    if action != "save":
        focus = _apply_action(state, action)
        if action.startswith("theirs:") and action[7:].isdigit():
            conflicts = [c for i, c in enumerate(conflicts) if i != int(action[7:])]
        return _render(state, entity=entity, class_id=class_id, focus=focus, conflicts=conflicts)
    record, placement = to_json(state, types)
    early = form_problems(state)
    readable = False
    try:
        if early:
            raise ValidationFailed(early)
        base = _base_revision(state)
        submission = editor.read_json(record, entity)
        readable = True
        result = editor.save(
            entity, submission, base, author=auth.author(), summary=state.summary.strip()[:500]
        )
    except ValidationFailed as exc:
        # Every problem at once. Once the record reads, the shapes' verdict on the record
        # as saved (merged with newer revisions) is the one to show.
        problems = exc.problems if readable else early + editor.problems(record, entity)
        return _invalid(
            state,
            problems or exc.problems,
            placement,
            entity=entity,
            class_id=class_id,
            conflicts=conflicts,
        )
    except EditConflict as exc:
        return _conflict_view(entity, state, submission.model, base, exc)
    except BigtentError as exc:
        return _not_saved(state, exc, entity=entity, class_id=class_id, conflicts=conflicts)
    _messages(result)
    return redirect(url_for("pages.entity", entity_id=entity), code=303)


def _base_revision(state: FormState) -> int:
    text = state.base_revision.strip()
    if not text.isdigit():
        raise BigtentError(
            "the form has no base revision (base_revision): open the edit form again",
            title="Base revision required",
            status=428,
        )
    return int(text)


def _posted_conflicts() -> list[dict[str, Any]]:
    try:
        data = parse_json(request.form.get("conflicts", "[]"), "conflicts")
    except BigtentError:  # not the list this form wrote: nothing to show
        return []
    return [c for c in data if isinstance(c, dict)] if isinstance(data, list) else []


def _conflict_view(
    entity: str, state: FormState, mine: Any, base: int, exc: EditConflict
) -> Response:
    """The form again, merged with the newer revision, keeping the editor's version of each
    conflicting field; both versions shown side by side."""
    cat = get_catalogue()
    editor = cat.editor
    types = editor.property_types()
    theirs, latest = editor.current(entity)
    merged, found = keep_mine(revision_model(cat.repository, entity, base), theirs, mine)
    fresh = from_json(model_json(merged, types), types)
    fresh.terms = _keep_term_order(state, fresh)
    fresh.base_revision = str(latest.id)
    fresh.summary = state.summary
    fresh.datatype = state.datatype
    conflicts = []
    for c in found:
        conflicts.append(
            {
                "field": c.field,
                "language": c.language,
                "statement": c.statement,
                "property": c.property,
                "reason": c.reason,
                "theirs": _shown(c.theirs, types),
                "mine": _shown(c.mine, types),
                "theirs_text": _text_of(_shown(c.theirs, types)),
                "mine_text": _text_of(_shown(c.mine, types)),
            }
        )
    info = exc.conflict
    note = _(
        "%(author)s saved revision %(revision)s after you opened this form. Their changes that "
        "do not touch yours are now in the form. Check the fields below that you both changed, "
        "then save again.",
        author=info.get("latest_author", "?"),
        revision=latest.id,
    )
    problems = [
        Placed(None, str(p.get("message", "")))
        for p in _as_list(info.get("problems"))
        if isinstance(p, dict)
    ]
    return _render(
        fresh,
        entity=entity,
        class_id=_class_of(fresh),
        problems=problems,
        status=409,
        conflicts=conflicts,
        merged_note=note,
    )


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _keep_term_order(old: FormState, new: FormState) -> list[Any]:
    order = {t.lang: i for i, t in enumerate(old.terms)}
    return sorted(new.terms, key=lambda t: (order.get(t.lang, len(order)), t.lang))


def _text_of(value: object) -> str:
    """A value of a conflict in a few words."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if "property" in value:  # a statement
            if value.get("novalue"):
                text = _("no value")
            elif value.get("somevalue"):
                text = _("unknown value")
            else:
                text = _text_of(value.get("value"))
            extra = []
            if value.get("rank", "normal") != "normal":
                extra.append(str(value["rank"]))
            for q in value.get("qualifiers", []):
                extra.append(f"{q.get('property')}: {_text_of(q.get('value'))}")
            if value.get("references"):
                count = len(value["references"])
                extra.append(ngettext("%(num)s source", "%(num)s sources", count))
            return str(text) + (f" ({'; '.join(extra)})" if extra else "")
        if "text" in value:
            return f"{value['text']} [{value.get('language')}]"
        if "time" in value:
            return str(value["time"])
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _shown(value: object, types: dict[str, str]) -> object:
    if isinstance(value, Statement):
        return statement_json(value, types)
    return value


# --- delete and merge --------------------------------------------------------------------------


@bp.route("/<entity_id>/delete", methods=["GET", "POST"])
def delete(entity_id: str) -> BaseResponse:
    """Delete a record with a reason (administrators)."""
    entity = _entity_id(entity_id)
    refused = _gate(ADMIN)
    if refused is not None:
        return refused
    if request.method == "GET":
        rev = get_catalogue().editor.current(entity)[1]
        return _small_form("edit_delete.html", entity, rev.id)
    reason = request.form.get("reason", "")[:500]
    base = request.form.get("base_revision", "")
    try:
        get_catalogue().editor.delete(
            entity,
            reason,
            author=auth.author(),
            base=int(base) if base.isdigit() else None,
        )
    except BigtentError as exc:
        if exc.status not in (409, 422):
            raise
        return _small_form("edit_delete.html", entity, base, error=exc.message, reason=reason)
    return redirect(url_for("pages.history", entity_id=entity), code=303)


@bp.route("/<entity_id>/merge", methods=["GET", "POST"])
def merge(entity_id: str) -> BaseResponse:
    """Merge a record into another one (it then redirects there)."""
    entity = _entity_id(entity_id)
    refused = _gate()
    if refused is not None:
        return refused
    if request.method == "GET":
        rev = get_catalogue().editor.current(entity)[1]
        return _small_form("edit_merge.html", entity, rev.id)
    raw = request.form.get("into", "").strip()
    target = entity_id_in(raw)
    summary = request.form.get("summary", "")[:500]
    error = None
    if not ENTITY_ID.match(target):
        error = _("Give the id of the record to merge into, such as Q42 (into).")
    else:
        try:
            get_catalogue().editor.merge(entity, target, author=auth.author(), summary=summary)
        except BigtentError as exc:
            if exc.status >= 500:
                raise
            error = exc.message
    if error is not None:
        return _small_form(
            "edit_merge.html", entity, request.form.get("base_revision", ""), error=error, into=raw
        )
    flash(_("%(entity)s was merged into %(target)s.", entity=entity, target=target))
    return redirect(url_for("pages.entity", entity_id=target), code=303)


def _small_form(template: str, entity: str, base: object, **extra: Any) -> BaseResponse:
    status = 422 if extra.get("error") else 200
    html = render_template(template, entity=entity, base_revision=base, **extra)
    return auth.no_store(make_response(html, status))


# --- controlled values -------------------------------------------------------------------------


@bp.get("/options/<property_id>")
def options(property_id: str) -> Response:
    """The controlled values of a property (JSON): its concept scheme's concepts."""
    if not property_id.startswith("P") or not ENTITY_ID.match(property_id):
        raise NotFound(f"{property_id[:40]!r} is not a property id: ids look like P7")
    models = get_catalogue().form_models
    languages = reader_languages()
    if models.property(property_id, languages) is None:
        raise NotFound(f"there is no property {property_id} in this catalogue")
    found = models.options(property_id, languages)
    return jsonify(
        {
            "property": property_id,
            "vocabulary": models.vocabulary_of(property_id),
            "options": [{"id": i, "label": label} for i, label in found],
        }
    )
