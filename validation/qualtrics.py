"""Read survey responses collected elsewhere: Qualtrics exports (CSV and XLSX) and plain CSV files.

Layouts recognised (the header rows are found, never assumed):

- Qualtrics, question text in the first header row and `{"ImportId": ...}` JSON in the second;
- Qualtrics with three header rows: column ids (Q5_1, OptimiserProblems_2, ...), question text,
  then the ImportId JSON;
- legacy Qualtrics: ids V1, V2, ... / Q1 ... in the first row and the question text
  (ResponseID, StartDate, ...) in the second;
- a plain CSV: one header row, one row per respondent.

Per category a survey asks three questions (encountered, severity, effort): three columns,
which this module groups by category. A column's category ("group") comes from its question
text (`Hyperparameters - Have you encountered ...?`), else from its id with the facet or
sub-question suffix removed (`OptimiserProblems_1`, `Hyperparameters severity`), else it
continues the previous column's group. Its facet comes from its text (encounter / sever /
effort), else from its values (yes/no, minor/major/critical, low/medium/high), else from its
place in the group. Values are "choice text" kept as written; empty, "None", "-" and "N/A"
cells are no answer.

Metadata columns (dates, status, progress, ...) are recognised by name; every other column
is a background answer (experience, frameworks, free text), kept by its question text.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import openpyxl

FACETS = ("encountered", "severity", "effort")
NO_ANSWER = {"", "none", "-", "–", "n/a", "na", "null", "nan"}

# facet vocabularies used when a column's text does not say which question it is
FACET_VALUES = {
    "encountered": {"yes", "no"},
    "severity": {"minor", "major", "critical"},
    "effort": {"low", "medium", "high"},
}
FACET_WORDS = (  # checked in this order on a column's text
    ("severity", re.compile(r"\bsever|\bcriticality\b|\bimpact\b", re.I)),
    ("effort", re.compile(r"\beffort|\bdifficult|\bhard to fix\b|\btime to fix\b", re.I)),
    ("encountered", re.compile(r"\bencounter|\bexperienced\b|\bfaced\b|\bcome across\b|\bseen\b", re.I)),
)

# normalised names (lowercase, letters and digits only) of metadata columns
META_ID = {"responseid", "recordid", "respondentid", "respondent", "participantid", "participant", "id"}
META_DATE = ("recordeddate", "enddate", "startdate", "date", "timestamp", "submitted", "submittedat")
META_OTHER = {
    "status",
    "ipaddress",
    "progress",
    "durationinseconds",
    "duration",
    "finished",
    "recipientlastname",
    "recipientfirstname",
    "recipientemail",
    "externalreference",
    "externaldatareference",
    "locationlatitude",
    "locationlongitude",
    "distributionchannel",
    "userlanguage",
    "responseset",
    "emailaddress",
    "name",
    "q_recaptchascore",
    "qrecaptchascore",
    "q_relevantidduplicate",
}
META_KINDS = (("id", META_ID), ("date", set(META_DATE)), ("finished", {"finished"}), ("meta", META_OTHER))
META_LABELS = {"responseid", "responseset", "startdate", "enddate", "recordeddate"}
QUALTRICS_AUTO_ID = re.compile(r"^(?:Q|QID|V)\d+(?:[#_].*)?$", re.I)
LEGACY_ID = re.compile(r"^V\d+$", re.I)
SUFFIX = re.compile(r"(?:[#_]\d+)+$")  # _1, #1_2
FACET_SUFFIX = re.compile(
    r"[\s_\-:(]*(?:encountered|encounter|yes\s*/\s*no|severity|severe|effort|fix(?:ing)?\s*effort)\)?\s*$", re.I
)
QUESTION_SEPARATOR = re.compile(r"\s+[-–—]\s+")


class ExportError(ValueError):
    """The file cannot be read as a survey export; the message says why."""


@dataclass
class GroupAnswer:
    """One respondent's answers on one category (None = not answered)."""

    encountered: str | None = None
    severity: str | None = None
    effort: str | None = None

    def get(self, facet: str) -> str | None:
        return getattr(self, facet)

    @property
    def is_empty(self) -> bool:
        return self.encountered is None and self.severity is None and self.effort is None


