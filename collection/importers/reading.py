"""Reading tabular files robustly: CSV, JSON, JSON Lines and XLSX into plain sheets.

What real working files throw at us, and what we do:

- UTF-8, UTF-8 with a BOM, UTF-16 with a BOM: decoded as such.
- Stray legacy bytes (cp1252 from Windows, Mac Roman from old Macs) inside an
  otherwise UTF-8 file, or a whole file in one of those: only the undecodable
  bytes are re-read in the legacy encoding that fits the file best (typographic
  quotes and lower-case accented letters score, odd symbols do not); the rows so
  repaired are listed in `Table.repairs`.
- CRLF, CR or LF line ends; `,`, `;`, tab or `|` as delimiter (guessed from the
  header line); NUL bytes dropped.
- Ragged rows: short rows are padded, trailing empty cells dropped; values beyond
  the header are kept in `Row.extra` so callers can report them.
- XLSX: every sheet in workbook order (callers decide which one is a source);
  blank rows skipped; the header is the first non-blank row, unless that row has
  a single cell (a title above the header) and one of the next few rows names
  several known columns (when a `header_score` is given).
  Numbers shown with fixed decimals (format `0.00`) are read as that text, so a
  category code 4.10 stays "4.10".

Row numbers are those a person sees: the spreadsheet row, the CSV record (the
header is row 1), the JSON Lines line, or the position in a JSON array.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import sys
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from core import csv_safe
from core.errors import InvalidInput

FORMATS = ("csv", "json", "jsonl", "xlsx")
LEGACY_ENCODINGS = ("cp1252", "mac_roman")
HEADER_SEARCH_ROWS = 10

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass
class Row:
    number: int
    values: list[Any]
    extra: list[Any] = field(default_factory=list)


@dataclass
class Sheet:
    name: str
    header: list[str]
    header_row: int
    rows: list[Row]
    blank_rows: int = 0


@dataclass
class RawSheet:
    """A sheet before its header is chosen: the non-blank rows, numbered as a person sees them."""

    name: str
    rows: list[Row]
    blank_rows: int = 0


@dataclass
class Table:
    format: str
    sheets: list[Sheet]
    repairs: dict[int, str] = field(default_factory=dict)  # first sheet's row number -> legacy encoding
    problems: list[dict] = field(default_factory=list)  # rows that could not be read at all

    @property
    def first(self) -> Sheet:
        return self.sheets[0]


# --- format detection -------------------------------------------------------------


def detect_format(data: bytes, filename: str = "") -> str:
    suffix = Path(filename or "").suffix.lower().lstrip(".")
    if suffix in ("xlsx", "xlsm"):
        return "xlsx"
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "json":
        return "json"
    if suffix in ("csv", "tsv", "txt"):
        return "csv"
    if suffix == "xls" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InvalidInput(
            "This is an old Excel 97-2003 (.xls) file; save it as .xlsx or CSV and upload that.", field="file"
        )
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    head = data.lstrip(codecs.BOM_UTF8)[:1000].lstrip()
    if head[:1] == b"[":
        return "json"
    if head[:1] == b"{":
        first = head.split(b"\n", 1)[0].strip()
        try:
            json.loads(first)
            return "jsonl"
        except (ValueError, RecursionError):
            return "json"
    return "csv"


# --- text decoding ------------------------------------------------------------------

_LINE_SPLIT = re.compile(rb"(\r\n|\r|\n)")
# A JSON escape of the NUL character (after an even number of backslashes, so not an escaped "\u0000"):
# PostgreSQL cannot store NUL in text or jsonb, so the records are read without it (as CSV drops it).
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000", re.IGNORECASE)
_GOOD_PUNCT = set("’‘“”–—…•€£°«»")


def _legacy_decode(chunk: bytes, encoding: str) -> str:
    try:
        return chunk.decode(encoding)
    except UnicodeDecodeError:  # cp1252 leaves 0x81, 0x8D, 0x8F, 0x90, 0x9D undefined
        return chunk.decode("latin-1")


def _plausibility(text: str) -> int:
    score = 0
    for ch in text:
        if ch in _GOOD_PUNCT:
            score += 2
        elif ch.isalpha():
            score += 2 if ch.islower() else 1
        elif unicodedata.category(ch).startswith("C"):
            score -= 2
    return score


def _decode_mixed(line: bytes, encoding: str) -> str:
    """UTF-8 where valid; each undecodable run re-read in `encoding`."""
    out = []
    pos = 0
    while pos < len(line):
        try:
            out.append(line[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            out.append(line[pos : pos + exc.start].decode("utf-8"))
            out.append(_legacy_decode(line[pos + exc.start : pos + exc.end], encoding))
            pos += exc.end
    return "".join(out)


def _bad_runs(line: bytes) -> list[bytes]:
    runs = []
    pos = 0
    while pos < len(line):
        try:
            line[pos:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            runs.append(line[pos + exc.start : pos + exc.end])
            pos += exc.end
    return runs


def decode_text(data: bytes) -> tuple[str, dict[int, str]]:
    """The text of `data` and {physical line number: legacy encoding used} for repaired lines."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), {}
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"The file claims to be UTF-16 but is not: {exc}.", field="file") from exc
    try:
        return data.decode("utf-8"), {}
    except UnicodeDecodeError:
        pass
    parts = _LINE_SPLIT.split(data)
    lines, ends = parts[0::2], parts[1::2]
    bad = {}
    for i, line in enumerate(lines):
        runs = _bad_runs(line)
        if runs:
            bad[i] = runs
    sample = b"".join(b"".join(runs) for runs in bad.values())
    encoding = max(LEGACY_ENCODINGS, key=lambda enc: (_plausibility(_legacy_decode(sample, enc)), enc == "cp1252"))
    out = []
    for i, line in enumerate(lines):
        out.append(_decode_mixed(line, encoding) if i in bad else line.decode("utf-8"))
        if i < len(ends):
            out.append(ends[i].decode("ascii"))
    return "".join(out), {i + 1: encoding for i in bad}


