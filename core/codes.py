"""Sorting taxonomy categories by their code, numerically.

Category codes are dotted (`5`, `5.8`, `5.10`, `4.2.1`) and a part may carry a
letter (`3a`). Compared as text, `5.10` sorts before `5.8` and `10` before `9`;
`code_sort_key` compares every part numerically instead (digits as numbers,
letters as case-folded text, a part's digits before its letters) so that
5.1 < 5.2 < … < 5.8 < 5.10 and 9 < 10. A parent sorts before its children
(5 < 5.1). A category without a code sorts after every coded one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")

_RUNS = re.compile(r"\d+|\D+")

CODED = 0
UNCODED = 1


def code_parts(code) -> list[str]:
    """The non-empty dotted parts of a code, outer whitespace ignored: ' 4.2. ' → ['4', '2']."""
    return [part.strip() for part in str(code or "").split(".") if part.strip()]


def _part_key(part: str) -> tuple:
    # Each run becomes (0, number, "") or (1, 0, text) so that ints and strings are never compared.
    return tuple((0, int(run), "") if run.isdecimal() else (1, 0, run.casefold()) for run in _RUNS.findall(part))


def code_sort_key(code) -> tuple:
    """A key that orders codes numerically part by part; uncoded (empty/None) last."""
    parts = code_parts(code)
    if not parts:
        return (UNCODED, ())
    return (CODED, tuple(_part_key(part) for part in parts))


def sorted_by_code(items: Iterable[T], *, code: Callable[[T], str], name: Callable[[T], str] | None = None) -> list[T]:
    """`items` ordered by `code_sort_key(code(item))`, then by case-folded name (uncoded ones by name)."""
    if name is None:
        return sorted(items, key=lambda item: code_sort_key(code(item)))
    return sorted(items, key=lambda item: (code_sort_key(code(item)), str(name(item) or "").casefold()))