@dataclass
class Respondent:
    id: str
    row: int  # 1-based line (CSV) or row (XLSX) in the file
    date: datetime | None = None
    finished: bool | None = None
    background: dict[str, str] = field(default_factory=dict)  # question text -> answer
    answers: dict[str, GroupAnswer] = field(default_factory=dict)  # group name -> answers

    @property
    def experience_years(self) -> float | None:
        return years(background_answer(self.background, EXPERIENCE_WORDS, exclude=DL_WORDS))

    @property
    def dl_experience_years(self) -> float | None:
        return years(background_answer(self.background, DL_WORDS, require=EXPERIENCE_WORDS))

    @property
    def frameworks(self) -> list[str]:
        return split_list(background_answer(self.background, FRAMEWORK_WORDS))

    @property
    def role(self) -> str:
        return background_answer(self.background, ROLE_WORDS) or ""


@dataclass
class Column:
    index: int
    key: str  # first header row (an id in the three-row and legacy layouts)
    text: str  # the question text ("" when the file has no such row)
    import_id: str = ""
    kind: str = "background"  # "id", "date", "finished", "meta", "category", "background", "ignored"
    meta: str = ""  # the metadata name recognised (responseid, recordeddate, ...)
    group: str = ""
    facet: str = ""

    @property
    def label(self) -> str:
        return self.text or self.key


@dataclass
class Export:
    layout: str  # "qualtrics", "qualtrics-legacy" or "plain"
    header_rows: int
    columns: list[Column]
    groups: list[str]  # category column groups, in file order
    respondents: list[Respondent]
    warnings: list[str] = field(default_factory=list)

    @property
    def background_questions(self) -> list[str]:
        return [c.label for c in self.columns if c.kind == "background"]

    def group_columns(self, group: str) -> dict[str, Column]:
        return {c.facet: c for c in self.columns if c.kind == "category" and c.group == group}


# --- cells and files ---------------------------------------------------------------------


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value).strip()


def answer_value(value) -> str | None:
    """A cell as an answer: None for empty, "None", "-", "N/A"; else its stripped text."""
    text = cell_text(value)
    return None if text.lower() in NO_ANSWER else text


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def read_rows(data: bytes, filename: str = "") -> list[list]:
    """The cells of a CSV (any common encoding and delimiter) or of an XLSX's first sheet."""
    if data[:2] == b"PK" or filename.lower().endswith((".xlsx", ".xlsm")):
        return xlsx_rows(data)
    return csv_rows(data)


def xlsx_rows(data: bytes) -> list[list]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds on a damaged file
        raise ExportError(f"Not a readable XLSX file ({error.__class__.__name__}).") from None
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def csv_rows(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "utf-16", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything
        raise ExportError("The file is neither UTF-8, UTF-16 nor Windows-1252 text.")
    if "\x00" in text:
        raise ExportError("The file is not text (it contains NUL characters).")
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] or sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


# --- header rows --------------------------------------------------------------------------


def _import_id(value) -> str | None:
    text = cell_text(value)
    if not text.startswith("{") or "importid" not in text.lower():
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    return str(next((v for k, v in parsed.items() if k.lower() == "importid"), ""))


def _is_import_row(row: Sequence) -> bool:
    return any(_import_id(v) is not None for v in row)


def _is_label_row(row: Sequence, first: Sequence) -> bool:
    """A second row of labels (legacy layout): Qualtrics' metadata names under V1, V2, ... ids."""
    labels = {norm(cell_text(v)) for v in row}
    if labels & META_LABELS:
        return True
    return bool(first) and all(LEGACY_ID.match(cell_text(v)) or not cell_text(v) for v in first[:3])


def header_layout(rows: list[list]) -> tuple[str, int]:
    """(layout, number of header rows)."""
    if not rows:
        raise ExportError("The file is empty.")
    import_rows = [i for i in range(1, min(len(rows), 4)) if _is_import_row(rows[i])]
    if import_rows:
        return "qualtrics", import_rows[-1] + 1
    if len(rows) > 1 and _is_label_row(rows[1], rows[0]):
        return "qualtrics-legacy", 2
    return "plain", 1


def _columns(rows: list[list], header_rows: int) -> list[Column]:
    width = max(len(r) for r in rows[: max(header_rows, 1)] + rows[header_rows:]) if rows else 0
    headers = [list(r) + [None] * (width - len(r)) for r in rows[:header_rows]]
    import_row = next((r for r in headers if _is_import_row(r)), None)
    names = [r for r in headers if r is not import_row]
    columns = []
    for i in range(width):
        key = cell_text(names[0][i]) if names else ""
        text = cell_text(names[1][i]) if len(names) > 1 else ""
        if not text and not QUALTRICS_AUTO_ID.match(key):
            text = key
        import_id = (_import_id(import_row[i]) or "") if import_row else ""
        columns.append(Column(index=i, key=key, text=text, import_id=import_id))
    return columns


