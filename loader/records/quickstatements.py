"""QuickStatements v1 commands and QuickStatements-style CSV, read into edits of records.

QuickStatements (https://www.wikidata.org/wiki/Help:QuickStatements) is how Wikidata
editors write batches. One command a line, its fields separated by tabs (or, in a line
without a tab, by ``|``)::

    CREATE
    LAST	Len	"Open Lab"
    LAST	Lfr	"Labo ouvert"
    LAST	Den	"a community workshop"
    LAST	Aen	"OL"
    LAST	P1	Q3
    Q1200	P5	Q1001	P6	Q115	S18	"https://example.org/source"

A statement's value may be an item or property id (``Q5``, ``P9``), a string in double
quotes (``"text"``; for web-address properties also a bare ``https://…``), a monolingual
text (``fr:"texte"``), a time with its precision (``+2009-03-00T00:00:00Z/10``: 9 year,
10 month, 11 day), a quantity (``12``, ``-0.5``), a coordinate (``@48.8566/2.3522``),
``somevalue`` or ``novalue``. A text of one line may separate its commands with ``||``
(QuickStatements' form in URLs). After the value come qualifiers (``Pxx`` and a value) and
sources (``Sxx`` and a value; the sources of one line make one reference). Values are read
with the JSON edit model's reader (:class:`~loader.records.record_model.JsonReader`), so a
value means here what it means in the edit API. Quantities with a unit (``U…``) or bounds
(``~``, ``±``, ``[lo,hi]``) and removals (a line starting with ``-``) are refused with a
message saying so: this catalogue's quantities are plain numbers, and an import only adds.

The CSV form (QuickStatements' CSV, as OpenRefine writes it) has a header row naming what
each column holds: ``qid`` (empty: create a new item), ``Len``/``Dfr``/``Aes`` (terms),
``P31`` (a statement), ``qal580`` (a qualifier of the statement column before it), ``S854``
(a source of the statement column before it); a column headed ``#`` is a comment. A cell
holds a QuickStatements value, or plain text where that is unambiguous: a term's text, a
string, a date such as ``2012-05``, a number, and, in an item column, a *name* that the
caller resolves against the catalogue (``resolve``).

Every problem names the line and the field (or column) and says what is expected; the
input is bounded by the caller (``max_bytes``) and each line or cell by ``max_field``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

from loader.base.namespaces import Namespaces
from loader.records.record_model import JsonReader, Reference, Snak, Statement, Value

#: A name in an item column of a CSV file -> the item id, or None (unresolved; the
#: resolver keeps why); arguments: the name, the property, the line, the column.
Resolver = Callable[[str, str, int, str], str | None]

_ENTITY = re.compile(r"^[QP][1-9][0-9]{0,15}$")
_PROPERTY = re.compile(r"^P[1-9][0-9]{0,15}$")
_TERM = re.compile(r"^([LDA])([a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)$")
_SITELINK = re.compile(r"^S[a-z]+wiki$")
_SOURCE = re.compile(r"^S([1-9][0-9]{0,15})$")
_MONOLINGUAL = re.compile(r'^([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*):"(.*)"$', re.S)
_TIME = re.compile(r"^([+-])(\d{1,16})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z(?:/(\d{1,2}))?$")
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_QUANTITY = re.compile(
    rf"^({_NUMBER})(?:(?:~|±)({_NUMBER})|\[\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\])?(?:U(\d+))?$"
)
_COORDINATE = re.compile(rf"^@({_NUMBER})/({_NUMBER})$")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_PLAIN_DATE = re.compile(r"^[+-]?\d{1,16}(?:-\d\d(?:-\d\d)?)?$")
#: QuickStatements' value kinds -> the property types that take them
_KINDS = {
    "item": ("WikibaseItem", "WikibaseProperty"),
    "string": ("String", "ExternalId", "Url"),
    "url": ("Url", "String", "ExternalId"),
    "monolingual": ("Monolingualtext",),
    "time": ("Time",),
    "quantity": ("Quantity",),
    "coordinate": ("GlobeCoordinate",),
}
_HOW = {
    "WikibaseItem": "an item id such as Q42",
    "WikibaseProperty": "a property id such as P9",
    "String": 'text in double quotes, e.g. "text"',
    "ExternalId": 'an identifier in double quotes, e.g. "Q42"',
    "Url": 'a web address in double quotes, e.g. "https://example.org"',
    "Monolingualtext": 'a text with its language, e.g. en:"text"',
    "Time": "a time such as +2009-03-00T00:00:00Z/10 (precision 9 year, 10 month, 11 day)",
    "Quantity": "a number such as 12 or -0.5",
    "GlobeCoordinate": "a coordinate such as @48.8566/2.3522 (latitude/longitude)",
}


@dataclass(frozen=True)
class Edit:
    """One change to one record: a term, or a statement to add.

    ``subject`` is an entity id, or ``#n`` for the n-th item the input creates."""

    subject: str
    line: int
    kind: str  # "create" | "labels" | "descriptions" | "aliases" | "statement"
    language: str | None = None
    text: str | None = None
    statement: Statement | None = None


