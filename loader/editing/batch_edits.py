"""QuickStatements and CSV imports: a batch of edits made into whole records.

:mod:`loader.records.quickstatements` reads the file into edits (a term, a statement to
add); here they become records the bulk import validates and writes like any other
(:mod:`loader.editing.bulk_import`). An existing entity starts from its current record
and gains what the file says, as QuickStatements does: a label or description replaces
the one in its language, an alias is added, and a statement whose property and value the
record already has gains the line's qualifiers and sources instead of being repeated.
Items the file creates (``CREATE``, or an empty ``qid`` cell) take the next free ids in
order; the report shows those ids, and confirming checks again under the Editor's lock
that they are still free (else the user sees a new report).

In the item columns of a CSV file, a cell that is not an item id is a name, looked up
with the reconciliation service (:func:`loader.discovery.reconciliation.reconcile`): the
single candidate it calls a ``match`` is used and shown in the report; a name with no
such candidate leaves its row's record out of the import, listed with its candidates, for
the person to write the chosen id in the file and upload it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from loader.base.errors import BigtentError
from loader.discovery.reconciliation import MAX_TEXT, Query, reconcile
from loader.records.quickstatements import Batch, Edit, Reader, read_csv
from loader.records.record_model import RecordModel, Statement, to_triples
from loader.records.source import SourceRecord
from loader.storage.page_index import PageIndex

if TYPE_CHECKING:
    from loader.editing.editor import Editor

#: upload formats this module reads (keys of the upload form's format list)
QUICKSTATEMENTS, CSV = "qs", "csv"
#: candidates listed for a name a person must choose
LISTED_CANDIDATES = 5


@dataclass
class NameMatch:
    """A name in an item column and what reconciliation made of it."""

    line: int
    column: str
    text: str
    property: str
    chosen: str | None
    candidates: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "line": self.line,
            "column": self.column,
            "text": self.text,
            "property": self.property,
            "chosen": self.chosen,
            "candidates": self.candidates,
        }


@dataclass
class Prepared:
    """A batch made into records: each with its line, and the problems that keep it out."""

    records: list[SourceRecord] = field(default_factory=list)
    #: entity -> why it cannot be imported (the file is fine otherwise)
    refused: dict[str, list[str]] = field(default_factory=dict)
    names: list[NameMatch] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    new_ids: dict[str, str] = field(default_factory=dict)


class _Names:
    """Resolves the names of CSV item columns with the reconciliation service."""

    def __init__(self, index: PageIndex | None, languages: Sequence[str]) -> None:
        self.index = index
        self.languages = languages
        self.found: list[NameMatch] = []
        self._cache: dict[str, tuple[str | None, list[dict[str, object]]]] = {}

    def __call__(self, text: str, pid: str, line: int, column: str) -> str | None:
        if text not in self._cache:
            self._cache[text] = self._lookup(text)
        chosen, candidates = self._cache[text]
        self.found.append(NameMatch(line, column, text, pid, chosen, candidates))
        return chosen

    def _lookup(self, text: str) -> tuple[str | None, list[dict[str, object]]]:
        if self.index is None:
            return None, []
        found = reconcile(
            self.index, Query(text[:MAX_TEXT], limit=LISTED_CANDIDATES), self.languages
        )
        found = [c for c in found if c.id.startswith("Q")]  # item columns take items
        strong = [c for c in found if c.match]
        chosen = strong[0].id if len(strong) == 1 else None
        return chosen, [
            {"id": c.id, "name": c.name, "description": c.description, "score": c.score}
            for c in found
        ]


def read_batch(data: bytes, fmt: str, reader: Reader) -> Batch:
    """The edits of a QuickStatements or CSV file (problems in ``Batch.problems``)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reader.batch.problems.append(
            f"byte {exc.start + 1}: the file is not UTF-8 text; save it as UTF-8"
        )
        return reader.batch
    if fmt == CSV:
        return read_csv(reader, text)
    return reader.quickstatements(text)


def prepare(
    editor: Editor,
    data: bytes,
    fmt: str,
    index: PageIndex | None,
    languages: Sequence[str],
) -> Prepared:
    """Read a file's edits and apply them to the records they touch (nothing written)."""
    if index is not None:
        index.catch_up()
    names = _Names(index, languages) if fmt == CSV else None
    reader = Reader(
        editor.ns,
        editor.property_types(),
        editor.languages().ok,
        max_field=int(editor.cat.settings.MAX_LITERAL_BYTES),
        resolve=names,
    )
    batch = read_batch(data, fmt, reader)
    out = Prepared(names=names.found if names else [])
    if batch.problems:
        out.file_errors = batch.problems
        return out
    first = int(editor.next_id("Q")[1:])
    out.new_ids = {f"#{n}": f"Q{first + n - 1}" for n in range(1, batch.created + 1)}
    edits: dict[str, list[Edit]] = {}
    for edit in batch.edits:
        edits.setdefault(edit.subject, []).append(edit)
    for subject in list(edits) + [s for s in batch.unresolved if s not in edits]:
        entity = out.new_ids.get(subject, subject)
        mine = edits.get(subject, [])
        lines = [e.line for e in mine] + batch.unresolved.get(subject, [])
        line = min(lines)
        if subject in batch.unresolved:
            waiting = [n for n in out.names if n.chosen is None and n.line in lines]
            out.refused[entity] = [
                f"line {n.line}, {n.column}: the name {n.text!r} "
                + (
                    "matches nothing in the catalogue"
                    if not n.candidates
                    else "is not matched with certainty; candidates: "
                    + ", ".join(f"{c['id']} ({c['name']})" for c in n.candidates)
                )
                + ": write the chosen item id in the cell and upload the file again"
                for n in waiting
            ]
        if subject.startswith("#"):
            model = RecordModel(entity)
        else:
            try:
                model, _rev = editor.current(subject)
            except BigtentError as exc:
                out.refused.setdefault(entity, []).append(f"line {line}: {exc.message}")
                out.records.append(SourceRecord(entity, [], "import", line))
                continue
        for edit in mine:
            _apply(model, edit)
        out.records.append(SourceRecord(entity, to_triples(editor.ns, model), "import", line))
    return out


def _apply(model: RecordModel, edit: Edit) -> None:
    """One edit, QuickStatements' way (see the module docstring)."""
    if edit.kind in ("labels", "descriptions"):
        assert edit.language is not None and edit.text is not None
        getattr(model, edit.kind)[edit.language] = edit.text
    elif edit.kind == "aliases":
        assert edit.language is not None and edit.text is not None
        have = model.aliases.setdefault(edit.language, [])
        if edit.text not in have and edit.text != model.labels.get(edit.language):
            have.append(edit.text)
    elif edit.kind == "statement":
        assert edit.statement is not None
        _add_statement(model, edit.statement)


def _add_statement(model: RecordModel, new: Statement) -> None:
    for i, st in enumerate(model.statements):
        if st.property == new.property and st.value == new.value:
            qualifiers = tuple(dict.fromkeys(st.qualifiers + new.qualifiers))
            references = tuple(dict.fromkeys(st.references + new.references))
            model.statements[i] = replace(st, qualifiers=qualifiers, references=references)
            return
    model.statements.append(new)
