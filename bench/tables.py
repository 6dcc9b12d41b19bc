"""Markdown tables, number formatting and verdicts shared by the benchmark commands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any


def fmt(value: Any, spec: str) -> str:
    """``value`` formatted with ``spec``; an en dash for a missing value or NaN."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return format(value, spec)


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def ratio_check(ratio: float | None, minimum: float) -> str:
    """``PASS ≥0.50`` / ``FAIL ≥0.50``; ``n/a`` without a ratio."""
    if ratio is None or ratio != ratio:
        return "n/a"
    return f"{verdict(ratio >= minimum)} ≥{minimum:.2f}"


def markdown_table(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """Lines of a Markdown table; ``|`` inside cells is escaped."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(f"row has {len(row)} cells, table has {len(columns)} columns")
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return lines
