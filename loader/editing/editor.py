"""Staff edits: create, save (with optimistic concurrency), revert, delete and merge.

Every edit goes the loader's way: the record is normalised and validated with the same
compiled shapes and the same kind of context as a load, then written with the same
protocol (revision row first, then the entity's graph). On top, the editor checks what
only matters for hand-made input: referenced entities exist and are not deleted or
merged, language tags are known, web addresses are http(s), dates exist.

A save names the revision it started from. When the entity has moved on since, the
edit is merged three-way with the newer revision (:mod:`loader.records.threeway`); a save that
conflicts is refused with both versions and the conflicting fields, and nothing is
written. All writes of one process go through one lock; the revision log also refuses
a write whose base is stale (:class:`~loader.storage.revision_log.StaleRevision`), which protects
writers in other processes.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from loader.base import ids
from loader.base.errors import BigtentError, NotFound, SourceError, Unavailable
from loader.base.languages import LanguageTags
from loader.base.namespaces import ENTITY_ID, PROV, RDFS, SCHEMA, SKOS
from loader.base.rdf import Triple
from loader.editing.merge import merge
from loader.ingest.inputs import Source
from loader.ingest.reader import Grouper
from loader.records.context import INDEXED_PROPERTIES, Context
from loader.records.normalise import NormalRecord, normalise, time_value
from loader.records.record_model import (
    FieldProblem,
    JsonReader,
    RecordModel,
    Reference,
    Snak,
    Statement,
    Value,
    from_triples,
    model_json,
    statement_json,
    to_triples,
)
from loader.records.shacl import Problem, term_text
from loader.records.source import SourceRecord
from loader.records.threeway import Conflict, merge3
from loader.storage.revision_log import (
    DELETED,
    ERASED,
    HIDDEN,
    LIVE,
    REDIRECT,
    REVERT_SUMMARY,
    NewRevision,
    Revision,
    StaleRevision,
)

if TYPE_CHECKING:
    from loader.editing.privacy import Privacy
    from loader.ingest.validation import Validation
    from loader.storage.repository import Repository

log = logging.getLogger(__name__)
PLACEHOLDER = "new"  # wd:new is the subject of a record being created in Turtle
DERIVED_FROM = PROV + "wasDerivedFrom"
IN_SCHEME = SKOS + "inScheme"
_LANG = re.compile(r'"@([A-Za-z0-9-]+)$')
_TERM_FIELDS = {
    RDFS + "label": "labels",
    SCHEMA + "description": "descriptions",
    SKOS + "altLabel": "aliases",
}


class ValidationFailed(BigtentError):
    """The record is not valid; ``problems`` say where and why, field by field."""

    def __init__(self, problems: Sequence[FieldProblem], message: str | None = None) -> None:
        count = len(problems)
        super().__init__(
            message
            or f"the record was not saved: {count} problem{'s' if count != 1 else ''} to fix",
            title="Invalid record",
            status=422,
        )
        self.problems = list(problems)

    def to_dict(self) -> dict[str, object]:
        """The error with its problems."""
        return {**super().to_dict(), "problems": [p.as_dict() for p in self.problems]}


class EditConflict(BigtentError):
    """The entity changed since the edit started and the changes cannot be merged."""

    def __init__(self, message: str, conflict: dict[str, object]) -> None:
        super().__init__(message, title="Edit conflict", status=409)
        self.conflict = conflict

    def to_dict(self) -> dict[str, object]:
        """The error with both versions and the conflicting fields."""
        return {**super().to_dict(), "conflict": self.conflict}


#: What a save that reached the revision log but not the triple store tells its author.
STORE_PENDING = "saved; the SPARQL endpoint will show it when the store is back"


@dataclass
class SaveResult:
    """What a save did."""

    entity: str
    revision: Revision | None  # None when nothing changed
    merged_with: int | None = None  # the newer revision the edit was merged with
    warnings: list[FieldProblem] = field(default_factory=list)
    #: saved in the revision log (pages and the API show it), but the triple store could
    #: not take it yet: the background applier stores it when the store is back
    store_pending: bool = False

    @property
    def unchanged(self) -> bool:
        """True when the save changed nothing."""
        return self.revision is None

    def as_dict(self, latest: int | None = None) -> dict[str, object]:
        """JSON form."""
        return {
            "ok": True,
            "id": self.entity,
            "revision": self.revision.id if self.revision else latest,
            "unchanged": self.unchanged,
            "merged_with": self.merged_with,
            "warnings": [w.as_dict() for w in self.warnings],
            "store": "pending" if self.store_pending else "current",
            **({"message": STORE_PENDING} if self.store_pending else {}),
        }


@dataclass
class Submission:
    """An edit as submitted: the record (as a model) and where statements came from."""

    model: RecordModel
    #: statement id -> index in the submitted JSON list (for placing errors next to fields)
    index: dict[str, int] = field(default_factory=dict)
    from_json: bool = False


class Editor:
    """The write path for staff edits. One per catalogue (``Catalogue.editor``)."""

    def __init__(self, cat: Repository, validation: Validation, privacy: Privacy) -> None:
        self.cat = cat
        self.validation = validation
        self.privacy = privacy
        self.ns = cat.ns
        self.lock = threading.RLock()
        self._ctx: Context | None = None
        self._ctx_at = -1
        self._languages: LanguageTags | None = None
        self._warming: threading.Thread | None = None

    # --- context ------------------------------------------------------------------------
    def context(self) -> Context:
        """The validation context, built once and kept current by this editor's own writes
        (rebuilt when anything else wrote to the catalogue)."""
        with self.lock:
            last = self.cat.revisions.last_id()
            if self._ctx is None or self._ctx_at != last:
                self._ctx = self.validation.build_context()
                self._ctx_at = last
                self._languages = None
            return self._ctx

    def warm_up(self) -> None:
        """Build the validation context in the background (it takes seconds on a large
        catalogue), so a staff member's first save does not wait for it."""
        if self._ctx is None and (self._warming is None or not self._warming.is_alive()):
            self._warming = threading.Thread(
                target=self._warm, name="bigtent-edit-context", daemon=True
            )
            self._warming.start()

    def _warm(self) -> None:
        try:
            self.context()
            self.languages()
        except Exception:  # the catalogue closed meanwhile; the next save builds it
            log.debug("warming the validation context failed", exc_info=True)

    def forget_context(self) -> None:
        """Drop the validation context: the next edit builds it afresh, as after a restart."""
        with self.lock:
            self._ctx = None

    def close(self) -> None:
        """Wait for a warm-up in progress (before the catalogue closes its store)."""
        if self._warming is not None:
            self._warming.join()

    def languages(self) -> LanguageTags:
        """Acceptable language tags (ISO 639-1, LANGUAGES, codes of language items)."""
        self.context()
        if self._languages is None:
            rows = self.cat.select(
                "SELECT ?code ?p WHERE { GRAPH ?g { ?l ?p ?code } }",
                {"p": self.ns.predicate("wdt", ids.LANGUAGE_CODE)},
            )
            codes = [r["code"].value for r in rows] + self.cat.settings.languages
            self._languages = LanguageTags(codes)
        return self._languages

    def property_types(self) -> dict[str, str]:
        """Property id -> wikibase:propertyType local name."""
        return self.context().property_types

    def _after_write(self, entity: str, triples: Sequence[Triple] | None, rev: Revision) -> None:
        """Keep the cached context current after one of our own writes."""
        ctx = self._ctx
        if ctx is None:
            return
        try:
            newest = self.cat.revisions.last_id()
        except Unavailable:  # the change is committed; only this cache hint is lost
            newest = None
        if entity.startswith("P") or newest != rev.id:
            self._ctx = None  # property definitions changed, or someone else wrote too
            return
        claims: dict[str, set[str]] = defaultdict(set)
        wdt = {self.ns.predicate("wdt", pid).value: pid for pid in INDEXED_PROPERTIES}
        me = self.ns.entity(entity)
        for s, p, o in triples or ():
            if s == me and p.value in wdt and isinstance(o, ox.NamedNode):
                claims[wdt[p.value]].add(o.value)
        ctx.set_entity_claims(entity, claims)
        if any(p == self.ns.predicate("wdt", ids.LANGUAGE_CODE) for _, p, _ in triples or ()):
            self._languages = None
        self._ctx_at = rev.id

    # --- reading --------------------------------------------------------------------------
    def current(self, entity: str) -> tuple[RecordModel, Revision]:
        """The entity's current record and its newest revision (live entities only)."""
        self._check_id(entity)
        state = self.cat.revisions.state(entity)
        if state is None:
            raise NotFound(f"there is no entity {entity} in this catalogue")
        if state.state == DELETED:
            raise BigtentError(
                f"{entity} was deleted; revert it to an earlier revision to restore it",
                title="Gone",
                status=410,
            )
        if state.state == REDIRECT:
            raise BigtentError(
                f"{entity} was merged into {state.redirect}; edit {state.redirect} instead",
                title="Gone",
                status=410,
            )
        _check_not_private(entity, state.state)
        rev = self.cat.revisions.get(entity)
        assert rev is not None
        return self._model_of(entity, rev), rev

    def _model_of(self, entity: str, rev: Revision) -> RecordModel:
        if rev.snapshot is None:
            return RecordModel(entity)
        triples = [
            (q.subject, q.predicate, q.object)
            for q in ox.parse(rev.snapshot, ox.RdfFormat.N_TRIPLES)
        ]
        return from_triples(self.ns, entity, triples)

    def record_json(self, entity: str) -> dict[str, object]:
        """The JSON model of an entity with its base revision."""
        model, rev = self.current(entity)
        data = model_json(model, self.property_types())
        data["revision"] = rev.id
        data["modified"] = rev.time
        return data

    @staticmethod
    def _check_id(entity: str) -> None:
        if not ENTITY_ID.match(entity):
            raise NotFound(f"{entity[:40]!r} is not an entity id: ids look like Q42 or P9")

    # --- parsing submissions ---------------------------------------------------------------
    def read_json(self, data: object, entity: str) -> Submission:
        """A JSON record (see :mod:`loader.records.record_model`) as a submission for ``entity``."""
        reader = JsonReader(self.ns, self.property_types(), self.languages().ok)
        model = reader.read(data, entity)
        if reader.problems:
            raise ValidationFailed(reader.problems)
        index: dict[str, int] = {}
        statements = []
        for i, st in enumerate(model.statements):
            if st.id is None:
                st = replace(st, id=f"{entity}-{uuid.uuid4()}")
            if st.id in index:
                raise ValidationFailed(
                    [FieldProblem(f"statements/{i}/id", f"statement {st.id} appears twice")]
                )
            index[st.id] = i  # type: ignore[index]
            statements.append(st)
        model.statements = statements
        return Submission(model, index, from_json=True)

    def problems(self, data: object, entity: str) -> list[FieldProblem]:
        """Every problem of a JSON record at once: what cannot be read, and what the shapes
        and the editor's rules say about the rest. A form shows them all together, rather
        than the unreadable values first and the shapes' verdict only on the next try."""
        reader = JsonReader(self.ns, self.property_types(), self.languages().ok)
        model = reader.read(data, entity)
        found = list(reader.problems)
        index: dict[str, int] = {}
        statements = []
        for position, st in zip(reader.positions, model.statements, strict=True):
            if st.id is None:
                st = replace(st, id=f"{entity}-{uuid.uuid4()}")
            if st.id in index:
                found.append(
                    FieldProblem(f"statements/{position}/id", f"statement {st.id} appears twice")
                )
                continue
            index[st.id] = position  # type: ignore[index]
            statements.append(st)
        model.statements = statements
        try:
            self._validate(entity, model, index)
        except ValidationFailed as exc:
            found += exc.problems
        return _unique(found)

    def read_rdf(
        self,
        body: bytes,
        entity: str,
        fmt: ox.RdfFormat = ox.RdfFormat.TURTLE,
        placeholder: bool = False,
    ) -> Submission:
        """An RDF record (short or full form, relative prefixes resolved against BASE_URL).
        With ``placeholder``, the record describes ``wd:new`` and becomes ``entity``."""
        source = Source("the submitted record", Path("-"), fmt, False)
        grouper = Grouper(source, self.ns, None, max(self.cat.settings.MAX_BUFFERED_TRIPLES, 1))
        rename = self._placeholder_renamer(entity) if placeholder else None
        try:
            for quad in ox.parse(body, fmt, base_iri=self.ns.base):
                if rename is not None:
                    quad = rename(quad)
                grouper.feed(quad, None)
            records = list(grouper.finish())
        except SyntaxError as exc:
            raise ValidationFailed(
                [FieldProblem("record", f"the record is not valid Turtle: {exc}")],
                "the record could not be read",
            ) from None
        except (SourceError, ValueError) as exc:
            text = exc.message if isinstance(exc, SourceError) else str(exc)
            raise ValidationFailed(
                [FieldProblem("record", text)], "the record could not be read"
            ) from None
        others = sorted(r.entity for r in records if r.entity != entity)
        if others:
            hint = "wd:new" if placeholder else f"wd:{entity}"
            raise ValidationFailed(
                [
                    FieldProblem(
                        "record",
                        f"the record describes {', '.join(others[:5])}; send exactly one "
                        f"record, about {hint}",
                    )
                ],
                "the record could not be read",
            )
        triples = records[0].triples if records else []
        normal = normalise(SourceRecord(entity, triples, "edit", None), self.context())
        return Submission(from_triples(self.ns, entity, normal.triples))

    def _placeholder_renamer(self, entity: str) -> Callable[[ox.Quad], ox.Quad]:
        new_iri = self.ns["wd"] + PLACEHOLDER
        new_stmt = self.ns["wds"] + PLACEHOLDER + "-"
        target = self.ns.entity(entity)

        def term(t: Any) -> Any:
            if isinstance(t, ox.NamedNode):
                if t.value == new_iri:
                    return target
                if t.value.startswith(new_stmt):
                    return ox.NamedNode(f"{self.ns['wds']}{entity}-{t.value[len(new_stmt) :]}")
            return t

        return lambda q: ox.Quad(term(q.subject), q.predicate, term(q.object), q.graph_name)

    # --- allocation ---------------------------------------------------------------------------
    def next_id(self, kind: str = "Q") -> str:
        """The next free id above every id in use (and at least NEW_ITEM_MIN /
        NEW_PROPERTY_MIN). Call with the lock held; the id is taken by the write."""
        settings = self.cat.settings
        minimum = int(settings.NEW_ITEM_MIN if kind == "Q" else settings.NEW_PROPERTY_MIN)
        return f"{kind}{max(minimum, self.cat.revisions.highest_number(kind) + 1)}"

    # --- validation ---------------------------------------------------------------------------
    def _validate(
        self, entity: str, model: RecordModel, index: Mapping[str, int]
    ) -> tuple[NormalRecord, list[FieldProblem]]:
        """Normalise and validate; raises ValidationFailed; returns warnings."""
        ctx = self.context()
        normal = normalise(SourceRecord(entity, to_triples(self.ns, model), "edit", None), ctx)
        limit = int(self.cat.settings.MAX_RECORD_TRIPLES)
        if len(normal.triples) > limit:
            raise ValidationFailed(
                [
                    FieldProblem(
                        "record",
                        f"the record has {len(normal.triples)} triples, more "
                        f"than MAX_RECORD_TRIPLES ({limit}) allows",
                    )
                ]
            )
        found = self.validation.shapes.validate(normal.triples, ctx) + self._editor_checks(
            entity, normal
        )
        mapper = _ProblemMapper(self.ns, entity, normal.triples, index)
        errors = [mapper.map(p) for p in found if p.severity == "Violation"]
        warnings = [mapper.map(p) for p in found if p.severity != "Violation"]
        if errors:
            raise ValidationFailed(_unique(errors))
        return normal, _unique(warnings)

    def _editor_checks(self, entity: str, normal: NormalRecord) -> list[Problem]:
        """Rules for hand-made input that bulk loads do not need (see module docstring)."""
        ns, types, langs = self.ns, self.property_types(), self.languages()
        problems: list[Problem] = []
        referenced: dict[str, list[Triple]] = defaultdict(list)

        def problem(t: Triple, component: str, message: str) -> None:
            s, p, o = t
            focus = s.value if isinstance(s, ox.NamedNode) else f"_:{s.value}"
            problems.append(Problem(focus, p.value, str(o), "(editor)", component, message))

        for t in normal.triples:
            _s, p, o = t
            if isinstance(o, ox.Literal) and o.language and not langs.ok(o.language):
                problem(
                    t,
                    "KnownLanguage",
                    f"{o.language!r} is not a known language code: use "
                    "an ISO 639 code such as en, fr or pt-BR (a catalogue allows more "
                    "languages through language items with a language code (P41))",
                )
            split = ns.split_predicate(p.value)
            if split is not None and split[0] in ("ps", "pq", "pr"):
                ptype = types.get(split[1])
                if (
                    ptype == "Url"
                    and isinstance(o, ox.NamedNode)
                    and not re.match(r"^https?://", o.value, re.IGNORECASE)
                ):
                    problem(
                        t,
                        "WebAddress",
                        f"{split[1]} takes a web address starting with "
                        f"http:// or https://, not {o.value[:80]!r}",
                    )
                if ptype == "Time" and isinstance(o, ox.Literal) and time_value(o) is None:
                    problem(
                        t,
                        "RealDate",
                        f"{o.value[:40]!r} is not a real date ({split[1]}): "
                        "check the month and the day",
                    )
            derived = (split is not None and split[0] == "wdt") or p.value == IN_SCHEME
            if isinstance(o, ox.NamedNode) and not derived:
                eid = ns.entity_id(o.value)
                if eid is not None and eid != entity:
                    referenced[eid].append(t)
        states = self.cat.revisions.states(referenced)
        for eid, uses in sorted(referenced.items()):
            state = states.get(eid)
            if state is None:
                message = f"{eid} does not exist in this catalogue: check the id"
            elif state.state == DELETED:
                message = f"{eid} was deleted: refer to another entity, or restore {eid} first"
            elif state.state == ERASED:
                message = f"{eid} was erased: refer to another entity"
            elif state.state == REDIRECT:
                message = f"{eid} was merged into {state.redirect}: refer to {state.redirect}"
            else:
                continue
            for t in uses:
                problem(t, "LiveReference", message)
        return problems

    # --- writing ------------------------------------------------------------------------------
    def create(
        self,
        submit: Callable[[str], Submission],
        *,
        author: str,
        summary: str = "",
        kind: str = "Q",
    ) -> SaveResult:
        """Create an entity: ``submit(new_id)`` gives the record for the allocated id."""
        if kind not in ("Q", "P"):
            raise BigtentError("new entities are items (Q) or properties (P)")
        with self.lock:
            for _attempt in range(5):
                entity = self.next_id(kind)
                submission = submit(entity)
                normal, warnings = self._validate(entity, submission.model, submission.index)
                try:
                    rev = self._write(
                        entity, "create", normal, author, summary or "Created", expect=None
                    )
                except StaleRevision:
                    continue  # another process took the id meanwhile: take the next one
                return self._saved(entity, rev, None, warnings)
            raise BigtentError("could not allocate a new id; try again", status=503)

    def save(
        self,
        entity: str,
        submission: Submission,
        base: int | None,
        *,
        author: str,
        summary: str = "",
    ) -> SaveResult:
        """Save an edit of ``entity`` made on revision ``base``, merging it with any newer
        revision when the changes do not conflict."""
        for _attempt in range(3):
            try:
                return self._save_once(entity, submission, base, author=author, summary=summary)
            except StaleRevision:
                # Another process wrote between our read and our write: merge again with
                # what it wrote (a conflict then shows both versions).
                continue
        return self._save_once(entity, submission, base, author=author, summary=summary)

    def _save_once(
        self,
        entity: str,
        submission: Submission,
        base: int | None,
        *,
        author: str,
        summary: str = "",
    ) -> SaveResult:
        if base is None:
            raise BigtentError(
                "say which revision your edit is based on (base_revision): it is the "
                "'revision' of GET /api/entity/<id>",
                status=428,
                title="Base revision required",
            )
        with self.lock:
            theirs, latest = self.current(entity)
            mine = submission.model
            merged_with = None
            if base != latest.id:
                base_rev = self.cat.revisions.get(entity, base)
                if base_rev is None:
                    raise BigtentError(
                        f"{entity} has no revision {base}", status=409, title="Conflict"
                    )
                base_model = self._model_of(entity, base_rev)
                if submission.from_json:
                    mine = _keep_other(mine, base_model)
                mine = _adopt(mine, base_model)
                merged, conflicts = merge3(base_model, theirs, mine)
                if conflicts:
                    raise self._conflict(entity, base, latest, theirs, mine, conflicts)
                try:
                    normal, warnings = self._validate(entity, merged, submission.index)
                except ValidationFailed as exc:
                    raise self._conflict(
                        entity, base, latest, theirs, mine, [], exc.problems
                    ) from None
                merged_with = latest.id
            else:
                if submission.from_json:
                    mine = _keep_other(mine, theirs)
                mine = _adopt(mine, theirs)
                normal, warnings = self._validate(entity, mine, submission.index)
            if normal.content_hash == self.cat.revisions.state(entity).content_hash:  # type: ignore[union-attr]
                return SaveResult(entity, None, None, warnings)
            rev = self._write(
                entity, "update", normal, author, summary or "Edited", expect=latest.id
            )
            return self._saved(entity, rev, merged_with, warnings)

    def revert(
        self,
        entity: str,
        revision: int,
        *,
        author: str,
        summary: str = "",
        base: int | None = None,
    ) -> SaveResult:
        """Make ``entity`` what it was after ``revision`` (a new revision; restores a
        deleted or merged entity). The summary always starts "Reverted to revision N"
        (the audit view finds reverts by it)."""
        self._check_id(entity)
        with self.lock:
            state = self.cat.revisions.state(entity)
            if state is None:
                raise NotFound(f"there is no entity {entity} in this catalogue")
            if base is not None and base != state.latest:
                raise BigtentError(
                    f"{entity} has changed since revision {base} (now {state.latest}); look at "
                    "its history again before reverting",
                    status=409,
                    title="Conflict",
                )
            _check_not_private(entity, state.state)
            old = self.cat.revisions.get(entity, revision)
            if old is None:
                raise NotFound(f"{entity} has no revision {revision}")
            if old.snapshot is None:
                raise BigtentError(
                    f"revision {revision} of {entity} is a {old.action}, which has no content "
                    "to go back to: pick a revision before it",
                    status=409,
                    title="Conflict",
                )
            model = self._model_of(entity, old)
            normal, warnings = self._validate(entity, model, {})
            if state.state == LIVE and normal.content_hash == state.content_hash:
                return SaveResult(entity, None, None, warnings)
            action = "update" if state.state == LIVE else "restore"
            rev = self._write(
                entity,
                action,
                normal,
                author,
                f"{REVERT_SUMMARY}{revision}" + (f": {summary}" if summary else ""),
                expect=state.latest,
            )
            return self._saved(entity, rev, None, warnings)

    def delete(self, entity: str, reason: str, *, author: str, base: int | None = None) -> Revision:
        """Delete ``entity`` with a reason (a tombstone revision)."""
        self._check_id(entity)
        if not reason.strip():
            raise BigtentError(
                "give a reason for the deletion (reason)", status=422, title="Reason required"
            )
        with self.lock:
            state = self.cat.revisions.state(entity)
            if base is not None and state is not None and base != state.latest:
                raise BigtentError(
                    f"{entity} has changed since revision {base} (now {state.latest}); look at "
                    "it again before deleting it",
                    status=409,
                    title="Conflict",
                )
            rev = self.cat.delete(entity, reason.strip(), author)
            self._after_write(entity, [], rev)
            return rev

    def hide(self, entity: str, reason: str, *, author: str) -> Revision:
        """Hide a person item from the public (``loader.editing.privacy``)."""
        self._check_id(entity)
        with self.lock:
            return self.privacy.hide(entity, reason, author)

    def unhide(self, entity: str, *, author: str, summary: str = "") -> Revision:
        """Show a hidden person item again."""
        self._check_id(entity)
        with self.lock:
            return self.privacy.unhide(entity, author, summary)

    def merge(
        self, source: str, target: str, *, author: str, summary: str = ""
    ) -> tuple[Revision, Revision]:
        """Merge ``source`` into ``target`` (``source`` then redirects)."""
        self._check_id(source)
        self._check_id(target)
        with self.lock:
            result = merge(self.cat, self.validation, source, target, author, summary)
            self._ctx = None  # two entities changed: rebuild at the next edit
            return result

    def _saved(
        self,
        entity: str,
        rev: Revision,
        merged_with: int | None,
        warnings: list[FieldProblem],
    ) -> SaveResult:
        return SaveResult(
            entity, rev, merged_with, warnings, store_pending=self.cat.pending([entity])
        )

    def _write(
        self,
        entity: str,
        action: str,
        normal: NormalRecord,
        author: str,
        summary: str,
        expect: int | None,
    ) -> Revision:
        [rev] = self.cat.write_revisions(
            [
                NewRevision(
                    entity,
                    action,
                    author,
                    summary[:1000],
                    normal.content_hash,
                    normal.ntriples(),
                    expect_latest=expect,
                    check_latest=True,
                )
            ]
        )
        self._after_write(entity, normal.triples, rev)
        return rev

    def _conflict(
        self,
        entity: str,
        base: int,
        latest: Revision,
        theirs: RecordModel,
        mine: RecordModel,
        conflicts: list[Conflict],
        problems: Sequence[FieldProblem] = (),
    ) -> EditConflict:
        types = self.property_types()

        def show(value: object) -> object:
            return statement_json(value, types) if isinstance(value, Statement) else value

        fields = []
        for c in conflicts:
            item: dict[str, object] = {"field": c.field}
            for key in ("language", "statement", "property"):
                if getattr(c, key) is not None:
                    item[key] = getattr(c, key)
            item.update(base=show(c.base), theirs=show(c.theirs), mine=show(c.mine))
            if c.reason:
                item["reason"] = c.reason
            fields.append(item)
        detail = (
            f"{len(conflicts)} field(s) were changed both by you and in revision {latest.id}"
            if conflicts
            else f"your changes and those of revision {latest.id} are each fine but not together"
        )
        return EditConflict(
            f"{entity} was changed by {latest.author} (revision {latest.id}, {latest.time}) "
            f"after the revision {base} you started from: {detail}. Nothing was saved; "
            "reconcile the two versions and save again with base_revision "
            f"{latest.id}.",
            {
                "entity": entity,
                "base_revision": base,
                "latest_revision": latest.id,
                "latest_author": latest.author,
                "fields": fields,
                "problems": [p.as_dict() for p in problems],
                "theirs": model_json(theirs, types),
                "mine": model_json(mine, types),
            },
        )


