"""Text cells that spreadsheets open safely (OWASP, "CSV Injection").

Spreadsheet programs run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and a leading tab or carriage return can hide such a start. Every CSV and TSV
Bigtent writes (SPARQL results, the statistics charts' data) passes its cells through
:func:`neutralise`, which puts a single quote before such a cell: spreadsheets show it as
text. Numbers (``-3``, ``+1.5e3``) are left alone: they are not formulas, and a quote
would turn them into text.
"""

from __future__ import annotations

import re

#: What a cell may not start with (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(text: str) -> str:
    """``text`` as a cell no spreadsheet runs as a formula (see the module docstring)."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def restore(text: str) -> str:
    """The text :func:`neutralise` was given (for a program reading its own CSV back); a
    text that itself began with a quote before a formula character is the one ambiguity."""
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text
