"""Honest CSV reading: a malformed line is reported with its line number, never silently cut.

Two faults are found: a line with more cells than the header (an unquoted comma in a
title), and a quote that is never closed (the csv module would swallow the rest of the
file into one cell). The caller chooses what happens to such a line: `"error"` raises
`CsvMalformed` listing every problem, `"keep"` keeps the line whole (the surplus cells
joined back into the last column, an unterminated quote read as a literal character),
`"skip"` drops it. Lines with fewer cells than the header are fine (optional columns).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

EXTRA_CELLS = "extra_cells"
UNTERMINATED_QUOTE = "unterminated_quote"
MODES = ("error", "keep", "skip")


@dataclass(frozen=True)
class CsvProblem:
    line: int
    kind: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class CsvTable:
    header: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (first line number, cells by header)
    problems: list[CsvProblem] = field(default_factory=list)


class CsvMalformed(ValueError):
    def __init__(self, problems: list[CsvProblem]):
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"{len(problems)} malformed CSV line(s): {shown}{more}")


def _literal_cells(line: str) -> list[str]:
    """A line split on commas with quotes read literally (how a line with an unclosed quote is kept)."""
    return next(csv.reader([line.rstrip("\r\n")], quoting=csv.QUOTE_NONE), [])


def _fold(cells: list[str], width: int) -> list[str]:
    """Cells beyond `width` joined back (with the commas they were split on) into the last column."""
    if len(cells) <= width:
        return cells
    return [*cells[: width - 1], ",".join(cells[width - 1 :])]


def _next_record(lines: list[str], start: int) -> tuple[list[str] | None, int, bool]:
    """(cells, lines consumed, closed) of the record starting at line index `start`."""
    reader = csv.reader(iter(lines[start:]), strict=True)
    try:
        cells = next(reader)
    except StopIteration:
        return None, 0, True
    except csv.Error:
        return None, len(lines) - start, False
    return cells, reader.line_num, True


def read_csv(text: str, *, on_malformed: str = "error") -> CsvTable:
    """The header and rows of CSV `text`, checking each line (see the module docstring)."""
    if on_malformed not in MODES:
        raise ValueError(f"on_malformed must be one of {', '.join(MODES)}")
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    header_cells, used, _ = _next_record(lines, i) if i < len(lines) else (None, 0, True)
    if not header_cells:
        raise ValueError("the CSV file has no header line")
    header = [h.strip() for h in header_cells]
    table = CsvTable(header=header)
    width = len(header)
    i += used
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        line_no = i + 1
        cells, used, closed = _next_record(lines, i)
        spans = used > 1
        if not closed or (spans and cells is not None and len(cells) != width):
            # An opened quote ran to the end of the file or glued lines into a record of the wrong width.
            table.problems.append(CsvProblem(line_no, UNTERMINATED_QUOTE, "a quote is opened and never closed"))
            cells, used = (_fold(_literal_cells(lines[i]), width) if on_malformed == "keep" else None), 1
        elif cells is not None and len(cells) > width:
            table.problems.append(
                CsvProblem(line_no, EXTRA_CELLS, f"{len(cells)} cells for {width} columns (an unquoted comma?)")
            )
            cells = _fold(cells, width) if on_malformed == "keep" else None
        if cells is not None:
            table.rows.append((line_no, dict(zip(header, cells + [""] * (width - len(cells)), strict=True))))
        i += max(used, 1)
    if table.problems and on_malformed == "error":
        raise CsvMalformed(table.problems)
    return table


def check_csv(text: str) -> list[CsvProblem]:
    """Only the problems of CSV `text` (nothing is kept)."""
    return read_csv(text, on_malformed="skip").problems


def read_csv_bytes(data: bytes, *, on_malformed: str = "error") -> CsvTable:
    return read_csv(data.decode("utf-8-sig"), on_malformed=on_malformed)
