"""Sorting labels the way a reader of a language expects ("Égypte" between "Danemark"
and "France" in French, "Ñandú" after "Nube" in Spanish).

A small, dependency-free take on the Unicode Collation Algorithm with CLDR's tailorings
for the interface languages: three levels — letters without accents or case, then
accents, then case — compared one after the other. PyICU would give the full algorithm,
but it builds from source against the ICU development libraries (no wheels on PyPI), so
the catalogue does without; what readers of en, fr, es and pt meet in labels (Latin
letters with diacritics, ligatures, digits, punctuation) sorts as ICU sorts it.

``locale.strxfrm`` is no alternative: the C locale is process-global (one thread's
``setlocale`` changes every other thread's sort) and depends on the installed locales.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")

#: Letters CLDR sorts as letters of their own, after the base letter, per language:
#: (decomposed form, replacement). Spanish "ñ" comes after "n" (and before "o").
_SEPARATE_LETTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "es": (("n\u0303", "n\U0010fffd"),),
}
#: Ligatures and letters NFKD leaves whole, spelt out at the first level (as CLDR root).
_EXPANSIONS = str.maketrans({"æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "ı": "i"})

SortKey = tuple[str, str, str]


@lru_cache(maxsize=4096)
def _key(text: str, language: str) -> SortKey:
    decomposed = unicodedata.normalize("NFKD", text.strip())
    folded = decomposed.casefold()
    for sequence, letter in _SEPARATE_LETTERS.get(language, ()):
        folded = folded.replace(sequence, letter)
    primary = "".join(c for c in folded if not unicodedata.combining(c)).translate(_EXPANSIONS)
    # Accents are compared only between otherwise equal strings ("cote" < "côte"), and
    # case last ("polish" < "Polish").
    return primary, folded, decomposed.swapcase()


def sort_key(language: str) -> Callable[[str], SortKey]:
    """A key function that orders strings for readers of ``language`` (a BCP 47 tag;
    only its primary subtag matters)."""
    primary = language.split("-")[0].split("_")[0].lower()
    return lambda text: _key(text, primary)


def sorted_by_label(items: Iterable[T], label: Callable[[T], str], language: str) -> list[T]:
    """``items`` ordered by their ``label`` in ``language``'s collation, ties by label as
    written (so the order never depends on the input's)."""
    key = sort_key(language)
    return sorted(items, key=lambda item: (key(label(item)), label(item)))
