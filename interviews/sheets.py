"""The study's interview coding sheet, read and written.

Layout: Interview Num, Evaluator 1, Evaluator 2, Moderator Tag, Tag, Status
(A accepted, R removed, `-` not kept). Evaluator 1/2 hold the evaluators' tags,
not people. Headers are matched whatever their case, spacing, plural, common
synonyms and misspellings (the study's sheet has " Tag" with a leading space);
`-` and blank cells mean none; `a -> b` in a tag records a change from a to b.
"""

from __future__ import annotations

import difflib
import io
import re
from dataclasses import dataclass, field

import openpyxl
from openpyxl.styles import Alignment

from collection.importers.reading import Row, read_spreadsheet_rows
from core import csv_safe
from core.errors import InvalidInput
from core.tables import xlsx_bytes

MAX_NUMBER = 2**31 - 1  # the largest interview number its column holds on every database

HEADERS = ("Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", "Tag", "Status")
FIELDS = ("interview", "evaluator1", "evaluator2", "moderator_tag", "tag", "status")
# Without these a sheet is not a coding sheet (a tag summary, say: tag, count, accepted/removed) and
# reading it would guess: its count column taken for the interview number. Refused, naming them.
REQUIRED = ("interview", "evaluator1", "evaluator2")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "interview": (
        "interview num", "interview number", "interview no", "interview nr", "interview id", "interview",
        "interview n", "num", "number", "no", "nr", "interview index", "iv", "int num",
    ),
    "evaluator1": (
        "evaluator 1", "evaluator 1 tag", "evaluator 1 label", "eval 1", "e 1", "evaluator one", "first evaluator",
        "coder 1", "rater 1", "annotator 1", "tag 1", "label 1", "evaluator 1 tags",
    ),
    "evaluator2": (
        "evaluator 2", "evaluator 2 tag", "evaluator 2 label", "eval 2", "e 2", "evaluator two", "second evaluator",
        "coder 2", "rater 2", "annotator 2", "tag 2", "label 2",
    ),
    "moderator_tag": (
        "moderator tag", "moderator", "moderator label", "moderator lable", "mod tag", "moderated tag",
        "moderation tag", "moderator s tag", "moderator final tag",
    ),
    "tag": ("tag", "final tag", "final", "final label", "label", "lable", "final lable", "tag final", "final tagging"),
    "status": ("status", "state", "decision", "final status", "review", "review status", "a r", "a r status"),
}  # fmt: skip

NONE_VALUES = {"", "-", "–", "—", "--", "n/a", "na", "none", "null"}
STATUS_VALUES = {
    "accepted": {"a", "accepted", "accept", "acc", "yes", "y", "ok", "approved"},
    "removed": {"r", "removed", "remove", "rem", "rejected", "reject", "deleted", "delete", "not specific", "generic"},
    "not_kept": {"-", "–", "—", "--", "not kept", "notkept", "discarded", "discard", "dropped", "x", "no", "n"},
}
ARROW = re.compile(r"\s*(?:->|→|=>)\s*")


def header_key(text) -> str:
    """Comparison form of a header: lower case, words and digits split, plurals dropped."""
    text = re.sub(r"([a-z])(\d)|(\d)([a-z])", r"\1\3 \2\4", str(text or "").strip().lower())
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    singular = [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")) else w for w in words]
    return " ".join(singular)


_LOOKUP = {header_key(s): name for name, synonyms in SYNONYMS.items() for s in synonyms}


def match_header(text) -> str | None:
    key = header_key(text)
    if not key:
        return None
    if key in _LOOKUP:
        return _LOOKUP[key]
    digits = re.findall(r"\d", key)
    candidates = [k for k in _LOOKUP if re.findall(r"\d", k) == digits]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.82)
    return _LOOKUP[close[0]] if close else None


@dataclass
class SheetRow:
    number: int  # row number in the file (1-based, as a spreadsheet shows it)
    interview: int | None
    evaluator1: str
    evaluator2: str
    moderator_tag: str
    moderator_history: list[str]
    tag: str
    tag_history: list[str]
    status: str | None  # accepted / removed / not_kept / None (blank)
    raw_status: str = ""
    interview_carried: bool = False

    @property
    def has_coding(self) -> bool:
        return bool(self.evaluator1 or self.evaluator2 or self.moderator_tag or self.tag or self.raw_status)


@dataclass
class Sheet:
    rows: list[SheetRow]
    columns: dict[str, str]  # field -> header as written
    skipped: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sheet_name: str = ""


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    return "" if text.lower() in NONE_VALUES else text


def split_history(text: str) -> tuple[str, list[str]]:
    """`a -> b` → ("b", ["a"]); a plain value has no history."""
    if not text:
        return "", []
    parts = [p.strip() for p in ARROW.split(text)]
    parts = [p for p in parts if p and p.lower() not in NONE_VALUES]
    if not parts:
        return "", []
    return parts[-1], parts[:-1]


def parse_status(value) -> tuple[str | None, str]:
    raw = "" if value is None else str(value).strip()
    key = re.sub(r"[\s.]+", " ", raw.lower()).strip(" .")
    if not key:
        return None, ""
    for status, words in STATUS_VALUES.items():
        if key in words:
            return status, raw
    if key[0] in "ar" and re.fullmatch(r"[ar]\W.*", key):  # "A (moved)", "R - generic"
        return ("accepted" if key[0] == "a" else "removed"), raw
    raise ValueError(f"unknown status {raw!r} (expected A, R or -)")