# --- column roles ---------------------------------------------------------------------------


def _meta_kind(column: Column) -> str | None:
    names = [norm(column.import_id), norm(column.key), norm(column.text)]
    for kind, vocabulary in META_KINDS:
        name = next((n for n in names if n in vocabulary), None)
        if name:
            column.meta = name
            return kind
    return None


def _facet_from_text(text: str) -> str:
    for facet, pattern in FACET_WORDS:
        if pattern.search(text):
            return facet
    return ""


def _facet_from_values(values: list[str]) -> str:
    seen = {v.lower() for v in values if v}
    if not seen:
        return ""
    for facet, vocabulary in FACET_VALUES.items():
        if seen <= vocabulary:
            return facet
    return ""


def _group_from_text(text: str) -> str:
    """The category part of `Category - Question?` or `Question? - Category`."""
    parts = [p.strip() for p in QUESTION_SEPARATOR.split(text) if p.strip()]
    if len(parts) < 2:
        return ""
    names = [p for p in parts if not _facet_from_text(p) and "?" not in p]
    return names[0] if len(names) == 1 else ""


def _group_from_key(key: str) -> str:
    if not key or QUALTRICS_AUTO_ID.match(key):
        return ""
    name = FACET_SUFFIX.sub("", SUFFIX.sub("", key)).strip(" _-:")
    return name


def _question_id(column: Column) -> str:
    """QID5 for QID5_1 / Q5#1_2: columns of one Qualtrics matrix question share it."""
    for source in (column.import_id, column.key):
        match = re.match(r"^(Q(?:ID)?\d+)", source or "", re.I)
        if match:
            return match.group(1).upper()
    return ""


def _facet_only(label: str) -> bool:
    """A header that names only the question ("Severity", "Effort (fix)"): its category is the previous one's."""
    return bool(label) and not FACET_SUFFIX.sub("", label).strip(" _-:()")


def _continues(column: Column, previous: Column | None) -> bool:
    if previous is None:
        return False
    if not column.label or _facet_only(column.label):
        return True
    qid = _question_id(column)
    return bool(qid) and qid == _question_id(previous)


def _classify(columns: list[Column], data: list[list]) -> None:
    previous: Column | None = None
    used: dict[str, set[str]] = {}
    for column in columns:
        kind = _meta_kind(column)
        if kind:
            column.kind, previous = kind, None
            continue
        values = [answer_value(r[column.index]) if column.index < len(r) else None for r in data]
        facet = _facet_from_text(column.text) or _facet_from_text(column.key) or _facet_from_values(values)
        group = _group_from_text(column.text) or _group_from_key(column.key)
        continues = _continues(column, previous)
        if not group and continues:
            group = previous.group
        if group and not facet and (continues or group in used or SUFFIX.search(column.key)):
            facet = next((f for f in FACETS if f not in used.get(group, set())), "")
        if facet and group:
            column.kind, column.group, column.facet = "category", group, facet
            used.setdefault(group, set()).add(facet)
            previous = column
        else:
            previous = None


def _settle_facets(columns: list[Column], warnings: list[str]) -> list[str]:
    """Groups in file order; a facet named twice in a group keeps its first column."""
    groups: dict[str, dict[str, Column]] = {}
    for column in columns:
        if column.kind != "category":
            continue
        facets = groups.setdefault(column.group, {})
        if column.facet in facets:
            warnings.append(
                f"Column {column.index + 1} ({column.label!r}) repeats the {column.facet} question of "
                f"{column.group!r}; it is ignored."
            )
            column.kind = "ignored"
            continue
        facets[column.facet] = column
    return list(groups)


# --- values -----------------------------------------------------------------------------------

DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)


