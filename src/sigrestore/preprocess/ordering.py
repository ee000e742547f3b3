"""Probe-set order as R gives it.

``affy`` lists probe sets with ``ls()`` on the CDF environment, i.e. sorted
with R's string collation.  R built with ICU (as Debian's is) collates in any
non-C locale with the ICU/CLDR root rules: punctuation and symbols sort
before digits, digits before letters, letters compare case-insensitively
first, and only a tie on that is broken by case (lower before upper) and then
by the code points.  :func:`r_sort_key` reproduces that for ASCII names
(probe-set names are ASCII); other characters sort after, by code point.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["r_sort_key", "r_sorted"]

# CLDR root order of the ASCII punctuation and symbols (all non-ignorable).
_SYMBOLS = "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"


def _build_tables() -> tuple[dict[int, str], dict[int, str]]:
    """``str.translate`` tables mapping ASCII to primary / tertiary weight characters."""
    primary: dict[int, str] = {c: "\x00" for c in range(128)}  # other controls: lowest
    tertiary: dict[int, str] = {c: "\x00" for c in range(128)}
    w = 1
    for ch in _SYMBOLS + "0123456789":
        primary[ord(ch)] = chr(w)
        w += 1
    for lower in "abcdefghijklmnopqrstuvwxyz":
        primary[ord(lower)] = primary[ord(lower.upper())] = chr(w)
        tertiary[ord(lower.upper())] = "\x01"
        w += 1
    return primary, tertiary


# Weights are below 128, so any non-ASCII character (left as is) sorts after.
_PRIMARY, _TERTIARY = _build_tables()


def r_sort_key(name: str) -> tuple[str, str, str]:
    """Sort key giving R's (ICU root) order of ASCII probe-set names."""
    return name.translate(_PRIMARY), name.translate(_TERTIARY), name


def r_sorted(names: Iterable[str]) -> list[str]:
    """``names`` in the order R's ``sort()`` / ``ls()`` gives them."""
    return sorted(names, key=r_sort_key)
