"""Globe coordinates (Wikibase ``GlobeCoordinate``, Wikidata P625 semantics).

One coordinate is a latitude, a longitude, a precision in degrees and a globe (always
the Earth, Wikidata Q2, in Bigtent). In RDF it is written as Wikibase writes it:

* the simple value (``wdt:``, ``ps:``, ``pq:``, ``pr:``) is a GeoSPARQL literal,
  ``"Point(2.3522 48.8566)"^^geo:wktLiteral`` — longitude first, as WKT orders axes; a
  globe other than the Earth would precede it as ``<iri> Point(…)``;
* the value node (``psv:``, ``pqv:``, ``prv:``) is ``a wikibase:GlobecoordinateValue``
  with ``wikibase:geoLatitude``, ``geoLongitude``, ``geoPrecision`` (``xsd:double``) and
  ``geoGlobe``, named ``wdv:<sha1 of its content>`` like the other value nodes.

Numbers are written in one canonical decimal form (:func:`decimal_text`: no exponent,
no trailing zeros, no ``+``) wherever they come from (Turtle, the JSON edit model, the
staff forms), so the same coordinate always makes the same triples.

>>> point = parse_point("Point(2.35 48.85)")
>>> (point.latitude, point.longitude, point.globe == EARTH)
('48.85', '2.35', True)
>>> implied_precision(point.latitude, point.longitude)
'0.01'
>>> written_precision("Point(13.4050 52.5200)")
'0.0001'
>>> dms_text("48.8566", "2.3522", "0.0001")
'48°51′24″N 2°21′8″E'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from loader.base.namespaces import EARTH, GEO, RDF, WIKIBASE, XSD
from loader.base.rdf import Term

WKT_LITERAL = ox.NamedNode(GEO + "wktLiteral")
GLOBE_VALUE = ox.NamedNode(WIKIBASE + "GlobecoordinateValue")
LATITUDE = ox.NamedNode(WIKIBASE + "geoLatitude")
LONGITUDE = ox.NamedNode(WIKIBASE + "geoLongitude")
PRECISION = ox.NamedNode(WIKIBASE + "geoPrecision")
GLOBE = ox.NamedNode(WIKIBASE + "geoGlobe")
XSD_DOUBLE = ox.NamedNode(XSD + "double")
RDF_TYPE = ox.NamedNode(RDF + "type")

_NUMBER = r"[+-]?(?:\d{1,3}(?:\.\d*)?|\.\d+)"  # degrees: at most 3 digits before the point
_POINT = re.compile(
    rf"^\s*(?:<([^<>\s]+)>\s*)?POINT\s*\(\s*({_NUMBER})\s+({_NUMBER})\s*\)\s*$", re.IGNORECASE
)
#: Most decimals a precision is implied from (a billionth of a degree is under a millimetre).
MAX_DECIMALS = 9
#: Largest power of ten a coordinate's number may have, either way.
MAX_EXPONENT = 20


def decimal_text(number: str | float | int | Decimal) -> str:
    """The canonical text of a finite number: ``"+2.3500"`` → ``"2.35"``, ``1e-05`` →
    ``"0.00001"``. ValueError for anything that is not a finite number."""
    if isinstance(number, bool):
        raise ValueError("not a number")
    try:
        value = Decimal(str(number).strip()) if not isinstance(number, Decimal) else number
    except InvalidOperation:
        raise ValueError(f"{str(number)[:40]!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{str(number)[:40]!r} is not a finite number")
    if value and not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        # "1e999999999" would be written out as a billion digits
        raise ValueError(f"{str(number)[:40]!r} is too large or too small for a coordinate")
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Point:
    """A coordinate as numbers in canonical text (see :func:`decimal_text`)."""

    latitude: str
    longitude: str
    globe: str = EARTH

    def wkt(self) -> ox.Literal:
        """The GeoSPARQL literal: ``"Point(lon lat)"^^geo:wktLiteral``."""
        prefix = "" if self.globe == EARTH else f"<{self.globe}> "
        return ox.Literal(f"{prefix}Point({self.longitude} {self.latitude})", datatype=WKT_LITERAL)


def parse_point(text: str) -> Point | None:
    """The point of a WKT ``Point(lon lat)`` (optionally preceded by ``<globe IRI>``);
    None when the text is not one."""
    match = _POINT.match(text)
    if match is None:
        return None
    try:
        return Point(
            decimal_text(match.group(3)), decimal_text(match.group(2)), match.group(1) or EARTH
        )
    except ValueError:
        return None


def implied_precision(latitude: str, longitude: str) -> str:
    """The precision the decimals as written imply, trailing zeros included:
    ``48.85`` → ``0.01``, ``52.5200`` → ``0.0001`` (at most ``MAX_DECIMALS`` places;
    whole degrees, or numbers with an exponent, → ``1``)."""
    places = max(
        0 if "e" in t.lower() else len(t.strip().partition(".")[2]) for t in (latitude, longitude)
    )
    places = min(places, MAX_DECIMALS)
    return decimal_text(Decimal(1).scaleb(-places))


def written_precision(text: str) -> str | None:
    """The precision the decimals of a WKT point imply, as written (see
    :func:`implied_precision`); None when the text is not a point."""
    match = _POINT.match(text)
    return None if match is None else implied_precision(match.group(3), match.group(2))


def value_node_pairs(point: Point, precision: str | None) -> list[tuple[ox.NamedNode, Term]]:
    """The predicate/object pairs of the point's ``wikibase:GlobecoordinateValue`` node."""
    pairs: list[tuple[ox.NamedNode, Term]] = [
        (RDF_TYPE, GLOBE_VALUE),
        (LATITUDE, ox.Literal(point.latitude, datatype=XSD_DOUBLE)),
        (LONGITUDE, ox.Literal(point.longitude, datatype=XSD_DOUBLE)),
        (GLOBE, ox.NamedNode(point.globe)),
    ]
    if precision is not None:
        pairs.append((PRECISION, ox.Literal(precision, datatype=XSD_DOUBLE)))
    return pairs


def is_wkt(term: Term) -> bool:
    """Whether the term is a ``geo:wktLiteral``."""
    return isinstance(term, ox.Literal) and term.datatype == WKT_LITERAL


def _dms(value: Decimal, positive: str, negative: str, precision: Decimal) -> str:
    hemisphere = positive if value >= 0 else negative
    value = abs(value)
    if precision >= 1:
        return f"{round(value)}°{hemisphere}"
    degrees = int(value)
    minutes_total = (value - degrees) * 60
    if precision >= Decimal(1) / 60:
        minutes = round(minutes_total)
        if minutes == 60:
            degrees, minutes = degrees + 1, 0
        return f"{degrees}°{minutes}′{hemisphere}"
    minutes = int(minutes_total)
    seconds = round((minutes_total - minutes) * 60)
    if seconds == 60:
        minutes, seconds = minutes + 1, 0
    if minutes == 60:
        degrees, minutes = degrees + 1, 0
    return f"{degrees}°{minutes}′{seconds}″{hemisphere}"


def dms_text(latitude: str, longitude: str, precision: str | None) -> str:
    """Degrees, minutes and seconds, as far as the precision goes: ``48°51′24″N 2°21′8″E``
    (precision 1 → degrees only; from 1/60 → minutes; finer → seconds)."""
    step = Decimal(precision) if precision else Decimal("0.0001")
    return f"{_dms(Decimal(latitude), 'N', 'S', step)} {_dms(Decimal(longitude), 'E', 'W', step)}"