@dataclass
class Batch:
    """What an input asks for: its edits in order, the problems that make lines unusable
    (a line with a problem contributes nothing) and the lines whose record must wait for a
    person (an unresolved name)."""

    edits: list[Edit] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    #: subject -> lines naming something that is not resolved
    unresolved: dict[str, list[int]] = field(default_factory=dict)
    created: int = 0

    @property
    def subjects(self) -> list[str]:
        """Every record the batch touches, in the order first named."""
        return list(dict.fromkeys(e.subject for e in self.edits))


class _Bad(ValueError):
    """A field that cannot be used (the message names the field and what is expected)."""


class _Unresolved(Exception):
    """A name left for a person to choose."""


class Reader:
    """Reads QuickStatements or CSV into a :class:`Batch`.

    ``property_types`` maps property ids to their ``wikibase:propertyType`` local names,
    ``language_ok`` says whether a language code is known, ``max_field`` bounds a line
    (QuickStatements) or a cell (CSV) in characters."""

    def __init__(
        self,
        ns: Namespaces,
        property_types: Mapping[str, str],
        language_ok: Callable[[str], bool],
        *,
        max_field: int,
        resolve: Resolver | None = None,
    ) -> None:
        self.ns = ns
        self.types = property_types
        self.language_ok = language_ok
        self.max_field = max_field
        self.resolve = resolve
        self.batch = Batch()
        #: the line being read
        self.line = 0

    # --- QuickStatements v1 -----------------------------------------------------------------
    def quickstatements(self, text: str) -> Batch:
        """Read QuickStatements v1 commands (one a line; a text of one line without tabs may
        separate its commands with ``||``, as QuickStatements URLs do: each counts as a line)."""
        lines = text.splitlines()
        if len(lines) == 1 and "\t" not in text and "||" in text:
            lines = text.split("||")
        for number, line in enumerate(lines, 1):
            if len(line) > self.max_field:
                self.batch.problems.append(
                    f"line {number}: the line is {len(line):,} characters long, more than "
                    f"MAX_LITERAL_BYTES ({self.max_field:,}) allows"
                )
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            self.line = number
            try:
                fields = _split(line)
                self._command(fields, number)
            except _Bad as exc:
                self.batch.problems.append(f"line {number}, {exc}")
        return self.batch

    def _command(self, fields: list[str], line: int) -> None:
        first = fields[0]
        if first.startswith("-"):
            raise _Bad(
                "field 1: removals (lines starting with -) are not imported: an import only "
                "adds; remove statements on the record's edit page"
            )
        if first.upper() == "CREATE":
            if len(fields) > 1:
                raise _Bad("field 2: CREATE stands alone on its line; add to it with LAST")
            self.batch.created += 1
            self.batch.edits.append(Edit(f"#{self.batch.created}", line, "create"))
            return
        if first.upper() == "MERGE":
            raise _Bad("field 1: MERGE is not imported; merge entities on their pages")
        if first.upper() == "LAST":
            if not self.batch.created:
                raise _Bad("field 1: LAST names the item of the last CREATE, and none came before")
            subject = f"#{self.batch.created}"
        elif _ENTITY.match(first):
            subject = first
        else:
            raise _Bad(
                f"field 1: {first[:40]!r} is not a command: start a line with CREATE, LAST or "
                "an entity id such as Q42"
            )
        if len(fields) < 3:
            raise _Bad(
                f"field {len(fields) + 1}: a line needs what to set (Len, Den, Aen or a "
                "property such as P31) and its value"
            )
        self._edit(subject, line, fields[1], fields[2], fields[3:], lambda i: f"field {i}")

    # --- one edit (shared by both forms) -----------------------------------------------------
    def _edit(
        self,
        subject: str,
        line: int,
        what: str,
        raw: str,
        rest: list[str],
        where: Callable[[int], str],
    ) -> None:
        term = _TERM.match(what)
        if term is not None:
            if rest:
                raise _Bad(f"{where(4)}: a label, description or alias takes no qualifiers")
            language = term.group(2)
            if not self.language_ok(language):
                raise _Bad(
                    f"{where(2)}: {language!r} is not a language of this catalogue: use a code "
                    "such as en, fr or pt-BR"
                )
            text = _unquote(raw.strip())
            if not text.strip():
                raise _Bad(f"{where(3)}: the text is empty")
            kind = {"L": "labels", "D": "descriptions", "A": "aliases"}[term.group(1)]
            self.batch.edits.append(Edit(subject, line, kind, language, text))
            return
        if _SITELINK.match(what):
            raise _Bad(f"{where(2)}: site links ({what[:20]}) are not part of this catalogue")
        pid = self._property(what, where(2))
        try:
            value = self.value(pid, raw, where(3))
            qualifiers: list[Snak] = []
            sources: list[Snak] = []
            if len(rest) % 2:
                raise _Bad(
                    f"{where(3 + len(rest))}: {rest[-1][:40]!r} has no value: qualifiers and "
                    "sources come in pairs (Pxx value, Sxx value)"
                )
            for i in range(0, len(rest), 2):
                name, text = rest[i], rest[i + 1]
                source = _SOURCE.match(name)
                target = sources if source else qualifiers
                qpid = self._property(
                    f"P{source.group(1)}" if source else name, where(4 + i), qualifier=True
                )
                target.append(Snak(qpid, self.value(qpid, text, where(5 + i))))
        except _Unresolved:
            self.batch.unresolved.setdefault(subject, []).append(line)
            return
        refs = (Reference(tuple(sorted(sources, key=Snak.key))),) if sources else ()
        statement = Statement(
            None, pid, value, "normal", tuple(sorted(qualifiers, key=Snak.key)), refs
        )
        self.batch.edits.append(Edit(subject, line, "statement", statement=statement))

    def _property(self, text: str, where: str, qualifier: bool = False) -> str:
        if not _PROPERTY.match(text):
            expected = (
                "a qualifier (Pxx) or a source (Sxx)"
                if qualifier
                else "Len, Den, Aen (label, description, alias and a language) or a property "
                "such as P31"
            )
            raise _Bad(f"{where}: {text[:40]!r} is not {expected}")
        if text not in self.types:
            raise _Bad(f"{where}: there is no property {text} in this catalogue")
        return text

    # --- values --------------------------------------------------------------------------------
    def value(self, pid: str, raw: str, where: str, plain: bool = False) -> Value | None:
        """The value ``raw`` (QuickStatements syntax; with ``plain``, also plain cell text)
        for property ``pid``; None is "no value"."""
        text = raw.strip()
        ptype = self.types.get(pid, "")
        if text == "novalue":
            return None
        if text == "somevalue":
            return Value(ox.BlankNode())
        kind, json_value = _qs_value(text, pid, where)
        if kind is None and plain:
            kind, json_value = self._plain(ptype, text, pid, where)
        if kind is None:
            raise _Bad(f"{where}: {text[:60]!r} is not a value {pid} takes: write {_how(ptype)}")
        if ptype not in _KINDS[kind]:
            raise _Bad(f"{where}: {pid} does not take {kind} values: write {_how(ptype)}")
        reader = JsonReader(self.ns, self.types, self.language_ok)
        value = reader.value(where, pid, json_value)
        if value is None:
            raise _Bad(f"{where}: {reader.problems[0].message}")
        return value

    def _plain(self, ptype: str, text: str, pid: str, where: str) -> tuple[str | None, object]:
        """A cell's plain text read by the column's property type."""
        if not text:
            return None, None
        if ptype == "WikibaseItem":
            if self.resolve is None:
                return None, None
            found = self.resolve(text, pid, self.line, where)
            if found is None:
                raise _Unresolved(text)
            return "item", found
        if ptype in ("String", "ExternalId", "Url"):
            return "string", text
        if ptype == "Time" and _PLAIN_DATE.match(text):
            return "time", text
        return None, None


