"""Merging one entity into another (the source then redirects, Wikibase-style)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

from loader.base.errors import BigtentError
from loader.base.namespaces import RDFS, SCHEMA, SKOS
from loader.base.rdf import Term, Triple
from loader.records.normalise import normalise
from loader.records.source import SourceRecord

if TYPE_CHECKING:
    from loader.ingest.validation import Validation
    from loader.storage.repository import Repository
    from loader.storage.revision_log import Revision

LABEL = ox.NamedNode(RDFS + "label")
ALIAS = ox.NamedNode(SKOS + "altLabel")
DESCRIPTION = ox.NamedNode(SCHEMA + "description")


def _content(cat: Repository, entity: str) -> list[Triple]:
    rev = cat.revisions.get(entity)
    if rev is None or rev.snapshot is None:
        raise BigtentError(f"{entity} has no content to merge")
    return [
        (q.subject, q.predicate, q.object) for q in ox.parse(rev.snapshot, ox.RdfFormat.N_TRIPLES)
    ]


def merged_content(
    cat: Repository, validation: Validation, source: str, target: str
) -> tuple[bytes, str]:
    """The target's new content: its own plus the source's labels (as aliases where the
    language is taken) and statements. Raises when the result is not valid."""
    ns = cat.ns
    src, dst = ns.entity(source), ns.entity(target)
    wds = ns["wds"]
    target_triples = _content(cat, target)
    labels = {
        o.language: o.value
        for s, p, o in target_triples
        if s == dst and p == LABEL and isinstance(o, ox.Literal)
    }
    described = {
        o.language
        for s, p, o in target_triples
        if s == dst and p == DESCRIPTION and isinstance(o, ox.Literal)
    }

    def move(term: Term) -> Term:
        if term == src:
            return dst
        if isinstance(term, ox.NamedNode) and term.value.startswith(wds + source + "-"):
            return ox.NamedNode(wds + target + "-" + term.value[len(wds + source + "-") :])
        return term

    moved: list[Triple] = []
    for s, p, o in _content(cat, source):
        if s == src and isinstance(o, ox.Literal) and o.language in labels and p == LABEL:
            if labels[o.language] == o.value:
                continue
            p = ALIAS
        if s == src and p == DESCRIPTION and isinstance(o, ox.Literal) and o.language in described:
            continue  # the target's description wins
        if s == src and p.value.startswith(ns["wdt"]):
            continue  # truthy triples are derived again from the merged statements
        moved.append((move(s), p, move(o)))  # type: ignore[arg-type]
    kept = [t for t in target_triples if not t[1].value.startswith(ns["wdt"])]
    record = SourceRecord(target, kept + moved, f"merge of {source}", None)
    ctx = validation.build_context()
    normal = normalise(record, ctx)
    problems = [
        p for p in validation.shapes.validate(normal.triples, ctx) if p.severity == "Violation"
    ]
    if problems:
        details = "; ".join(f"{p.path or p.focus}: {p.message}" for p in problems[:5])
        raise BigtentError(
            f"merging {source} into {target} would make {target} invalid: "
            f"{details}. Fix the conflict by editing one of them first.",
            status=409,
            title="Merge conflict",
        )
    return normal.ntriples(), normal.content_hash


def merge(
    repository: Repository,
    validation: Validation,
    source: str,
    target: str,
    author: str | None = None,
    summary: str = "",
) -> tuple[Revision, Revision]:
    """Merge ``source`` into ``target``: its labels and statements move, it redirects.
    Returns (the redirect, the target's new revision)."""
    if source == target:
        raise BigtentError(f"cannot merge {source} into itself")
    repository.live(source)
    repository.live(target)
    content, content_hash = merged_content(repository, validation, source, target)
    who = repository.author(author)
    text = summary or f"Merged {source} into {target}"
    [target_rev] = repository.write_contents(
        [(target, content, content_hash)], author=who, summary=text, action="update"
    )
    return repository.redirect(source, target, who, text), target_rev