def _keep_other(mine: RecordModel, previous: RecordModel) -> RecordModel:
    """The JSON model does not carry the triples it cannot express: keep them."""
    if mine.other:
        # e.g. a property's datatype set through JSON: keep previous ones it does not replace
        predicates = {p for _, p, _ in mine.other}
        kept = [t for t in previous.other if t[1] not in predicates]
        return replace(mine, other=kept + list(mine.other))
    return replace(mine, other=list(previous.other))


def _adopt(mine: RecordModel, previous: RecordModel) -> RecordModel:
    """Reuse the stored form (value nodes, reference IRIs) of everything unchanged, so an
    unchanged part saves as exactly the same triples."""
    old = previous.statement_map()
    values: dict[Value, Value] = {}
    refs: dict[Reference, Reference] = {}
    for st in previous.statements:
        for v in [
            st.value,
            *(q.value for q in st.qualifiers),
            *(s.value for r in st.references for s in r.snaks),
        ]:
            if v is not None and v.node is not None:
                values.setdefault(v, v)
        for r in st.references:
            refs.setdefault(r, r)

    def snak(s: Snak) -> Snak:
        return s if s.value is None else Snak(s.property, values.get(s.value, s.value))

    statements = []
    for st in mine.statements:
        before = old.get(st.id or "")
        if before is not None and before.content() == st.content():
            statements.append(before)
            continue
        statements.append(
            replace(
                st,
                value=None if st.value is None else values.get(st.value, st.value),
                qualifiers=tuple(snak(q) for q in st.qualifiers),
                references=tuple(
                    refs.get(r, Reference(tuple(snak(s) for s in r.snaks))) for r in st.references
                ),
            )
        )
    return replace(mine, statements=statements)