# --- cells ---------------------------------------------------------------------------


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
    """A cell as display text: integral floats without `.0`, dates in ISO form, spaces tidied."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(round(value, 10))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    text = str(value).replace("\u00a0", " ").replace("\ufeff", "")
    return text.strip()


_FIXED_DECIMALS = re.compile(r"^[#,]*0\.(0+)$")


def _xlsx_value(cell) -> Any:
    value = cell.value
    if isinstance(value, float | int) and not isinstance(value, bool):
        fmt = getattr(cell, "number_format", "") or ""
        m = _FIXED_DECIMALS.match(fmt)
        if m:
            return f"{value:.{len(m.group(1))}f}"
    return value


# --- readers ---------------------------------------------------------------------------


def _choose_header(rows: list[Row], header_score: Callable[[list[str]], int] | None) -> int:
    """Index into `rows` of the header row."""
    if not header_score or not rows:
        return 0
    if sum(1 for v in rows[0].values if not is_blank(v)) > 1:
        return 0  # a header fills several columns; a title row above it, one
    best, best_score = 0, 1  # a later row must name two or more known columns (not a data row's word)
    for i, row in enumerate(rows[1:HEADER_SEARCH_ROWS], start=1):
        score = header_score([cell_text(v) for v in row.values])
        if score > best_score:
            best, best_score = i, score
    return best


def _make_sheet(name: str, rows: list[Row], header_score, blank_rows: int) -> Sheet:
    if not rows:
        return Sheet(name=name, header=[], header_row=0, rows=[], blank_rows=blank_rows)
    h = _choose_header(rows, header_score)
    header_cells = [cell_text(v) for v in rows[h].values]
    while header_cells and not header_cells[-1]:
        header_cells.pop()
    width = len(header_cells)
    body = []
    for row in rows[h + 1 :]:
        values = list(row.values[:width])
        values += [None] * (width - len(values))
        extra = [v for v in row.values[width:] if not is_blank(v)]
        body.append(Row(number=row.number, values=values, extra=extra))
    return Sheet(name=name, header=header_cells, header_row=rows[h].number, rows=body, blank_rows=blank_rows)


def guess_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_rows(data: bytes, name: str) -> tuple[RawSheet, dict[int, str]]:
    text, repaired_lines = decode_text(data)
    text = text.replace("\x00", "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=guess_delimiter(text))
    rows: list[Row] = []
    repairs: dict[int, str] = {}
    blank = 0
    number = 0
    previous_line = 0
    try:
        for values in reader:
            number += 1
            lines = range(previous_line + 1, reader.line_num + 1)
            previous_line = reader.line_num
            encoding = next((repaired_lines[n] for n in lines if n in repaired_lines), None)
            if encoding:
                repairs[number] = encoding
            if all(is_blank(v) for v in values):
                blank += 1
                continue
            # a cell Concord's own CSV export neutralised ('=…) reads back as it was
            rows.append(Row(number=number, values=[csv_safe.restore(v.strip()) for v in values]))
    except csv.Error as exc:
        raise InvalidInput(f"Unreadable CSV near record {number + 1}: {exc}.", field="file") from exc
    return RawSheet(name=name, rows=rows, blank_rows=blank), repairs


def read_csv(data: bytes, *, header_score=None, name: str = "CSV") -> Table:
    raw, repairs = _csv_rows(data, name)
    sheet = _make_sheet(raw.name, raw.rows, header_score, raw.blank_rows)
    return Table(format="csv", sheets=[sheet], repairs=repairs)


def _records_to_sheet(records: list[tuple[int, dict]], name: str, blank: int) -> Sheet:
    header: list[str] = []
    seen = set()
    for _, record in records:
        for key in record:
            if key not in seen:
                seen.add(key)
                header.append(str(key))
    rows = [Row(number=n, values=[record.get(k) for k in header]) for n, record in records]
    rows = [r for r in rows if not all(is_blank(v) for v in r.values)]
    return Sheet(name=name, header=header, header_row=0, rows=rows, blank_rows=blank)


def _find_records(doc: Any) -> list | None:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for key in ("rows", "artefacts", "artifacts", "items", "data", "records", "results"):
            if isinstance(doc.get(key), list):
                return doc[key]
        lists = [v for v in doc.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if lists:
            return lists[0]
        return [doc]
    return None


def read_json(data: bytes, *, name: str = "JSON") -> Table:
    text, _ = decode_text(data)
    text = _JSON_NUL.sub(r"\1", text)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"Unreadable JSON: {exc}.", field="file") from exc
    except RecursionError:
        raise InvalidInput("Unreadable JSON: nested too deeply.", field="file") from None
    found = _find_records(doc)
    if found is None:
        raise InvalidInput("The JSON holds no list of records.", field="file")
    records, problems = [], []
    for i, record in enumerate(found, start=1):
        if isinstance(record, dict):
            records.append((i, record))
        else:
            problems.append({"row": i, "reason": "not an object"})
    return Table(format="json", sheets=[_records_to_sheet(records, name, 0)], problems=problems)


def read_jsonl(data: bytes, *, name: str = "JSON Lines") -> Table:
    text, repaired = decode_text(data)
    text = _JSON_NUL.sub(r"\1", text)
    records, problems = [], []
    blank = 0
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            blank += 1
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            problems.append({"row": i, "reason": f"not valid JSON ({exc.msg})"})
            continue
        except RecursionError:
            problems.append({"row": i, "reason": "not valid JSON (nested too deeply)"})
            continue
        if not isinstance(record, dict):
            problems.append({"row": i, "reason": "not an object"})
            continue
        records.append((i, record))
    return Table(format="jsonl", sheets=[_records_to_sheet(records, name, blank)], repairs=repaired, problems=problems)


def _xlsx_rows(data: bytes) -> list[RawSheet]:

    # A damaged package fails in many ways (zip errors, XML syntax errors from ElementTree or lxml,
    # KeyError for a missing part, …): whatever openpyxl raises while reading is the file's fault.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(f"Unreadable XLSX workbook: {exc}.", field="file") from exc
    except Exception as exc:  # see above
        raise InvalidInput(f"Unreadable XLSX workbook ({exc.__class__.__name__}: {exc}).", field="file") from exc
    sheets = []
    try:
        for ws in workbook.worksheets:
            rows, blank = [], 0
            for number, cells in enumerate(ws.iter_rows(), start=1):
                values = [_xlsx_value(c) for c in cells]
                if all(is_blank(v) for v in values):
                    blank += 1
                    continue
                rows.append(Row(number=number, values=values))
            sheets.append(RawSheet(name=ws.title, rows=rows, blank_rows=blank))
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise InvalidInput(f"Unreadable XLSX workbook: {exc}.", field="file") from exc
    except Exception as exc:  # damaged sheet XML and the like (see above)
        raise InvalidInput(f"Unreadable XLSX workbook ({exc.__class__.__name__}: {exc}).", field="file") from exc
    finally:
        workbook.close()
    if not sheets:
        raise InvalidInput("The workbook has no sheets.", field="file")
    return sheets


def read_xlsx(data: bytes, *, header_score=None) -> Table:
    sheets = [_make_sheet(raw.name, raw.rows, header_score, raw.blank_rows) for raw in _xlsx_rows(data)]
    return Table(format="xlsx", sheets=sheets)


def read_spreadsheet_rows(data: bytes, filename: str = "") -> list[RawSheet]:
    """The rows of every sheet of an XLSX workbook, or of a CSV file (any other file is read as CSV),
    for callers that find the header row themselves; the cells and row numbers are those read_table reads."""
    if not data:
        raise InvalidInput("The file is empty.", field="file")
    if detect_format(data, filename) == "xlsx":
        return _xlsx_rows(data)
    return [_csv_rows(data, "CSV")[0]]


def read_table(data: bytes, filename: str = "", *, header_score=None, fmt: str | None = None) -> Table:
    """Read any supported file into sheets; raise InvalidInput when it cannot be read at all."""
    if not data:
        raise InvalidInput("The file is empty.", field="file")
    fmt = fmt or detect_format(data, filename)
    if fmt == "xlsx":
        table = read_xlsx(data, header_score=header_score)
    elif fmt == "json":
        table = read_json(data)
    elif fmt == "jsonl":
        table = read_jsonl(data)
    elif fmt == "csv":
        table = read_csv(data, header_score=header_score)
    else:
        raise InvalidInput(f"Unsupported format {fmt!r}; use one of {', '.join(FORMATS)}.", field="format")
    if not table.sheets or not table.first.header:
        raise InvalidInput("The file has no header row.", field="file")
    return table
