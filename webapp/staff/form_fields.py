"""The edit form's fields: to and from the JSON record model, and problems placed on them.

A form is flat HTML controls named by row numbers (``term-0-label``, ``st-3-value``,
``st-3-q-0-value``, ``st-3-r-1-0-value``). :class:`FormState` is what the form shows;
it is built from a stored record (its JSON model) or from submitted form data, so a
form that fails to save is shown again exactly as it was typed. :func:`to_json` turns
a state into the JSON record the Editor reads, skipping blank rows and remembering
which row each statement, qualifier and reference came from, so that the Editor's
problems (``statements/2/qualifiers/0`` …) can be shown next to their controls.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loader.records.coordinates import decimal_text
from loader.records.record_model import FieldProblem

KINDS = ("value", "novalue", "somevalue")
RANKS = ("normal", "preferred", "deprecated")
PRECISIONS = {"9": "year", "10": "month", "11": "day", "14": "second"}
#: Most rows of each kind one form may have (a forged form cannot make the server loop).
MAX_ROWS = 2000
_NAME = re.compile(
    r"^(?:term-(?P<t>\d{1,6})-(?P<tpart>lang|label|description|aliases)"
    r"|st-(?P<s>\d{1,6})-(?:(?P<spart>property|id|kind|value|lang|precision|lat|lon|rank|remove)"
    r"|q-(?P<q>\d{1,6})-(?P<qpart>property|kind|value|lang|precision|lat|lon|remove)"
    r"|r-(?P<r>\d{1,6})-(?P<k>\d{1,6})-(?P<rpart>property|kind|value|lang|precision|lat|lon|remove)))$"
)
_ENTITY_AT_END = re.compile(r"\b([QP][1-9][0-9]{0,15})\)?\s*$")


@dataclass
class SnakRow:
    """A property and value as typed (a statement's main snak, a qualifier, a source)."""

    property: str = ""
    kind: str = "value"
    value: str = ""
    lang: str = ""
    precision: str = ""  # a time's (9, 10, …) or a coordinate's, in degrees
    remove: bool = False
    lat: str = ""  # a globe coordinate's latitude and longitude, in decimal degrees
    lon: str = ""

    def blank(self) -> bool:
        """True when nothing was typed in the row."""
        return (
            self.kind == "value"
            and not self.value.strip()
            and not self.lat.strip()
            and not self.lon.strip()
        )


@dataclass
class StatementRow(SnakRow):
    """A statement as typed."""

    n: int = 0
    id: str = ""
    rank: str = "normal"
    qualifiers: dict[int, SnakRow] = field(default_factory=dict)
    references: dict[int, dict[int, SnakRow]] = field(default_factory=dict)

    def empty(self) -> bool:
        """True when neither the value nor any qualifier or source value was typed."""
        return (
            self.blank()
            and all(q.blank() for q in self.qualifiers.values())
            and all(s.blank() for ref in self.references.values() for s in ref.values())
        )


@dataclass
class TermRow:
    """Label, description and aliases in one language."""

    n: int
    lang: str = ""
    label: str = ""
    description: str = ""
    aliases: str = ""  # one per line

    def empty(self) -> bool:
        """True when no text was typed."""
        return not (self.label.strip() or self.description.strip() or self.aliases.strip())


@dataclass
class FormState:
    """Everything an edit form shows."""

    terms: list[TermRow] = field(default_factory=list)
    statements: list[StatementRow] = field(default_factory=list)
    base_revision: str = ""
    summary: str = ""
    datatype: str = ""  # a property's datatype (property entities only)

    def next_statement(self) -> int:
        """A free statement row number."""
        return max((s.n for s in self.statements), default=-1) + 1

    def statement(self, n: int) -> StatementRow | None:
        """The statement row number ``n``."""
        return next((s for s in self.statements if s.n == n), None)

    def add_language(self, lang: str = "") -> TermRow:
        """A new language row."""
        row = TermRow(max((t.n for t in self.terms), default=-1) + 1, lang)
        self.terms.append(row)
        return row

    def add_statement(self, pid: str, value: str = "") -> StatementRow:
        """A new (blank) statement row for a property."""
        row = StatementRow(property=pid, value=value, n=self.next_statement())
        self.statements.append(row)
        return row

    def languages(self) -> list[str]:
        """Languages of the term rows."""
        return [t.lang for t in self.terms]

    def shows_datatype(self, types: Mapping[str, str], datatype: str) -> bool:
        """True when the form draws a value control of ``datatype`` (a statement's value,
        or a qualifier or source given as a value): the page then loads what that control
        needs, such as the map picker's Leaflet for ``GlobeCoordinate``."""
        for st in self.statements:
            snaks: list[SnakRow] = [st, *st.qualifiers.values()]
            snaks += [s for ref in st.references.values() for s in ref.values()]
            for snak in snaks:
                shown = snak is st or snak.kind == "value"
                if shown and types.get(snak.property.strip()) == datatype:
                    return True
        return False


# --- from the JSON record model ---------------------------------------------------------------


def _snak_from_json(data: Mapping[str, Any], row: SnakRow) -> SnakRow:
    row.property = str(data.get("property", ""))
    if data.get("novalue"):
        row.kind = "novalue"
    elif data.get("somevalue"):
        row.kind = "somevalue"
    value = data.get("value")
    if isinstance(value, dict) and "text" in value:
        row.value, row.lang = str(value.get("text", "")), str(value.get("language", ""))
    elif isinstance(value, dict) and "time" in value:
        row.value, row.precision = str(value["time"]), str(value.get("precision") or "")
    elif isinstance(value, dict) and "latitude" in value:
        row.lat, row.lon = _degrees(value.get("latitude")), _degrees(value.get("longitude"))
        row.precision = _degrees(value.get("precision"))
    elif value is not None:
        row.value = str(value)
        if isinstance(value, str) and _TIME_TEXT.match(value):
            row.precision = str(implied_precision(value))
    return row


def _degrees(number: object) -> str:
    """A coordinate's number as the form shows it: decimal text, never ``1e-05``."""
    if number is None:
        return ""
    try:
        return decimal_text(str(number))
    except ValueError:
        return str(number)


def from_json(record: Mapping[str, Any], types: Mapping[str, str]) -> FormState:
    """The form of a record in the JSON model (``Editor.record_json``)."""
    state = FormState(
        base_revision=str(record.get("revision", "") or ""),
        datatype=str(record.get("datatype") or ""),
    )
    languages = sorted(
        set(record.get("labels", {}))
        | set(record.get("descriptions", {}))
        | set(record.get("aliases", {}))
    )
    for lang in languages:
        term = state.add_language(lang)
        term.label = record.get("labels", {}).get(lang, "")
        term.description = record.get("descriptions", {}).get(lang, "")
        term.aliases = "\n".join(record.get("aliases", {}).get(lang, []))
    for st in record.get("statements", []):
        row = StatementRow(n=state.next_statement())
        _snak_from_json(st, row)
        if types.get(row.property) not in ("Time", "GlobeCoordinate"):
            row.precision = ""
        row.id = str(st.get("id") or "")
        row.rank = str(st.get("rank", "normal"))
        for i, q in enumerate(st.get("qualifiers", [])):
            row.qualifiers[i] = _snak_from_json(q, SnakRow())
        for i, ref in enumerate(st.get("references", [])):
            row.references[i] = {k: _snak_from_json(s, SnakRow()) for k, s in enumerate(ref)}
        state.statements.append(row)
    return state


# --- from submitted form data ------------------------------------------------------------------


def from_form(form: Mapping[str, str]) -> FormState:
    """The form as submitted (unknown control names are ignored; the rows are put in
    row-number order)."""
    state = FormState(
        base_revision=str(form.get("base_revision", "")).strip(),
        summary=str(form.get("summary", "")),
        datatype=str(form.get("datatype", "")),
    )
    terms: dict[int, TermRow] = {}
    statements: dict[int, StatementRow] = {}
    for name, raw in form.items():
        m = _NAME.match(name)
        if m is None:
            continue
        value = str(raw)
        if m["t"] is not None:
            n = int(m["t"])
            if n not in terms and len(terms) >= MAX_ROWS:
                continue
            setattr(terms.setdefault(n, TermRow(n)), m["tpart"], value)
            continue
        n = int(m["s"])
        if n not in statements and len(statements) >= MAX_ROWS:
            continue
        st = statements.setdefault(n, StatementRow(n=n))
        if m["spart"] is not None:
            _set(st, m["spart"], value)
        elif m["q"] is not None and len(st.qualifiers) < MAX_ROWS:
            _set(st.qualifiers.setdefault(int(m["q"]), SnakRow()), m["qpart"], value)
        elif m["r"] is not None and len(st.references) < MAX_ROWS:
            ref = st.references.setdefault(int(m["r"]), {})
            if len(ref) < MAX_ROWS:
                _set(ref.setdefault(int(m["k"]), SnakRow()), m["rpart"], value)
    state.terms = [terms[n] for n in sorted(terms)]
    state.statements = [statements[n] for n in sorted(statements)]
    for st in state.statements:
        st.qualifiers = dict(sorted(st.qualifiers.items()))
        st.references = {k: dict(sorted(v.items())) for k, v in sorted(st.references.items())}
    return state


def _set(row: SnakRow, part: str, value: str) -> None:
    if part == "remove":
        row.remove = value not in ("", "0", "false")
    else:
        setattr(row, part, value)


# --- to the JSON record model ------------------------------------------------------------------

_TIME_TEXT = re.compile(r"^[+-]?\d{1,16}(-\d\d){0,2}(T\d\d:\d\d:\d\dZ)?$")


def implied_precision(text: str) -> int:
    """The precision a date as written implies (9 year, 10 month, 11 day, 14 time)."""
    body = text.strip().lstrip("+-")
    if "T" in body:
        return 14
    return 8 + min(3, len(body.split("-")))


def entity_id_in(text: str) -> str:
    """The entity id a typed value ends with ("Wikimedia Deutschland (Q1001)" from the
    type-ahead, or just "Q1001"); the text itself when there is none."""
    m = _ENTITY_AT_END.search(text.strip())
    return m.group(1) if m else text.strip()


def _value(row: SnakRow, ptype: str) -> object:
    text = row.value.strip()
    if ptype in ("WikibaseItem", "WikibaseProperty"):
        return entity_id_in(text)
    if ptype == "Monolingualtext":
        return {"text": row.value, "language": row.lang.strip()}
    if ptype == "Time":
        precision = row.precision.strip()
        if not precision or not _TIME_TEXT.match(text):
            return text
        if precision.isdigit() and int(precision) == implied_precision(text):
            return text
        return {"time": text, "precision": int(precision) if precision.isdigit() else precision}
    if ptype in ("String", "ExternalId"):
        return row.value
    if ptype == "GlobeCoordinate":
        # Texts as typed, so the decimals written give the precision when none is chosen.
        coordinate: dict[str, object] = {"latitude": row.lat.strip(), "longitude": row.lon.strip()}
        if row.precision.strip():
            coordinate["precision"] = row.precision.strip()
        return coordinate
    return text


def _snak(row: SnakRow, types: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {"property": row.property.strip()}
    if row.kind == "novalue":
        out["novalue"] = True
    elif row.kind == "somevalue":
        out["somevalue"] = True
    else:
        out["value"] = _value(row, types.get(row.property.strip(), ""))
    return out


@dataclass
class Placement:
    """Where each part of the JSON record came from in the form."""

    statements: list[StatementRow] = field(default_factory=list)  # by JSON index
    qualifiers: dict[tuple[int, int], int] = field(default_factory=dict)  # (i, j) -> row
    references: dict[tuple[int, int], int] = field(default_factory=dict)  # (i, j) -> ref row


def to_json(state: FormState, types: Mapping[str, str]) -> tuple[dict[str, Any], Placement]:
    """The JSON record of a form and where its parts came from. Blank rows, and rows
    marked for removal, are left out."""
    record: dict[str, Any] = {"labels": {}, "descriptions": {}, "aliases": {}, "statements": []}
    if state.datatype:
        record["datatype"] = state.datatype
    for row in state.terms:
        if row.empty():
            continue
        lang = row.lang.strip()
        if row.label.strip():
            record["labels"][lang] = row.label
        if row.description.strip():
            record["descriptions"][lang] = row.description
        aliases = [a for a in (line.strip() for line in row.aliases.splitlines()) if a]
        if aliases:
            record["aliases"][lang] = aliases
    placement = Placement()
    for st in state.statements:
        if st.remove or st.empty():
            continue
        item: dict[str, Any] = _snak(st, types)
        if st.id.strip():
            item["id"] = st.id.strip()
        item["rank"] = st.rank
        i = len(record["statements"])
        item["qualifiers"] = []
        for m, q in st.qualifiers.items():
            if q.remove or q.blank():
                continue
            placement.qualifiers[(i, len(item["qualifiers"]))] = m
            item["qualifiers"].append(_snak(q, types))
        item["references"] = []
        for m, ref in st.references.items():
            snaks = [_snak(s, types) for s in ref.values() if not (s.remove or s.blank())]
            if snaks:
                placement.references[(i, len(item["references"]))] = m
                item["references"].append(snaks)
        record["statements"].append(item)
        placement.statements.append(st)
    return record, placement


def form_problems(state: FormState) -> list[FieldProblem]:
    """Problems only the form can have (before the Editor reads the record)."""
    problems = []
    seen: set[str] = set()
    for row in state.terms:
        if row.empty():
            continue
        lang = row.lang.strip()
        if not lang:
            problems.append(
                FieldProblem(f"terms/{row.n}", "say which language this text is written in")
            )
        elif lang in seen:
            problems.append(
                FieldProblem(
                    f"terms/{row.n}",
                    f"the language {lang[:40]!r} has two rows: put its texts in one row",
                    language=lang,
                )
            )
        seen.add(lang)
    return problems


# --- problems next to their controls -----------------------------------------------------------

_WHERE = re.compile(
    r"^statements/(?P<i>\d+)(?:/(?P<part>value|id|rank|qualifiers|references)(?:/(?P<j>\d+))?)?"
)
_TERM_PART = {"labels": "label", "descriptions": "description", "aliases": "aliases"}


@dataclass
class Placed:
    """A problem and the control it belongs to (None: the form as a whole)."""

    control: str | None
    message: str
    warning: bool = False


def place(problems: Sequence[FieldProblem], state: FormState, placement: Placement) -> list[Placed]:
    """Each problem with the id of the control (or section) it is about."""
    placed = []
    for problem in problems:
        placed.append(
            Placed(
                _control(problem, state, placement),
                problem.message,
                problem.severity != "Violation",
            )
        )
    return placed


def _control(problem: FieldProblem, state: FormState, placement: Placement) -> str | None:
    where = problem.field
    if where.startswith("terms/"):
        return f"term-{where.split('/')[1]}-lang"
    if where in _TERM_PART:
        rows = [t for t in state.terms if not t.empty()] or state.terms
        match = next((t for t in rows if t.lang.strip() == (problem.language or "")), None)
        if match is None and problem.language is not None:
            match = next((t for t in rows if t.lang.strip() == problem.language), None)
        if match is None and problem.language is None and rows:
            match = rows[0]
        if match is None:
            return "terms"
        part = _TERM_PART[where]
        if problem.message.find("language code") >= 0:
            part = "lang"
        return f"term-{match.n}-{part}"
    m = _WHERE.match(where)
    if m is not None and int(m["i"]) < len(placement.statements):
        i = int(m["i"])
        row = placement.statements[i]
        part, j = m["part"], m["j"]
        if part == "rank":
            return f"st-{row.n}-rank"
        if part == "qualifiers" and j is not None:
            q = placement.qualifiers.get((i, int(j)))
            return f"st-{row.n}-q-{q}-value" if q is not None else f"st-{row.n}-qualifiers"
        if part == "qualifiers":
            return f"st-{row.n}-qualifiers"
        if part == "references" and j is not None:
            r = placement.references.get((i, int(j)))
            return f"st-{row.n}-r-{r}" if r is not None else f"st-{row.n}-references"
        if part == "references":
            return f"st-{row.n}-references"
        return f"st-{row.n}-value"
    if problem.statement:
        same = next((s for s in state.statements if s.id == problem.statement), None)
        if same is not None:
            return f"st-{same.n}-value"
    if where == "statements" and problem.property:
        return f"field-{problem.property}"
    return None