def _how(ptype: str) -> str:
    return _HOW.get(ptype, "a value of its type")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return text[1:-1]
    return text


def _qs_value(text: str, pid: str, where: str) -> tuple[str | None, object]:
    """(kind, value in the JSON edit model) of a QuickStatements value; (None, None) when
    it is not written in QuickStatements' syntax."""
    if _ENTITY.match(text):
        return "item", text
    if text == "LAST":
        raise _Bad(f"{where}: LAST can only begin a line; write the item's id")
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return "string", text[1:-1]
    monolingual = _MONOLINGUAL.match(text)
    if monolingual:
        return "monolingual", {"text": monolingual.group(2), "language": monolingual.group(1)}
    if text.startswith(("+", "-")) and "T" in text:
        return "time", _time(text, where)
    quantity = _QUANTITY.match(text)
    if quantity:
        number, tolerance, low, _high, unit = quantity.groups()
        if unit is not None:
            raise _Bad(
                f"{where}: {pid} would get the unit Q{unit}: quantities in this catalogue are "
                "plain numbers; leave out U…"
            )
        if tolerance is not None or low is not None:
            raise _Bad(
                f"{where}: quantities in this catalogue are plain numbers without bounds; "
                "leave out ~, ± or [lower,upper]"
            )
        return "quantity", number
    coordinate = _COORDINATE.match(text)
    if coordinate:
        return "coordinate", {"latitude": coordinate.group(1), "longitude": coordinate.group(2)}
    if _URL.match(text):
        return "url", text
    return None, None


