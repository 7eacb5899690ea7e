"""CSV that a spreadsheet may open, with formulas neutralised (OWASP "CSV injection").

Every CSV export goes through `writer` (or `DictWriter`): a text cell starting with `=`, `+`, `-`, `@`,
a tab or a carriage return is written with a leading apostrophe, so Excel, LibreOffice and Google Sheets
show it as text instead of evaluating it (`=cmd|' /C calc'!A0`, `=HYPERLINK(...)`).

Numbers stay numbers: int/float values, and text that is exactly a plain decimal number
(`-0.12`, `+3`, `1e-5`), are written as they are — a spreadsheet reads them as a value, never a formula.
So does a lone character (`-` marks an empty cell in the coding sheet): no formula fits in one character.

`restore` undoes the prefix for importers that read Concord's own exports back.
"""

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """The value as a spreadsheet must see it: a formula-like text gets a leading apostrophe."""
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    if len(value) == 1 or PLAIN_NUMBER.fullmatch(value):
        return value
    return ESCAPE + value


def restore(value: str) -> str:
    """The text that `neutralise` escaped (an apostrophe followed by a formula prefix loses the apostrophe)."""
    if isinstance(value, str) and value.startswith(ESCAPE) and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


def neutralise_row(row: Iterable[Any]) -> list[Any]:
    return [neutralise(value) for value in row]


class SafeWriter:
    """csv.writer's interface (writerow, writerows, dialect) with every cell neutralised."""

    def __init__(self, inner):
        self._writer = inner

    @property
    def dialect(self):
        return self._writer.dialect

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]):
        for row in rows:
            self.writerow(row)


def writer(f, *args, **kwargs) -> SafeWriter:
    """Like csv.writer(f, ...), neutralising formula-like cells."""
    return SafeWriter(csv.writer(f, *args, **kwargs))


class DictWriter(csv.DictWriter):
    """Like csv.DictWriter, neutralising formula-like cells (header included)."""

    def __init__(self, f, fieldnames, *args, **kwargs):
        super().__init__(f, fieldnames, *args, **kwargs)
        self.writer = SafeWriter(self.writer)
