"""Named example queries: ``sparql/examples/<id>.rq``, each with a header in comments.

Header format (the file's leading ``#`` lines)::

    # title: Partners of an organisation, by activity type
    # description: Everyone the Wikimedia Foundation has partnered with, grouped by
    #   the kind of activity.
    # audience: data consumers, staff

``title``, ``description`` and ``audience`` are required; a line starting with ``#`` and at
least two spaces continues the field above it. ``audience`` names one or more of
:data:`AUDIENCES`, separated by commas.

Example files follow the convention of every Turtle file Bigtent ships: the catalogue's
own prefixes are declared *relative* to the base (``PREFIX wd: <entity/>``), so one file
serves every instance. :meth:`Examples.query` returns the text users see, with those
declarations resolved against ``BASE_URL`` into absolute IRIs: a self-contained query that
runs unchanged on any SPARQL engine holding a copy of the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from loader.base.errors import ConfigError, NotFound
from loader.base.namespaces import Namespaces
from loader.base.resources import EXAMPLES_DIR

#: Who an example is for, in the order the editor's menu lists them.
AUDIENCES = ("data consumers", "aggregators", "staff")
FIELDS = ("title", "description", "audience")

EXAMPLE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FIELD_LINE = re.compile(r"^#\s?([a-z]+):\s*(.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")
# PREFIX declarations at the start of a line; IRIREF characters as in the SPARQL grammar.
_PREFIX_LINE = re.compile(
    r"^(?P<head>[ \t]*PREFIX[ \t]+(?:[A-Za-z][\w.-]*)?:[ \t]*<)(?P<iri>[^<>\"{}|^`\\\x00-\x20]*)>",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Example:
    """One example query as written in its file."""

    id: str
    title: str
    description: str
    audience: tuple[str, ...]
    text: str  # the file's content: relative prefix declarations
    path: Path


def parse_header(text: str, source: str) -> dict[str, str]:
    """The header fields of an example file; raises ConfigError naming file and line."""
    fields: dict[str, str] = {}
    current: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip()
        if not line.startswith("#"):
            break
        continued = _CONTINUATION.match(line)
        if continued and current is not None:
            fields[current] += " " + continued.group(1).strip()
            continue
        field = _FIELD_LINE.match(line)
        if field is None:
            current = None  # a plain comment ends the field above it
            continue
        name, value = field.groups()
        if name not in FIELDS:
            raise ConfigError(
                f"{source}, line {number}: unknown header field {name!r}; "
                f"example headers have {', '.join(FIELDS)}"
            )
        if name in fields:
            raise ConfigError(f"{source}, line {number}: {name!r} is given twice")
        fields[name] = value.strip()
        current = name
    missing = [name for name in FIELDS if not fields.get(name)]
    if missing:
        raise ConfigError(
            f"{source}: the header lacks {', '.join(missing)}; start the file with "
            "'# title: …', '# description: …' and '# audience: …' lines"
        )
    return fields


def parse_audience(value: str, source: str) -> tuple[str, ...]:
    """The audiences named in a header, checked against :data:`AUDIENCES`."""
    named = tuple(part.strip() for part in value.split(",") if part.strip())
    unknown = [name for name in named if name not in AUDIENCES]
    if unknown or not named:
        raise ConfigError(
            f"{source}: unknown audience {', '.join(unknown) or value!r}; "
            f"use one or more of: {', '.join(AUDIENCES)}"
        )
    return named


def load_example(path: Path) -> Example:
    """Read and check one example file."""
    example_id = path.stem
    if not EXAMPLE_ID.match(example_id):
        raise ConfigError(
            f"{path}: example file names are lower-case words joined by hyphens, "
            "e.g. partners-by-activity-type.rq"
        )
    text = path.read_text(encoding="utf-8")
    fields = parse_header(text, str(path))
    return Example(
        id=example_id,
        title=fields["title"],
        description=fields["description"],
        audience=parse_audience(fields["audience"], str(path)),
        text=text,
        path=path,
    )


def absolute_prefixes(query: str, base: str) -> str:
    """``query`` with relative PREFIX IRIs resolved against ``base``."""

    def resolve(match: re.Match[str]) -> str:
        iri = match.group("iri")
        if urlsplit(iri).scheme:
            return match.group(0)
        return f"{match.group('head')}{urljoin(base, iri)}>"

    return _PREFIX_LINE.sub(resolve, query)


def declared_prefixes(query: str) -> dict[str, str]:
    """The PREFIX declarations of a query, as written: ``{"wd": "entity/", ...}``."""
    found = {}
    for match in _PREFIX_LINE.finditer(query):
        name = match.group("head").split(None, 1)[1].split(":", 1)[0].strip()
        found[name] = match.group("iri")
    return found


class Examples:
    """The example queries of one catalogue (its base decides their prefix IRIs)."""

    def __init__(self, ns: Namespaces, directory: Path = EXAMPLES_DIR) -> None:
        self.ns = ns
        self.directory = directory
        self._cache: tuple[tuple[tuple[str, int], ...], list[Example]] | None = None

    def all(self) -> list[Example]:
        """Every example, ordered by the first audience named, then by title.

        Files are re-read when one is added, removed or changed."""
        paths = sorted(self.directory.glob("*.rq"))
        key = tuple((p.name, p.stat().st_mtime_ns) for p in paths)
        if self._cache is not None and self._cache[0] == key:
            return list(self._cache[1])
        examples = sorted(
            (load_example(p) for p in paths),
            key=lambda e: (AUDIENCES.index(e.audience[0]), e.title.lower()),
        )
        self._cache = (key, examples)
        return list(examples)

    def get(self, example_id: str) -> Example:
        """One example by id; NotFound names the ids that exist."""
        if EXAMPLE_ID.match(example_id):
            for example in self.all():
                if example.id == example_id:
                    return example
        raise NotFound(
            f"there is no example query {example_id!r}; the list is at /sparql/examples",
            title="Not found",
        )

    def query(self, example: Example) -> str:
        """The example as users get it: prefix IRIs absolute for this catalogue."""
        return absolute_prefixes(example.text, self.ns.base)

    def as_dict(self, example: Example) -> dict[str, object]:
        """The JSON form of one example (``/sparql/examples``)."""
        return {
            "id": example.id,
            "title": example.title,
            "description": example.description,
            "audience": list(example.audience),
            "query": self.query(example),
        }