def _time(text: str, where: str) -> object:
    """A QuickStatements time as the JSON edit model writes it."""
    m = _TIME.match(text)
    if m is None:
        raise _Bad(
            f"{where}: {text[:40]!r} is not a time: write +YYYY-MM-DDT00:00:00Z/precision, "
            "e.g. +2009-03-00T00:00:00Z/10 (9 year, 10 month, 11 day)"
        )
    sign, year, month, day, hh, mm, ss, given = m.groups()
    implied = 9 if month == "00" else 10 if day == "00" else 11
    precision = implied if given is None else int(given)
    sign = "-" if sign == "-" else ""
    if precision > 14:
        raise _Bad(f"{where}: precision {precision} is not one: 9 year, 10 month, 11 day")
    if (precision >= 10 and month == "00") or (precision >= 11 and day == "00"):
        raise _Bad(
            f"{where}: {text[:40]!r} has precision {precision} but no "
            f"{'month' if month == '00' else 'day'}: give it, or a lower precision"
        )
    if precision == 9:
        return sign + year
    if precision == 10:
        return f"{sign}{year}-{month}"
    if precision == 11:
        return f"{sign}{year}-{month}-{day}"
    if precision > 11:
        return {"time": f"{sign}{year}-{month}-{day}T{hh}:{mm}:{ss}Z", "precision": precision}
    return {"time": sign + year, "precision": precision}


def _split(line: str) -> list[str]:
    """A line's fields: split on tabs, or on ``|`` when the line has no tab; a separator
    inside double quotes is part of the text."""
    separator = "\t" if "\t" in line else "|"
    fields: list[str] = []
    current: list[str] = []
    quoted = False
    for char in line.strip("\r\n"):
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            fields.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    if quoted:
        raise _Bad(f"field {len(fields) + 1}: a double quote is not closed")
    fields.append("".join(current).strip())
    while fields and not fields[-1]:
        fields.pop()
    for i, text in enumerate(fields, 1):
        if not text:
            raise _Bad(f"field {i}: the field is empty")
    return fields


# --- CSV ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Column:
    kind: str  # "qid" | "term" | "statement" | "qualifier" | "source" | "comment"
    name: str
    property: str | None = None
    statement: int | None = None  # the statement column a qualifier or source belongs to


