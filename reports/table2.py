"""Table 2 of the paper: per category, how many respondents encountered it and how they rated it.

Per category: Yes % and No % over the respondents who answered yes or no (`n_encountered`);
the severity distribution (Minor, Major, Critical) over the Yes respondents who rated severity
(`n_severity`), and the effort distribution (Low, Medium, High) over the Yes respondents who
rated effort (`n_effort`). Percentages are rounded half up to whole numbers (0.5 -> 1,
2.5 -> 3), as the study presented them, so a row's percentages need not sum to 100; the exact
counts stay in `counts`. A percentage whose base is zero is None (null, an empty cell).

Rows are in the taxonomy's order: by code, compared numerically part by part (5.8 after 5.7,
10 after 9), categories without a code after the coded ones in the order given.

Renderers: CSV, XLSX (openpyxl), LaTeX (booktabs), Markdown and JSON
(`{"rows": [{"category", "code", "yes", "no", <severity levels>, <effort levels>,
"n_encountered", "n_severity", "n_effort", "counts"}, ...]}`).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import openpyxl
from openpyxl.styles import Alignment, Font

from core import csv_safe
from core.tables import latex_escape

SEVERITY = ("Minor", "Major", "Critical")
EFFORT = ("Low", "Medium", "High")
YES, NO = "yes", "no"
EMPTY_MARKDOWN = "–"
EMPTY_LATEX = "--"


def percent(n: int, base: int) -> int | None:
    """100 * n / base rounded half up to a whole number, exactly (integers only); None when base is 0."""
    if base <= 0:
        return None
    return (200 * n + base) // (2 * base)


def code_key(code: str | None) -> tuple:
    """Sort key of a taxonomy code: numeric parts as numbers (5.8 < 5.10 < 10); uncoded last."""
    text = (code or "").strip()
    if not text:
        return (1,)
    parts = [p for p in re.split(r"[.\s]+", text) if p]
    return (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts))


def _level(value, levels: Sequence[str], what: str) -> str | None:
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    for level in levels:
        if level.lower() == text:
            return level
    raise ValueError(f"{value!r} is not a {what} level ({', '.join(levels)}).")


def _encountered(value) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {YES, "y", "true"}:
        return True
    if text in {NO, "n", "false"}:
        return False
    raise ValueError(f"{value!r} is not a yes/no answer.")


@dataclass
class Counts:
    """Exact counts of one category: yes, no and each severity / effort level among the Yes respondents."""

    yes: int = 0
    no: int = 0
    severity: dict[str, int] = field(default_factory=dict)
    effort: dict[str, int] = field(default_factory=dict)


def count_answers(
    answers: Iterable[tuple], *, severity_levels: Sequence[str] = SEVERITY, effort_levels: Sequence[str] = EFFORT
) -> Counts:
    """Counts from (encountered, severity, effort) answers; None is a skipped question.

    `encountered` is a bool or "yes"/"no"; severity and effort are level names (any case).
    Ratings count only with a yes (a rating without a yes answer is not part of Table 2)."""
    counts = Counts(severity=dict.fromkeys(severity_levels, 0), effort=dict.fromkeys(effort_levels, 0))
    for encountered, severity, effort in answers:
        seen = _encountered(encountered)
        if seen is None:
            continue
        if not seen:
            counts.no += 1
            continue
        counts.yes += 1
        level = _level(severity, severity_levels, "severity")
        if level is not None:
            counts.severity[level] += 1
        level = _level(effort, effort_levels, "effort")
        if level is not None:
            counts.effort[level] += 1
    return counts


@dataclass
class Row:
    category: str
    code: str
    counts: Counts
    severity_levels: Sequence[str] = SEVERITY
    effort_levels: Sequence[str] = EFFORT

    @property
    def n_encountered(self) -> int:
        return self.counts.yes + self.counts.no

    @property
    def n_severity(self) -> int:
        return sum(self.counts.severity.get(level, 0) for level in self.severity_levels)

    @property
    def n_effort(self) -> int:
        return sum(self.counts.effort.get(level, 0) for level in self.effort_levels)

    @property
    def yes(self) -> int | None:
        return percent(self.counts.yes, self.n_encountered)

    @property
    def no(self) -> int | None:
        return percent(self.counts.no, self.n_encountered)

    def severity(self, level: str) -> int | None:
        return percent(self.counts.severity.get(level, 0), self.n_severity)

    def effort(self, level: str) -> int | None:
        return percent(self.counts.effort.get(level, 0), self.n_effort)

    def keys(self) -> tuple[dict[str, str], dict[str, str]]:
        """JSON keys of the levels: "minor", "low", ...; "severity_4", "effort_4" when the scales share names."""
        severity = {level: level.lower() for level in self.severity_levels}
        effort = {level: level.lower() for level in self.effort_levels}
        if set(severity.values()) & (set(effort.values()) | {YES, NO}):
            severity = {level: f"severity_{key}" for level, key in severity.items()}
            effort = {level: f"effort_{key}" for level, key in effort.items()}
        return severity, effort

    def as_dict(self) -> dict:
        severity_keys, effort_keys = self.keys()
        data: dict = {"category": self.category, "code": self.code, "yes": self.yes, "no": self.no}
        data.update({key: self.severity(level) for level, key in severity_keys.items()})
        data.update({key: self.effort(level) for level, key in effort_keys.items()})
        data.update(n_encountered=self.n_encountered, n_severity=self.n_severity, n_effort=self.n_effort)
        counts = {YES: self.counts.yes, NO: self.counts.no}
        counts.update({key: self.counts.severity.get(level, 0) for level, key in severity_keys.items()})
        counts.update({key: self.counts.effort.get(level, 0) for level, key in effort_keys.items()})
        data["counts"] = counts
        return data


@dataclass
class Table2:
    rows: list[Row]
    severity_levels: Sequence[str] = SEVERITY
    effort_levels: Sequence[str] = EFFORT
    title: str = ""
    respondents: int | None = None
    extra_sheets: list = field(default_factory=list)  # (title, rows) added to the XLSX after "Counts"

    def as_dict(self) -> dict:
        return {"rows": [row.as_dict() for row in self.rows]}

    def columns(self) -> list[tuple[str, str, str]]:
        """(group, heading, kind) per column; kind is "text", "percent" or "n"."""
        cols = [("", "Code", "text"), ("", "Category", "text")]
        cols += [("Encountered", "Yes", "percent"), ("Encountered", "No", "percent"), ("Encountered", "n", "n")]
        if self.severity_levels:
            cols += [("Severity", level, "percent") for level in self.severity_levels] + [("Severity", "n", "n")]
        if self.effort_levels:
            cols += [("Effort", level, "percent") for level in self.effort_levels] + [("Effort", "n", "n")]
        return cols

    def values(self, row: Row) -> list:
        cells = [row.code, row.category, row.yes, row.no, row.n_encountered]
        if self.severity_levels:
            cells += [row.severity(level) for level in self.severity_levels] + [row.n_severity]
        if self.effort_levels:
            cells += [row.effort(level) for level in self.effort_levels] + [row.n_effort]
        return cells


def build_table2(
    categories: Iterable[tuple[str, str, Counts]],
    *,
    severity_levels: Sequence[str] = SEVERITY,
    effort_levels: Sequence[str] = EFFORT,
    title: str = "",
    respondents: int | None = None,
) -> Table2:
    """Table 2 from (category name, code, counts), ordered by code (numerically; uncoded last, as given)."""
    rows = [
        Row(
            category=name,
            code=code or "",
            counts=counts,
            severity_levels=tuple(severity_levels),
            effort_levels=tuple(effort_levels),
        )
        for name, code, counts in categories
    ]
    rows.sort(key=lambda r: code_key(r.code))
    return Table2(
        rows=rows,
        severity_levels=tuple(severity_levels),
        effort_levels=tuple(effort_levels),
        title=title,
        respondents=respondents,
    )


# --- renderers -------------------------------------------------------------------------------------


def _heading(group: str, heading: str, kind: str) -> str:
    if kind == "percent":
        return f"{heading} (%)"
    if kind == "n":
        return f"n ({group.lower()})"
    return heading


def render_csv(table: Table2) -> str:
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer, lineterminator="\n")
    writer.writerow([_heading(*c) for c in table.columns()])
    for row in table.rows:
        writer.writerow(["" if v is None else v for v in table.values(row)])
    return buffer.getvalue()


def _markdown_escape(text: str) -> str:
    return re.sub(r"([\\|*_`\[\]<>])", r"\\\1", str(text)).replace("\n", " ")


def _cell(value, kind: str, *, empty: str, percent_sign: str) -> str:
    if value is None or value == "":
        return empty if kind != "text" else ""
    return f"{value}{percent_sign}" if kind == "percent" else str(value)


def render_markdown(table: Table2) -> str:
    cols = table.columns()
    lines = []
    if table.title:
        suffix = f" ({table.respondents} respondents)" if table.respondents is not None else ""
        lines += [f"**{_markdown_escape(table.title)}**{suffix}", ""]
    headings = [f"n ({group.lower()})" if kind == "n" else heading for group, heading, kind in cols]
    lines.append("| " + " | ".join(headings) + " |")
    lines.append("|" + "|".join(":---" if kind == "text" else "---:" for _, _, kind in cols) + "|")
    for row in table.rows:
        cells = [
            _markdown_escape(_cell(v, kind, empty=EMPTY_MARKDOWN, percent_sign="%"))
            for v, (_, _, kind) in zip(table.values(row), cols, strict=True)
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_latex(table: Table2, *, label: str = "tab:survey") -> str:
    """A booktabs table (\\usepackage{booktabs}): grouped headings with \\cmidrule, n beside each group."""
    cols = table.columns()
    spans: list[tuple[str, int, int]] = []  # (group, first column, last column), 1-based
    for i, (group, _, _) in enumerate(cols, start=1):
        if spans and spans[-1][0] == group:
            spans[-1] = (group, spans[-1][1], i)
        else:
            spans.append((group, i, i))
    top, rules = [], []
    for group, first, last in spans:
        width = last - first + 1
        top.append(rf"\multicolumn{{{width}}}{{c}}{{{group}}}" if group else " & ".join([""] * width))
        if group:
            rules.append(rf"\cmidrule(lr){{{first}-{last}}}")
    headings = [r"$n$" if kind == "n" else latex_escape(heading) for _, heading, kind in cols]
    lines = [r"\begin{table}[t]", r"\centering"]
    if table.title:
        suffix = f" ({table.respondents} respondents)" if table.respondents is not None else ""
        lines.append(rf"\caption{{Validation survey: {latex_escape(table.title)}{suffix}}}")
    lines += [
        rf"\label{{{label}}}",
        r"\begin{tabular}{" + "".join("l" if kind == "text" else "r" for _, _, kind in cols) + "}",
        r"\toprule",
        " & ".join(top) + r" \\",
        "".join(rules),
        " & ".join(headings) + r" \\",
        r"\midrule",
    ]
    for row in table.rows:
        cells = [
            latex_escape(_cell(v, kind, empty=EMPTY_LATEX, percent_sign="%")) if kind != "text" else latex_escape(v)
            for v, (_, _, kind) in zip(table.values(row), cols, strict=True)
        ]
        cells = [c.replace(latex_escape(EMPTY_LATEX), EMPTY_LATEX) for c in cells]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def _set(sheet, row: int, column: int, value):
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text that looks like a formula stays text
    return cell


def render_xlsx(table: Table2) -> bytes:
    """Sheet "Table 2" (grouped headings, whole percents shown with %, n beside each group) and
    sheet "Counts" (the exact counts)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Table 2"
    cols = table.columns()
    bold = Font(bold=True)
    start = 1
    for i, (group, heading, kind) in enumerate(cols, start=1):
        _set(sheet, 2, i, "n" if kind == "n" else heading).font = bold
        if group and (i == len(cols) or cols[i][0] != group):
            _set(sheet, 1, start, group).font = bold
            sheet.cell(row=1, column=start).alignment = Alignment(horizontal="center")
            if i > start:
                sheet.merge_cells(start_row=1, start_column=start, end_row=1, end_column=i)
        if i == len(cols) or cols[i][0] != group:
            start = i + 1
    for r, row in enumerate(table.rows, start=3):
        for c, (value, (_, _, kind)) in enumerate(zip(table.values(row), cols, strict=True), start=1):
            cell = _set(sheet, r, c, value)
            if kind == "percent":
                cell.number_format = '0"%"'
    sheet.column_dimensions["B"].width = 40
    sheet.freeze_panes = "C3"

    counts = workbook.create_sheet("Counts")
    keys = list(table.rows[0].as_dict()["counts"]) if table.rows else [YES, NO]
    for c, heading in enumerate(["Code", "Category", *keys], start=1):
        _set(counts, 1, c, heading).font = bold
    for r, row in enumerate(table.rows, start=2):
        exact = row.as_dict()["counts"]
        for c, value in enumerate([row.code, row.category, *(exact[k] for k in keys)], start=1):
            _set(counts, r, c, value)
    counts.column_dimensions["B"].width = 40
    for title, rows in table.extra_sheets:
        extra = workbook.create_sheet(title[:31])
        for r, values in enumerate(rows, start=1):
            for c, value in enumerate(values, start=1):
                _set(extra, r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_text(table: Table2) -> str:
    """Plain columns for a terminal: percents with %, "–" for none, n beside each group."""
    cols = table.columns()
    headings = [f"n {group.lower()[:3]}" if kind == "n" else heading for group, heading, kind in cols]
    body = [
        [
            _cell(v, kind, empty=EMPTY_MARKDOWN, percent_sign="%")
            for v, (_, _, kind) in zip(table.values(r), cols, strict=True)
        ]
        for r in table.rows
    ]
    data = [headings, *body]
    widths = [max(len(row[i]) for row in data) for i in range(len(cols))]
    lines = []
    if table.title:
        suffix = f": {table.respondents} respondents" if table.respondents is not None else ""
        lines += [f"{table.title}{suffix}", ""]
    for n, row in enumerate(data):
        cells = [c.ljust(widths[i]) if cols[i][2] == "text" else c.rjust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def render_json(table: Table2) -> str:
    return json.dumps(table.as_dict(), indent=2, ensure_ascii=False) + "\n"


FORMATS = {
    # format: (renderer, content type, file extension, label)
    "csv": (render_csv, "text/csv; charset=utf-8", "csv", "CSV"),
    "xlsx": (render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "XLSX"),
    "latex": (render_latex, "application/x-latex; charset=utf-8", "tex", "LaTeX"),
    "markdown": (render_markdown, "text/markdown; charset=utf-8", "md", "Markdown"),
    "json": (render_json, "application/json", "json", "JSON"),
    "table": (render_text, "text/plain; charset=utf-8", "txt", "Text"),
}


def render(table: Table2, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, extension) of Table 2 in `fmt`."""
    renderer, content_type, extension, _ = FORMATS[fmt]
    content = renderer(table)
    return (content.encode() if isinstance(content, str) else content), content_type, extension
