"""RDF documents of the harvesting area: pick a syntax by Accept (or ?format=) and
serialise triples in it with pyoxigraph."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pyoxigraph as ox
from flask import request

from loader.base.errors import BigtentError
from loader.base.rdf import SYNTAXES, Triple, syntaxes
from webapp.http.negotiation import best_type, not_acceptable

HTML = "text/html"
JSON = "application/json"
#: Media type -> syntax, for every RDF syntax (``loader.base.rdf``), preferred first.
RDF_FORMATS: dict[str, ox.RdfFormat] = {
    s.media_type: s.rdf_format for s in syntaxes("ttl", "jsonld", "nt", "rdf", "trig", "nq")
}
#: ``?format=`` values, for links and for people trying URLs by hand.
FORMAT_NAMES = {
    **{s.extension: s.media_type for s in SYNTAXES},
    "html": HTML,
    "json": JSON,
}


def choose(offered: Sequence[str]) -> str:
    """The media type to answer with: ``?format=`` when given, else the Accept header.

    Raises 400 for an unknown ``format`` and 406 when nothing offered is acceptable."""
    name = request.args.get("format")
    if name is not None:
        wanted = FORMAT_NAMES.get(name)
        if wanted is None or wanted not in offered:
            names = ", ".join(k for k, v in FORMAT_NAMES.items() if v in offered)
            raise BigtentError(
                f"format '{name[:40]}' is not offered here; use one of: {names} "
                "(or ask with an Accept header)",
                title="Unknown format",
            )
        return wanted
    chosen = best_type(offered)
    if chosen is None:
        raise not_acceptable(offered)
    return chosen


def serialise(
    triples: Iterable[ox.Triple | Triple],
    media_type: str,
    prefixes: Mapping[str, str] | None = None,
) -> bytes:
    """``triples`` in the syntax of ``media_type`` (a key of RDF_FORMATS)."""
    fmt = RDF_FORMATS[media_type]
    use_prefixes = fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG, ox.RdfFormat.RDF_XML)
    body = ox.serialize(
        [t if isinstance(t, ox.Triple) else ox.Triple(*t) for t in triples],
        format=fmt,
        prefixes=dict(prefixes or {}) if use_prefixes else None,
    )
    return body or b""


def content_type(media_type: str) -> str:
    """The Content-Type header for a media type (text types declare UTF-8)."""
    if media_type.startswith("text/") or media_type in ("application/n-triples",):
        return media_type + "; charset=utf-8"
    return media_type