def _columns(reader: Reader, header: list[str]) -> list[_Column]:
    columns: list[_Column] = []
    last_statement: int | None = None
    for i, raw in enumerate(header):
        name = raw.strip()
        where = f"line 1, column {i + 1} ({name[:20]!r})"
        if name.lower() == "qid":
            columns.append(_Column("qid", name))
        elif name.startswith("#") or not name:
            columns.append(_Column("comment", name))
        elif _TERM.match(name):
            columns.append(_Column("term", name))
        elif _PROPERTY.match(name):
            reader._property(name, where)
            columns.append(_Column("statement", name, name))
            last_statement = i
        elif re.fullmatch(r"(?:qal|[Ss])[1-9][0-9]{0,15}", name):
            pid = "P" + name.lstrip("qalS")
            kind = "source" if name[0] in "Ss" else "qualifier"
            if last_statement is None:
                raise _Bad(f"{where}: a {kind} column follows the statement column it belongs to")
            reader._property(pid, where, qualifier=True)
            columns.append(_Column(kind, name, pid, last_statement))
        else:
            raise _Bad(
                f"{where}: is not a column Bigtent reads: qid, Len/Dfr/Aes (terms), P31 "
                "(statement), qal580 (qualifier), S854 (source) or # (comment)"
            )
    if not any(c.kind == "qid" for c in columns):
        raise _Bad("line 1: the header has no qid column (leave a cell empty to create an item)")
    return columns


def read_csv(reader: Reader, text: str) -> Batch:
    """Read a QuickStatements-style CSV file (header row first) into ``reader``'s batch."""
    batch = reader.batch
    rows: Iterator[list[str]] = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows, None)
        if header is None:
            batch.problems.append("line 1: the file has no header row")
            return batch
        try:
            columns = _columns(reader, header)
        except _Bad as exc:
            batch.problems.append(str(exc))
            return batch
        for cells in rows:
            line = reader.line = rows.line_num  # type: ignore[attr-defined]
            if not any(c.strip() for c in cells):
                continue
            try:
                _row(reader, columns, cells, line)
            except _Bad as exc:
                batch.problems.append(f"line {line}, {exc}")
    except csv.Error as exc:
        batch.problems.append(f"line {rows.line_num}: the CSV cannot be read ({exc})")  # type: ignore[attr-defined]
    return batch


def _at(label: str) -> Callable[[int], str]:
    """Where a CSV cell is, whatever field of a command it stands for."""
    return lambda _field: label


def _row(reader: Reader, columns: list[_Column], cells: list[str], line: int) -> None:
    batch = reader.batch
    if len(cells) > len(columns):
        raise _Bad(f"column {len(columns) + 1}: the row has more cells than the header names")
    for i, cell in enumerate(cells):
        if len(cell) > reader.max_field:
            raise _Bad(
                f"column {i + 1}: the cell is longer than MAX_LITERAL_BYTES "
                f"({reader.max_field:,}) allows"
            )
    cells = cells + [""] * (len(columns) - len(cells))
    qid = next(c for col, c in zip(columns, cells, strict=True) if col.kind == "qid").strip()
    if qid:
        if not _ENTITY.match(qid):
            raise _Bad(f"column qid: {qid[:40]!r} is not an entity id such as Q42")
        subject = qid
    else:
        batch.created += 1
        subject = f"#{batch.created}"
        batch.edits.append(Edit(subject, line, "create"))

    def where(i: int) -> str:
        return f"column {i + 1} ({columns[i].name})"

    for i, (col, cell) in enumerate(zip(columns, cells, strict=True)):
        text = cell.strip()
        if not text or col.kind in ("qid", "comment", "qualifier", "source"):
            continue
        if col.kind == "term":
            reader._edit(subject, line, col.name, text, [], _at(where(i)))
            continue
        assert col.property is not None
        try:
            value = reader.value(col.property, text, where(i), plain=True)
            qualifiers: list[Snak] = []
            sources: list[Snak] = []
            for j, other in enumerate(columns):
                if other.statement != i or not cells[j].strip():
                    continue
                assert other.property is not None
                snak = Snak(other.property, reader.value(other.property, cells[j], where(j), True))
                (sources if other.kind == "source" else qualifiers).append(snak)
        except _Unresolved:
            batch.unresolved.setdefault(subject, []).append(line)
            continue
        refs = (Reference(tuple(sorted(sources, key=Snak.key))),) if sources else ()
        statement = Statement(
            None, col.property, value, "normal", tuple(sorted(qualifiers, key=Snak.key)), refs
        )
        batch.edits.append(Edit(subject, line, "statement", statement=statement))
