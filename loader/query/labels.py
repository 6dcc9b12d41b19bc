"""The ``?xLabel`` convention: labels without boilerplate, portable across engines.

For every projected variable ``?fooLabel`` (or ``?fooDescription``, ``?fooAltLabel``) that
a solution leaves unbound while the projected ``?foo`` holds an IRI, the endpoint fills in
that IRI's label (description, aliases) in the first of the reader's languages that has
one. A label falls back to the entity id (``Q42``); descriptions and aliases stay unbound.
Other engines simply leave such variables unbound, so the same query runs anywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from loader.base.namespaces import RDFS, SCHEMA, SKOS

SUFFIXES: tuple[tuple[str, str], ...] = (
    ("AltLabel", SKOS + "altLabel"),
    ("Label", RDFS + "label"),
    ("Description", SCHEMA + "description"),
)


@dataclass(frozen=True)
class LabelColumn:
    """A column to fill: its index, its source column's index and what to fill it with."""

    target: int
    source: int
    suffix: str
    predicate: ox.NamedNode


def label_columns(
    variables: Sequence[str], aliases: Sequence[tuple[str, str]] = ()
) -> list[LabelColumn]:
    """The projected label variables whose source variable is projected too; ``aliases``
    are more (source, target) pairs to fill with aliases (the label service's explicit
    ``?x skos:altLabel ?y``)."""
    position = {name: i for i, name in enumerate(variables)}
    found = []
    altlabel = ox.NamedNode(SKOS + "altLabel")
    for source, target in aliases:
        if source in position and target in position:
            found.append(LabelColumn(position[target], position[source], "AltLabel", altlabel))
    for i, name in enumerate(variables):
        for suffix, predicate in SUFFIXES:
            base = name.removesuffix(suffix)
            if base != name and base in position:
                found.append(LabelColumn(i, position[base], suffix, ox.NamedNode(predicate)))
                break
    return found


def fill_labels(
    store: ox.Store,
    variables: Sequence[str],
    rows: list[list[ox.NamedNode | ox.BlankNode | ox.Literal | None]],
    languages: Sequence[str],
    entity_id: Callable[[str], str | None],
    aliases: Sequence[tuple[str, str]] = (),
) -> None:
    """Fill the label columns of ``rows`` in place (see the module docstring)."""
    columns = label_columns(variables, aliases)
    if not columns:
        return
    cache: dict[tuple[str, str], ox.Literal | None] = {}
    for row in rows:
        for col in columns:
            subject = row[col.source]
            if row[col.target] is not None or not isinstance(subject, ox.NamedNode):
                continue
            key = (subject.value, col.suffix)
            if key not in cache:
                cache[key] = _lookup(store, subject, col, languages, entity_id)
            row[col.target] = cache[key]


def _lookup(
    store: ox.Store,
    subject: ox.NamedNode,
    col: LabelColumn,
    languages: Sequence[str],
    entity_id: Callable[[str], str | None],
) -> ox.Literal | None:
    texts: dict[str, list[str]] = {}
    for quad in store.quads_for_pattern(subject, col.predicate, None, None):
        literal = quad.object
        if isinstance(literal, ox.Literal) and literal.language:
            values = texts.setdefault(literal.language.lower(), [])
            if literal.value not in values:
                values.append(literal.value)
    for lang in languages:
        if lang in texts:
            if col.suffix == "AltLabel":
                return ox.Literal(", ".join(texts[lang]), language=lang)
            return ox.Literal(texts[lang][0], language=lang)
    if col.suffix == "Label":
        eid = entity_id(subject.value)
        if eid is not None:
            return ox.Literal(eid)
    return None
