"""Bulk import for staff: ``/import`` (upload) → ``/import/<token>`` (validation report,
nothing written) → ``POST /import/<token>/confirm`` (written, one revision per record).

See :mod:`loader.editing.bulk_import` for how uploads are kept and why confirming is safe twice
and after someone else's change.
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
from flask_babel import ngettext
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from loader.base.errors import BigtentError
from loader.editing.bulk_import import (
    UPLOAD_FORMATS,
    StaleImport,
    Upload,
    confirm,
    upload_format,
    validate,
)
from loader.staff.accounts import EDITOR
from webapp.http import auth
from webapp.http.bodies import BodyLimit, limit
from webapp.http.catalogue import get_catalogue, get_settings
from webapp.http.request_args import wants_json

bp = Blueprint("bulk_import", __name__)

#: room for the multipart envelope and the form's other fields around the file
ENVELOPE = 64 * 1024
#: report rows listed on the page (every rejected record is, whatever the number)
LISTED = 1000


def _too_big() -> BigtentError:
    limit = int(get_settings().IMPORT_MAX_BYTES)
    return BigtentError(
        f"the file is larger than IMPORT_MAX_BYTES ({limit:,} bytes): split it, or load it "
        "with `bigtent load` on the server",
        title="File too large",
        status=413,
    )


def _short(iri: str | None) -> str:
    """An IRI with the catalogue's prefixes (``wd:Q5``, ``p:P1``) where one fits."""
    if not iri:
        return ""
    prefixes = get_catalogue().ns.prefixes
    for name, namespace in sorted(prefixes.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(namespace) and "/" not in iri[len(namespace) :]:
            return f"{name}:{iri[len(namespace) :]}"
    return iri


def _upload(token: str) -> Upload:
    staff = auth.require(EDITOR)
    return get_catalogue().imports.get(token, staff.account.name)


@bp.get("/import")
def form() -> Response:
    """The upload form."""
    auth.require(EDITOR)
    html = render_template(
        "import.html", formats=UPLOAD_FORMATS, limit=int(get_settings().IMPORT_MAX_BYTES)
    )
    return auth.no_store(Response(html, mimetype="text/html"))  # type: ignore[return-value]


@bp.post("/import")
@limit(BodyLimit("IMPORT_MAX_BYTES", extra=ENVELOPE))
@auth.write_access(EDITOR)
def upload() -> BaseResponse:
    """Keep the uploaded file, validate it, show its report. A file that cannot be read
    (or any failure before its report) is deleted at once."""
    try:
        sent = request.files.get("file")
        chosen = request.form.get("format") or None
        summary = request.form.get("summary", "").strip()
    except RequestEntityTooLarge:
        raise _too_big() from None
    if sent is None or not sent.filename:
        raise BigtentError("choose a file to import (file)", title="No file", status=422)
    fmt = upload_format(sent.filename, chosen)
    limit = int(get_settings().IMPORT_MAX_BYTES)
    data = sent.stream.read(limit + 1)
    if len(data) > limit:
        raise _too_big()
    if not data.strip():
        raise BigtentError("the file is empty (file)", title="Empty file", status=422)
    cat = get_catalogue()
    kept = cat.imports.save(data, sent.filename, fmt, auth.author(), summary)
    try:
        report = validate(cat.editor, cat.imports, kept, cat.page_index)
    except BaseException:
        cat.imports.discard(kept.token)
        raise
    if report.file_errors:
        cat.imports.discard(kept.token)
        raise BigtentError(
            "the file could not be read; nothing was kept: " + "; ".join(report.file_errors[:10]),
            title="Unreadable file",
            status=422,
        )
    if wants_json():
        return auth.no_store(jsonify({"token": kept.token, **report.as_dict()}))
    return redirect(url_for("bulk_import.report", token=kept.token), code=303)


def _render_report(
    upload: Upload, status: int = 200, stale: list[str] | None = None
) -> BaseResponse:
    cat = get_catalogue()
    report = cat.imports.report(upload)
    if report is None:  # made by another version, or lost: make it again
        report = validate(cat.editor, cat.imports, upload, cat.page_index).as_dict()
    if wants_json():
        response = jsonify({"token": upload.token, **report})
        response.status_code = status
        return auth.no_store(response)
    records = report["records"]
    assert isinstance(records, list)
    rejected = [r for r in records if r["status"] == "rejected"]
    others = [r for r in records if r["status"] != "rejected"]
    listed = rejected + others[: max(0, LISTED - len(rejected))]
    html = render_template(
        "import_report.html",
        upload=upload,
        report=report,
        records=listed,
        hidden=len(records) - len(listed),
        short=_short,
        stale=stale,
        names=report.get("names", []),
    )
    return auth.no_store(Response(html, status=status, mimetype="text/html"))


@bp.get("/import/<token>")
def report(token: str) -> BaseResponse:
    """The validation report of an upload (nothing written yet)."""
    return _render_report(_upload(token))


@bp.post("/import/<token>/confirm")
@auth.write_access(EDITOR)
def confirmed(token: str) -> BaseResponse:
    """Write the accepted records of an upload."""
    upload = _upload(token)
    cat = get_catalogue()
    try:
        written = confirm(cat.editor, cat.imports, upload, cat.page_index)
    except StaleImport as exc:
        return _render_report(upload, 409, exc.entities)
    message = ngettext("%(num)s record imported.", "%(num)s records imported.", len(written))
    if wants_json():
        return auth.no_store(
            jsonify({"ok": True, "message": message, "revisions": [r.id for r in written]})
        )
    flash(message)
    return redirect(url_for("history.changes", author=upload.uploader, kind="import"), code=303)


@bp.post("/import/<token>/discard")
@auth.write_access(EDITOR)
def discard(token: str) -> BaseResponse:
    """Forget an upload without importing it."""
    upload = _upload(token)
    get_catalogue().imports.discard(upload.token)
    flash(_("The upload was discarded; nothing was imported."))
    return redirect(url_for("bulk_import.form"), code=303)