def parse_interview_number(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 0 < value <= MAX_NUMBER:
            return int(value)
        raise ValueError(f"interview number {value!r} is not a positive whole number")
    text = str(value).strip()
    if not text:
        return None
    digits = re.findall(r"\d+", text)
    if not digits or not 1 <= int(digits[0]) <= MAX_NUMBER:
        raise ValueError(f"interview number {text!r} is not a positive whole number")
    return int(digits[0])


# --- reading -----------------------------------------------------------------------------------


def read_table(filename: str, data: bytes) -> list[tuple[str, list[Row]]]:
    """(sheet name, non-blank rows) per sheet of an XLSX, or the one table of a CSV, read as the round
    importer reads its files (encodings, delimiters, fixed-decimal numbers; rows numbered as shown)."""
    if not data:
        raise InvalidInput(f"{filename}: the file is empty.", field="file")
    try:
        sheets = read_spreadsheet_rows(data, filename)
    except InvalidInput as exc:
        detail = exc.message.rstrip(".")
        raise InvalidInput(f"{filename}: not a readable XLSX or CSV file ({detail}).", field="file") from exc
    return [(sheet.name, sheet.rows) for sheet in sheets]


def _header_row(rows: list[Row]) -> tuple[int, dict[str, int], list[str]] | None:
    for index, row in enumerate(rows[:15]):
        mapping, ignored = {}, []
        for col, value in enumerate(row.values):
            field_name = match_header(value)
            if field_name and field_name not in mapping:
                mapping[field_name] = col
            elif field_name:
                ignored.append(f"column {str(value).strip()!r} ignored: {field_name} is already column "
                               f"{str(row.values[mapping[field_name]]).strip()!r}")  # fmt: skip
        if "interview" in mapping and len(mapping) >= 2:
            return index, mapping, ignored
    return None


def _required_check(filename: str, sheet_name: str, mapping: dict[str, int]) -> None:
    missing = [HEADERS[FIELDS.index(f)] for f in REQUIRED if f not in mapping]
    if missing:
        where = f" (sheet {sheet_name!r})" if sheet_name else ""
        raise InvalidInput(
            f"{filename}{where} is not an interview coding sheet: required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} missing (expected the headers {', '.join(HEADERS)}).",
            field="file",
        )


def _partial_header(rows: list[Row]) -> dict[str, int] | None:
    """The known columns of the first row naming at least two of them (a sheet that is no coding sheet)."""
    for row in rows[:15]:
        mapping = {}
        for col, value in enumerate(row.values):
            field_name = match_header(value)
            if field_name and field_name not in mapping:
                mapping[field_name] = col
        if len(mapping) >= 2:
            return mapping
    return None


def read_sheet(filename: str, data: bytes) -> Sheet:
    """The coding sheet's rows. Raises InvalidInput (nothing to import) for unreadable or empty files
    and when no sheet has the required columns (Interview Num, Evaluator 1, Evaluator 2: named when
    missing); bad rows are listed in `skipped`."""
    tables = read_table(filename, data)
    if not any(any(cell_text(c) for c in row.values) for _, rows in tables for row in rows):
        raise InvalidInput(f"{filename}: the file has no data.", field="file")
    for sheet_name, rows in tables:
        found = _header_row(rows)
        if found is None:
            continue
        header_index, mapping, notes = found
        _required_check(filename, sheet_name if len(tables) > 1 else "", mapping)
        header = rows[header_index].values
        sheet = Sheet(
            rows=[],
            columns={f: str(header[c]) for f, c in mapping.items()},
            notes=notes,
            sheet_name=sheet_name,
        )
        missing = [HEADERS[FIELDS.index(f)] for f in FIELDS if f not in mapping]
        if missing:
            sheet.notes.append(f"columns not found (treated as empty): {', '.join(missing)}")
        current = None
        for row in rows[header_index + 1 :]:
            values = row.values

            def get(name, values=values, mapping=mapping):
                col = mapping.get(name)
                return values[col] if col is not None and col < len(values) else None

            if not any(cell_text(c) for c in values) and not any(str(c or "").strip() for c in values):
                continue
            try:
                number = parse_interview_number(get("interview"))
                status, raw_status = parse_status(get("status"))
            except ValueError as exc:
                sheet.skipped.append({"row": row.number, "reason": str(exc)})
                continue
            carried = False
            if number is None:
                if current is None:
                    sheet.skipped.append({"row": row.number, "reason": "no interview number (and none above it)"})
                    continue
                number, carried = current, True
            current = number
            moderator, moderator_history = split_history(cell_text(get("moderator_tag")))
            tag, tag_history = split_history(cell_text(get("tag")))
            sheet.rows.append(
                SheetRow(
                    number=row.number,
                    interview=number,
                    evaluator1=cell_text(get("evaluator1")),
                    evaluator2=cell_text(get("evaluator2")),
                    moderator_tag=moderator,
                    moderator_history=moderator_history,
                    tag=tag,
                    tag_history=tag_history,
                    status=status,
                    raw_status=raw_status,
                    interview_carried=carried,
                )
            )
        if sheet_name != tables[0][0]:
            sheet.notes.append(f"read sheet {sheet_name!r} (the first sheet has no Interview Num column)")
        return sheet
    for sheet_name, rows in tables:
        partial = _partial_header(rows)
        if partial is not None:
            _required_check(filename, sheet_name if len(tables) > 1 else "", partial)
    raise InvalidInput(
        f"{filename}: no Interview Num column found (expected the headers {', '.join(HEADERS)}).",
        field="file",
    )


# --- writing ---------------------------------------------------------------------------------------


def write_xlsx(rows: list[list]) -> bytes:

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Sheet1"
    sheet.append(list(HEADERS))
    for row in rows:
        sheet.append(row)
    for column, width in zip("ABCDEF", (14, 50, 50, 50, 50, 8), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    return xlsx_bytes(workbook)  # bold headers; a tag typed as "=…" stays text


def write_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")