def _unique(problems: list[FieldProblem]) -> list[FieldProblem]:
    """Problems without repeats: a rule broken by a statement and by its truthy triple
    (wdt:) is one problem for the editor."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for problem in problems:
        text = re.sub(r"\b(wdt|ps):", "", problem.message)
        text = re.sub(r" \([^()]*prop/(direct/)?P[0-9]+[^()]*\)$", "", text)
        key = (problem.statement or problem.field, problem.property, problem.language, text)
        if key not in seen:
            seen.add(key)
            out.append(problem)
    return out


class _ProblemMapper:
    """Turns shape problems (focus node, path, value) into fields of the submitted record.

    Problems about truthy triples are put on the statement they derive from, and problems
    without a path on the triple that holds their value, so the form can show each next
    to the field it is about."""

    def __init__(
        self, ns: Any, entity: str, triples: Sequence[Triple], index: Mapping[str, int]
    ) -> None:
        self.ns = ns
        self.me = ns.entity(entity).value
        self.index = index
        self.statement_of: dict[str, str] = {}  # statement IRI -> property
        #: reference or value node -> (the statement or reference holding it, field part)
        self.holder: dict[str, tuple[str, str]] = {}
        #: (subject, value) -> predicate, for problems reported without a path
        self.predicate_of: dict[tuple[str, str], str] = {}
        #: (property, main value) -> statement, for problems about truthy triples
        self.truthy: dict[tuple[str, str], str] = {}
        parts = {"psv": "value", "pqv": "qualifiers", "prv": "references"}
        for s, p, o in triples:
            owner, key = term_text(s), term_text(o)
            self.predicate_of.setdefault((owner, key), p.value)
            split = ns.split_predicate(p.value)
            if split is not None and split[0] == "ps":
                self.truthy.setdefault((split[1], key), owner)
            if not isinstance(o, ox.NamedNode | ox.BlankNode):
                continue
            if owner == self.me and split is not None and split[0] == "p":
                self.statement_of[key] = split[1]
            elif p.value == DERIVED_FROM:
                self.holder.setdefault(key, (owner, "references"))
            elif split is not None and split[0] in parts:
                self.holder.setdefault(key, (owner, parts[split[0]]))

    def map(self, problem: Problem) -> FieldProblem:
        """The field a problem belongs to."""
        focus, path, value = problem.focus, problem.path or "", problem.value
        if not path and value is not None:
            path = self.predicate_of.get((focus, value), "")
        language = None
        if value and (m := _LANG.search(value)):
            language = m.group(1)
        split = self.ns.split_predicate(path) if path else None
        pid = split[1] if split else None
        message, severity = problem.message, problem.severity
        part = ""
        if focus == self.me:
            if path in _TERM_FIELDS:
                return FieldProblem(
                    _TERM_FIELDS[path], message, language=language, severity=severity
                )
            if split is not None and split[0] == "wdt" and value is not None:
                statement = self.truthy.get((split[1], value))
                if statement is not None:
                    focus, part = statement, "value"
            elif split is not None and split[0] == "p" and value in self.statement_of:
                focus = value
        if focus == self.me:
            if pid is not None:
                return FieldProblem("statements", message, property=pid, severity=severity)
            return FieldProblem("record", message, severity=severity)
        seen = 0
        while focus not in self.statement_of and focus in self.holder and seen < 4:
            focus, holder_part = self.holder[focus]
            part = "references" if holder_part == "references" else part or holder_part
            seen += 1
        if focus in self.statement_of:
            prop = self.statement_of[focus]
            if not part:
                if split is not None and split[0] in ("pq", "pqv"):
                    part = "qualifiers"
                elif path == DERIVED_FROM or (split is not None and split[0] in ("pr", "prv")):
                    part = "references"
                elif path.endswith("#rank"):
                    part = "rank"
                elif split is not None and split[0] in ("ps", "psv"):
                    part = "value"
            sid = focus[len(self.ns["wds"]) :] if focus.startswith(self.ns["wds"]) else None
            where = "statements"
            if sid is not None and sid in self.index:
                where = f"statements/{self.index[sid]}"
                if part:
                    where += f"/{part}"
            return FieldProblem(
                where,
                message,
                property=prop if part in ("", "value", "rank") else pid or prop,
                statement=sid,
                language=language,
                severity=severity,
            )
        return FieldProblem("record", message, property=pid, language=language, severity=severity)


def _check_not_private(entity: str, state: str) -> None:
    """Hidden and erased persons are not edited: an edit would publish them again."""
    if state == HIDDEN:
        raise BigtentError(
            f"{entity} is hidden; unhide it before editing or reverting it",
            title="Hidden",
            status=409,
        )
    if state == ERASED:
        raise BigtentError(f"{entity} was erased; nothing of it is kept", title="Gone", status=410)
