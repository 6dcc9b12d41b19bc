"""Dates, times, numbers and sort order in the reader's language, in one place.

Templates print what the catalogue stores — ISO 8601 timestamps such as
``2024-05-03T10:11:12Z``, whole numbers — through these Jinja filters, which format them
with Babel (CLDR data) for the interface language:

``{{ r.time | when }}``
    date and time, in the zone of the ``TIMEZONE`` setting, the zone named:
    "3 mai 2024, 12:11:12 +0200"; a bare date (``2024-05-03``) is shown as a date.
``{{ r.time | ago }}``
    how long ago, "il y a 3 jours" (only on pages that are never cached: it ages).
``{{ n | numberformat }}``
    (Flask-Babel's) "12 345" / "12,345" / "12.345".
``{{ items | by_label(label) }}``
    sorted by the reader's collation (:mod:`loader.base.collation`).

Each filter leaves a value it cannot read as it is: a page never fails over a date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_timedelta
from flask import Flask, current_app
from flask_babel import get_locale

from loader.base.collation import sorted_by_label
from loader.base.errors import ConfigError
from loader.base.settings import Settings

T = TypeVar("T")
_ZONE = "bigtent.timezone"


def parse_instant(value: object) -> datetime | date | None:
    """A timestamp or date as the catalogue writes them (ISO 8601; ``Z`` for UTC; a
    time without a zone is UTC), or None when ``value`` is none of them."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        if "T" not in text and " " not in text:
            return date.fromisoformat(text)
        found = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def _locale() -> str:
    return str(get_locale() or "en")


def zone() -> ZoneInfo:
    """The time zone pages show times in (the ``TIMEZONE`` setting)."""
    found: ZoneInfo = current_app.extensions.get(_ZONE) or ZoneInfo("UTC")
    return found


def when(value: object, locale: str | None = None, tz: ZoneInfo | None = None) -> str:
    """``value`` (an ISO 8601 timestamp or date) as the reader writes dates and times."""
    instant = parse_instant(value)
    if instant is None:
        return "" if value is None else str(value)
    language = locale or _locale()
    if not isinstance(instant, datetime):
        return format_date(instant, "medium", locale=language)
    where = tz or zone()
    moment = format_datetime(instant, "medium", tzinfo=where, locale=language)
    return f"{moment} {format_datetime(instant, 'z', tzinfo=where, locale=language)}"


def ago(value: object, locale: str | None = None, now: datetime | None = None) -> str:
    """How long before ``now`` the instant ``value`` was ("3 days ago", "il y a 3 jours")."""
    instant = parse_instant(value)
    if instant is None:
        return "" if value is None else str(value)
    if not isinstance(instant, datetime):
        instant = datetime(instant.year, instant.month, instant.day, tzinfo=UTC)
    delta = instant - (now or datetime.now(UTC))
    return format_timedelta(delta, add_direction=True, locale=locale or _locale())


def by_label(
    items: Iterable[T], label: Callable[[T], str] | None = None, locale: str | None = None
) -> list[T]:
    """``items`` in the reader's alphabetical order of ``label(item)`` (the item itself
    when no ``label`` is given)."""

    def text(item: T) -> str:
        return str(label(item) if label is not None else item)

    return sorted_by_label(items, text, locale or _locale())


def check_timezone(name: str) -> ZoneInfo:
    """The zone the ``TIMEZONE`` setting names; a ``ConfigError`` naming it otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"TIMEZONE must name an IANA time zone such as UTC or Europe/Paris, got {name!r}"
        ) from None


def init_app(app: Flask, settings: Settings) -> None:
    """Check ``TIMEZONE`` and install the filters in every template."""
    app.extensions[_ZONE] = check_timezone(str(settings.TIMEZONE))
    filters: dict[str, Any] = {"when": when, "ago": ago, "by_label": by_label}
    app.jinja_env.filters.update(filters)
