"""Bulk import by staff: upload a file, read its validation report, confirm.

An upload is kept in ``DATA_DIR/imports`` under a random token (with who uploaded it,
when, its name and format) until it is confirmed, discarded or older than IMPORT_TTL.
Validation reads it the loader's way (:func:`loader.ingest.reader.scan` and
:func:`~loader.ingest.reader.read_records`, the normaliser, the compiled shapes, a context built
like a load's) and writes nothing. The report says, per record, whether it is new,
changed, unchanged or rejected (with each problem's focus node, path and message) and the
revision it was compared with.

Confirming validates again under the Editor's lock and writes the accepted new and changed
records, each as one revision by the uploader, in one transaction of the revision log that
refuses the whole batch if any record moved past the revision the report showed (so a
change made by someone else in between is never overwritten unseen: the user gets the new
report instead). Rejected records change nothing; the upload is removed once written, so
confirming twice finds nothing to do.

An upload is read within the loader's caps (:class:`~loader.ingest.inputs.InputLimits`: no
DTD in RDF/XML, MAX_LITERAL_BYTES, MAX_NESTING_DEPTH, MAX_RECORD_TRIPLES while grouping);
a file that breaks one is unreadable, and an unreadable upload is deleted.

QuickStatements (``.qs``, ``.tsv``) and CSV files take the same road: their edits are
applied to the records they touch (:mod:`loader.editing.batch_edits`), and those records are
reported, validated (with the Editor's checks for hand-made input too) and written like the
records of an RDF file. Such a file is held to IMPORT_MAX_BYTES on the command line as
well, and each of its lines (cells) to MAX_LITERAL_BYTES.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.errors import BigtentError, DiskFull, NotFound, SourceError, is_disk_full
from loader.base.rdf import Triple, syntaxes
from loader.editing.batch_edits import CSV, QUICKSTATEMENTS, NameMatch, prepare
from loader.ingest.inputs import FORMATS, InputLimits, Source, format_from_name
from loader.ingest.reader import OversizedRecord, Rebase, locate, read_records, scan
from loader.records.normalise import NormalRecord, normalise
from loader.records.shacl import Problem
from loader.records.source import SourceRecord
from loader.storage.revision_log import (
    IMPORT_SUMMARY,
    LIVE,
    EntityState,
    NewRevision,
    Revision,
)

if TYPE_CHECKING:
    from loader.editing.editor import Editor
    from loader.storage.page_index import PageIndex
    from loader.storage.repository import Repository

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
#: formats offered on the upload form (name, what people call it)
UPLOAD_FORMATS = {s.extension: s.label for s in syntaxes("ttl", "nt", "jsonld", "rdf")}
UPLOAD_FORMATS[QUICKSTATEMENTS] = "QuickStatements v1"
UPLOAD_FORMATS[CSV] = "CSV (QuickStatements columns)"
#: file name endings of the formats read by :mod:`loader.editing.batch_edits`
BATCH_SUFFIXES = {"qs": QUICKSTATEMENTS, "tsv": QUICKSTATEMENTS, "csv": CSV}
NEW, CHANGED, UNCHANGED, REJECTED = "new", "changed", "unchanged", "rejected"


@dataclass
class Upload:
    """A file waiting for its confirmation."""

    token: str
    path: Path
    filename: str
    format: str  # a key of FORMATS
    uploader: str
    created: float
    summary: str
    #: entity -> newest revision id (None: did not exist) the last report compared with
    bases: dict[str, int | None] = field(default_factory=dict)


@dataclass
class RecordReport:
    """The verdict on one record of the file."""

    entity: str
    status: str  # new | changed | unchanged | rejected
    line: int | None
    base: int | None  # the entity's newest revision id when validated
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class ImportReport:
    """The verdict on a whole file."""

    records: list[RecordReport] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    #: names in the item columns of a CSV file, and what they were matched with
    names: list[NameMatch] = field(default_factory=list)

    def count(self, status: str) -> int:
        """How many records have this status."""
        return sum(1 for r in self.records if r.status == status)

    @property
    def writable(self) -> list[RecordReport]:
        """Records a confirmation would write."""
        return [r for r in self.records if r.status in (NEW, CHANGED)]

    def bases(self) -> dict[str, int | None]:
        """Entity -> the revision each record was compared with."""
        return {r.entity: r.base for r in self.records}

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "counts": {s: self.count(s) for s in (NEW, CHANGED, UNCHANGED, REJECTED)},
            "file_errors": self.file_errors,
            "names": [n.as_dict() for n in self.names],
            "records": [
                {
                    "entity": r.entity,
                    "status": r.status,
                    "line": r.line,
                    "base_revision": r.base,
                    "problems": [p.as_dict() for p in r.problems],
                    "warnings": [p.as_dict() for p in r.warnings],
                }
                for r in self.records
            ],
        }


class StaleImport(BigtentError):
    """Records of the upload changed in the catalogue after its report was shown."""

    def __init__(self, entities: list[str], report: ImportReport) -> None:
        shown = ", ".join(entities[:10]) + (" …" if len(entities) > 10 else "")
        super().__init__(
            f"{len(entities)} record(s) of this file changed in the catalogue since its "
            f"report was made ({shown}). Nothing was written; read the new report and "
            "confirm again.",
            title="Conflict",
            status=409,
        )
        self.entities, self.report = entities, report


# --- kept uploads ----------------------------------------------------------------------------
class Uploads:
    """Uploaded files between report and confirmation (one directory per token)."""

    def __init__(self, directory: Path, ttl: int) -> None:
        self.directory = directory
        self.ttl = ttl

    def save(self, data: bytes, filename: str, fmt: str, uploader: str, summary: str) -> Upload:
        """Keep an upload; returns it with its new token."""
        self.purge()
        token = secrets.token_urlsafe(24)
        folder = self.directory / token
        path = folder / "upload"
        upload = Upload(token, path, filename[:200], fmt, uploader, time.time(), summary[:500])
        try:
            folder.mkdir(parents=True)
            path.write_bytes(data)
            self.update(upload)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)  # no half-kept upload
            if is_disk_full(exc):
                raise DiskFull(self.directory.parent, "the upload could not be kept") from None
            raise
        return upload

    def update(self, upload: Upload) -> None:
        """Write an upload's description (after a report, its bases)."""
        meta = asdict(upload)
        meta["path"] = str(upload.path)
        target = upload.path.parent / "meta.json"
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(meta), encoding="utf-8")
        partial.replace(target)

    def remember(self, upload: Upload, report: ImportReport) -> None:
        """Keep a report (and what it compared with) next to its upload."""
        upload.bases = report.bases()
        (upload.path.parent / "report.json").write_text(
            json.dumps(report.as_dict()), encoding="utf-8"
        )
        self.update(upload)

    def report(self, upload: Upload) -> dict[str, object] | None:
        """The last report made on an upload (JSON form), if any."""
        try:
            found: dict[str, object] = json.loads(
                (upload.path.parent / "report.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return None
        return found

    def get(self, token: str, uploader: str) -> Upload:
        """The upload of ``uploader`` with this token (404 if unknown, expired, done, or
        someone else's)."""
        gone = NotFound(
            "this upload is not (or no longer) here: it was imported or discarded already, "
            f"or it is older than IMPORT_TTL ({self.ttl} seconds). Upload the file again.",
            title="No such upload",
        )
        if not TOKEN.match(token):
            raise gone
        meta_path = self.directory / token / "meta.json"
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise gone from None
        meta["path"] = Path(meta["path"])
        upload = Upload(**meta)
        if upload.uploader != uploader or time.time() - upload.created > self.ttl:
            raise gone
        return upload

    def discard(self, token: str) -> None:
        """Forget an upload."""
        if TOKEN.match(token):
            shutil.rmtree(self.directory / token, ignore_errors=True)

    def purge(self) -> int:
        """Remove expired uploads; returns how many."""
        if not self.directory.is_dir():
            return 0
        removed = 0
        limit = time.time() - self.ttl
        for folder in self.directory.iterdir():
            meta = folder / "meta.json"
            try:
                stamp = meta.stat().st_mtime if meta.exists() else folder.stat().st_mtime
            except OSError:
                continue
            if stamp < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


def upload_format(filename: str, chosen: str | None) -> str:
    """The format of an upload: the one chosen on the form, else from the file name."""
    if chosen:
        if chosen not in UPLOAD_FORMATS:
            raise BigtentError(
                f"format {chosen[:20]!r} is not one Bigtent imports: choose "
                + ", ".join(f"{k} ({v})" for k, v in UPLOAD_FORMATS.items()),
                title="Unsupported format",
                status=415,
            )
        return chosen
    ending = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if ending in BATCH_SUFFIXES:
        return BATCH_SUFFIXES[ending]
    found, gzipped = format_from_name(filename)
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if found is None or gzipped or suffix not in FORMATS:
        raise BigtentError(
            f"cannot tell the format of {filename[:100]!r} from its name: name it .ttl, .nt, "
            ".jsonld, .rdf, .qs, .tsv or .csv, or choose the format (format)",
            title="Unsupported format",
            status=415,
        )
    for key in UPLOAD_FORMATS:
        if FORMATS[key] == found:
            return key
    raise BigtentError(
        f"{filename[:100]!r} is in a format the import page does not take: use "
        + ", ".join(UPLOAD_FORMATS.values()),
        title="Unsupported format",
        status=415,
    )


# --- validation and writing --------------------------------------------------------------------
@dataclass
class _Checked:
    report: ImportReport
    contents: dict[str, tuple[bytes, str]]  # entity -> (N-Triples, content hash), new/changed


def _source(upload: Upload) -> Source:
    return Source(upload.filename, upload.path, FORMATS[upload.format], False)


def _check(editor: Editor, upload: Upload, index: PageIndex | None = None) -> _Checked:
    """Validate every record of an upload; write nothing."""
    if upload.format in (QUICKSTATEMENTS, CSV):
        return _check_batch(editor, upload, index)
    cat, validation = editor.cat, editor.validation
    report = ImportReport()
    contents: dict[str, tuple[bytes, str]] = {}
    source = _source(upload)
    limits = InputLimits.from_settings(cat.settings)
    try:
        scanned = scan(source, cat.ns, limits)
    except SourceError as exc:
        report.file_errors.append(exc.message)
        return _Checked(report, contents)
    if scanned.entities == 0:
        report.file_errors.append(
            f"{upload.filename} holds no records: no triples about an entity "
            f"<{cat.ns['wd']}Q…> (is it written with another base IRI?)"
        )
        return _Checked(report, contents)
    ctx = validation.build_context()
    ctx.add_claims(scanned.claims)
    ctx.property_types.update(scanned.property_types)
    for label, owners in scanned.property_labels.items():
        ctx.property_labels[label] |= owners
    limit = limits.max_record_triples
    records = list(_records(source, cat, scanned.rebase, limits, report))
    states = cat.revisions.states(r.entity for r in records)
    seen: set[str] = set()
    for record in records:
        state = states.get(record.entity)
        base = None if state is None else state.latest
        if record.entity in seen:
            continue
        seen.add(record.entity)
        line = record.line
        if line is None and not source.line_based:
            line = locate(source, cat.ns["wd"] + record.entity, "wd:" + record.entity)
        if isinstance(record, OversizedRecord):  # only counted while it was read
            message = record.problem_message(limit)
        else:
            normal = normalise(record, ctx)
            message = (
                f"the record has {len(normal.triples)} triples, more than "
                f"MAX_RECORD_TRIPLES ({limit}) allows"
                if len(normal.triples) > limit
                else ""
            )
        if message:
            problem = Problem(
                cat.ns["wd"] + record.entity, None, None, "(loader)", "MaxRecordTriples", message
            )
            report.records.append(RecordReport(record.entity, REJECTED, line, base, [problem]))
            continue
        found = validation.shapes.validate(normal.triples, ctx)
        _verdict(report, contents, record.entity, line, base, state, normal, found)
    return _Checked(report, contents)


def _check_batch(editor: Editor, upload: Upload, index: PageIndex | None) -> _Checked:
    """:func:`_check` for a QuickStatements or CSV file."""
    cat = editor.cat
    report = ImportReport()
    contents: dict[str, tuple[bytes, str]] = {}
    prepared = prepare(
        editor, upload.path.read_bytes(), upload.format, index, cat.settings.languages
    )
    report.names = prepared.names
    if prepared.file_errors:
        report.file_errors = prepared.file_errors
        return _Checked(report, contents)
    if not prepared.records:
        report.file_errors.append(f"{upload.filename} holds no edits")
        return _Checked(report, contents)
    ctx = editor.validation.build_context()
    states = cat.revisions.states(r.entity for r in prepared.records)
    normals = {}
    for record in prepared.records:
        if record.entity not in prepared.refused:
            normals[record.entity] = normalise(record, ctx)
    claims: dict[str, dict[str, set[str]]] = {}
    for entity, normal in normals.items():  # what validation needs to know of the records
        for pid, values in _claims(editor, entity, normal.triples).items():
            claims.setdefault(pid, {})[entity] = values
    ctx.add_claims(claims)
    limit = int(cat.settings.MAX_RECORD_TRIPLES)
    for record in prepared.records:
        state = states.get(record.entity)
        base = None if state is None else state.latest
        focus = cat.ns["wd"] + record.entity
        refused = prepared.refused.get(record.entity)
        if refused:
            problems = [Problem(focus, None, None, "(import)", "Import", m) for m in refused]
            report.records.append(
                RecordReport(record.entity, REJECTED, record.line, base, problems)
            )
            continue
        normal = normals[record.entity]
        if len(normal.triples) > limit:
            message = (
                f"the record has {len(normal.triples)} triples, more than "
                f"MAX_RECORD_TRIPLES ({limit}) allows"
            )
            problem = Problem(focus, None, None, "(loader)", "MaxRecordTriples", message)
            report.records.append(
                RecordReport(record.entity, REJECTED, record.line, base, [problem])
            )
            continue
        found = editor.validation.shapes.validate(normal.triples, ctx)
        found += editor._editor_checks(record.entity, normal)
        _verdict(report, contents, record.entity, record.line, base, state, normal, found)
    return _Checked(report, contents)


def _claims(editor: Editor, entity: str, triples: list[Triple]) -> dict[str, set[str]]:
    """The truthy item values validation looks up, of one record's triples."""
    claims: dict[str, set[str]] = {}
    me = editor.ns.entity(entity)
    for s, p, o in triples:
        split = editor.ns.split_predicate(p.value)
        if s == me and split is not None and split[0] == "wdt" and isinstance(o, ox.NamedNode):
            claims.setdefault(split[1], set()).add(o.value)
    return claims


def _verdict(
    report: ImportReport,
    contents: dict[str, tuple[bytes, str]],
    entity: str,
    line: int | None,
    base: int | None,
    state: EntityState | None,
    normal: NormalRecord,
    found: list[Problem],
) -> None:
    """A valid record's status (new, changed, unchanged), or its rejection."""
    errors = [p for p in found if p.severity == "Violation"]
    warnings = [p for p in found if p.severity != "Violation"]
    if errors:
        report.records.append(RecordReport(entity, REJECTED, line, base, errors, warnings))
        return
    live = state is not None and state.state == LIVE
    if live and state is not None and state.content_hash == normal.content_hash:
        status = UNCHANGED
    else:
        status = CHANGED if live else NEW
        contents[entity] = (normal.ntriples(), normal.content_hash)
    report.records.append(RecordReport(entity, status, line, base, [], warnings))


def _records(
    source: Source,
    cat: Repository,
    rebase: Rebase | None,
    limits: InputLimits,
    report: ImportReport,
) -> Iterator[SourceRecord]:
    try:
        yield from read_records(source, cat.ns, rebase, limits)
    except SourceError as exc:
        report.file_errors.append(exc.message)


def validate(
    editor: Editor, uploads: Uploads, upload: Upload, index: PageIndex | None = None
) -> ImportReport:
    """The report on an upload (nothing written); remembers what it compared with.
    ``index`` (the page index) resolves the names of a CSV file's item columns."""
    report = _check(editor, upload, index).report
    uploads.remember(upload, report)
    return report


def confirm(
    editor: Editor, uploads: Uploads, upload: Upload, index: PageIndex | None = None
) -> list[Revision]:
    """Write the upload's accepted records (see the module docstring); returns the new
    revisions. Raises :class:`StaleImport` when records changed since the report."""
    cat = editor.cat
    with editor.lock:
        uploads.get(upload.token, upload.uploader)  # still there: not confirmed meanwhile
        checked = _check(editor, upload, index)
        report = checked.report
        if report.file_errors:
            raise BigtentError(
                "the file cannot be read any more: " + "; ".join(report.file_errors[:3]),
                title="Unreadable upload",
                status=422,
            )
        moved = sorted(
            r.entity
            for r in report.records
            if r.entity not in upload.bases or upload.bases[r.entity] != r.base
        )
        if moved:
            uploads.remember(upload, report)
            raise StaleImport(moved, report)
        written = _write(cat, upload, checked)
        uploads.discard(upload.token)
        return written


def _write(cat: Repository, upload: Upload, checked: _Checked) -> list[Revision]:
    """Write the new and changed records of a checked upload, each as one revision."""
    summary = f"{IMPORT_SUMMARY}{upload.filename}" + (
        f": {upload.summary}" if upload.summary else ""
    )
    changes = [
        NewRevision(
            r.entity,
            "update" if r.status == CHANGED else "create",
            upload.uploader,
            summary[:1000],
            checked.contents[r.entity][1],
            checked.contents[r.entity][0],
            expect_latest=r.base,
            check_latest=True,
        )
        for r in checked.report.writable
    ]
    written = cat.write_revisions(changes) if changes else []
    if written:
        cat.after_write()
    return written


def load_batch_file(
    editor: Editor,
    path: Path,
    fmt: str,
    *,
    author: str,
    summary: str = "",
    index: PageIndex | None = None,
    dry_run: bool = False,
) -> tuple[ImportReport, list[Revision]]:
    """``bigtent load`` of a QuickStatements or CSV file: checked as an upload is, then (unless
    ``dry_run``) its accepted records written at once, under the Editor's lock. A file larger
    than IMPORT_MAX_BYTES is refused (it is read whole)."""
    limit = int(editor.cat.settings.IMPORT_MAX_BYTES)
    if path.stat().st_size > limit:
        raise BigtentError(
            f"{path.name} is larger than IMPORT_MAX_BYTES ({limit:,} bytes): QuickStatements "
            "and CSV files are read whole; split it",
            title="File too large",
            status=413,
        )
    upload = Upload("load", path, path.name, fmt, author, time.time(), summary)
    with editor.lock:
        checked = _check(editor, upload, index)
        if checked.report.file_errors or dry_run:
            return checked.report, []
        return checked.report, _write(editor.cat, upload, checked)