def parse_date(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = cell_text(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def parse_bool(value) -> bool | None:
    text = cell_text(value).lower()
    if text in {"true", "1", "yes", "finished"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    return None


def match_choice(value: str | None, labels: Sequence[str]) -> str | None:
    """The scale label a choice text stands for: equal ignoring case and spacing, or its first
    word ("Major (hard to find)" -> "Major"); None when it is none of them."""
    if value is None:
        return None
    by_norm = {norm(label): label for label in labels}
    exact = by_norm.get(norm(value))
    if exact is not None:
        return exact
    first = re.split(r"[\s,;:(–—-]+", value.strip(), maxsplit=1)[0]
    return by_norm.get(norm(first))


# --- background answers --------------------------------------------------------------------------

EXPERIENCE_WORDS = re.compile(r"experience|years", re.I)
DL_WORDS = re.compile(r"\bdeep learning\b|\bDL\b|\bmachine learning\b|\bML\b|\bneural", re.I)
FRAMEWORK_WORDS = re.compile(r"framework|librar|tool", re.I)
ROLE_WORDS = re.compile(r"\brole\b|position|occupation|job|profession|background", re.I)


def background_answer(
    background: dict[str, str], pattern: re.Pattern, *, exclude: re.Pattern | None = None, require=None
) -> str | None:
    for question, value in background.items():
        if not pattern.search(question) or (exclude is not None and exclude.search(question)):
            continue
        if require is not None and not require.search(question):
            continue
        if value:
            return value
    return None


def years(text: str | None) -> float | None:
    """Years from "5", "5 years", "2.5", "6 months", "3-5" (midpoint), "10+", "<1" (half of it)."""
    if not text:
        return None
    value = text.strip().lower().replace(",", ".")
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", value)]
    if not numbers:
        return None
    if re.search(r"\d\s*(?:-|–|to)\s*\d", value) and len(numbers) >= 2:
        result = (numbers[0] + numbers[1]) / 2
    elif value.startswith("<") or "less than" in value:
        result = numbers[0] / 2
    else:
        result = numbers[0]
    if "month" in value and "year" not in value:
        result /= 12
    return round(result, 2)


def split_list(text: str | None) -> list[str]:
    """ "Keras, TensorFlow; PyTorch and scikit-learn" -> the four names, each once, in order."""
    if not text:
        return []
    parts = re.split(r"\s*(?:[,;/\n]|\band\b|&)\s*", text)
    seen, names = set(), []
    for part in parts:
        name = part.strip(" .")
        if name and name.lower() not in NO_ANSWER and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


# --- reading ------------------------------------------------------------------------------------


def _respondent(number: int, row: list, columns: list[Column], header_rows: int) -> Respondent:
    cells = list(row) + [None] * (len(columns) - len(row))
    respondent = Respondent(id="", row=header_rows + number + 1)
    dates: dict[str, datetime | None] = {}
    for column in columns:
        raw = cells[column.index]
        if column.kind == "id" and not respondent.id:
            respondent.id = cell_text(raw)
        elif column.kind == "date":
            dates.setdefault(column.meta, parse_date(raw))
        elif column.kind == "finished":
            respondent.finished = parse_bool(raw)
        elif column.kind == "category":
            answer = respondent.answers.setdefault(column.group, GroupAnswer())
            setattr(answer, column.facet, answer_value(raw))
        elif column.kind == "background":
            value = answer_value(raw)
            if value is not None and column.label:
                respondent.background[column.label] = value
    respondent.date = next((dates[k] for k in META_DATE if dates.get(k)), None)
    if not respondent.id:
        respondent.id = f"row-{respondent.row}"
    return respondent


def parse_rows(rows: list[list]) -> Export:
    rows = [list(r) for r in rows]
    while rows and not any(cell_text(v) for v in rows[-1]):
        rows.pop()
    layout, header_rows = header_layout(rows)
    columns = _columns(rows, header_rows)
    data = [r for r in rows[header_rows:] if any(cell_text(v) for v in r)]
    warnings: list[str] = []
    _classify(columns, data)
    groups = _settle_facets(columns, warnings)
    if not groups:
        raise ExportError(
            "No category questions found: expected three columns per category "
            "(encountered yes/no, severity, effort), named by the category."
        )
    respondents, seen = [], set()
    for number, row in enumerate(rows[header_rows:]):
        if not any(cell_text(v) for v in row):
            continue
        respondent = _respondent(number, row, columns, header_rows)
        if respondent.id in seen:
            warnings.append(f"Respondent {respondent.id} appears twice; row {respondent.row} is ignored.")
            continue
        seen.add(respondent.id)
        respondents.append(respondent)
    return Export(
        layout=layout,
        header_rows=header_rows,
        columns=columns,
        groups=groups,
        respondents=respondents,
        warnings=warnings,
    )


def read_export(data: bytes, filename: str = "") -> Export:
    """Parse a Qualtrics export or plain CSV (bytes of the file; the name only hints XLSX)."""
    return parse_rows(read_rows(data, filename))
