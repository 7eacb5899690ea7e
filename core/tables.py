"""Tables as files: CSV, XLSX, LaTeX (booktabs), Markdown and plain text.

Table 1 (reports.table1) and the tag summary (reports.tag_summary) are written through
these renderers: headings plus rows of plain values, the first `left` columns aligned
left and the others (the figures) right. None and "" are empty cells: blank in CSV and
XLSX, `--` in LaTeX, `–` in Markdown and text. Floats print with one decimal when that
is exact, else two. XLSX keeps text starting with "=" as text, never as a formula; the
round export and the interview coding sheet finish their workbooks through `xlsx_bytes` too.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence

import openpyxl
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from core import csv_safe

EMPTY = "–"
EMPTY_LATEX = "--"


class Latex(str):
    """A cell already written in LaTeX: render_latex passes it through unescaped."""


def is_empty(value) -> bool:
    return value is None or value == ""


def number(value) -> str:
    """A cell as text: "" for None, floats at one decimal when exact (50.0), else two (1.33)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if value == round(value, 1) else f"{value:.2f}"
    return str(value)


def render_csv(headings: Sequence[str], rows: Sequence[Sequence]) -> str:
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer, lineterminator="\n")
    writer.writerow(headings)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def render_text(headings: Sequence[str], rows: Sequence[Sequence], *, left: int = 1) -> str:
    """Columns padded to their widest cell, a rule of dashes under the headings."""
    data = [list(headings)] + [[EMPTY if is_empty(v) else number(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in data) for i in range(len(headings))]
    lines = []
    for n, row in enumerate(data):
        lines.append(
            "  ".join(
                cell.ljust(widths[i]) if i < left else cell.rjust(widths[i]) for i, cell in enumerate(row)
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def markdown_escape(text) -> str:
    """Text for a Markdown table cell: one line, backslashes and pipes escaped."""
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")


def render_markdown(headings: Sequence[str], rows: Sequence[Sequence], *, left: int = 1) -> str:
    lines = ["| " + " | ".join(markdown_escape(h) for h in headings) + " |"]
    lines.append("|" + "|".join([":---"] * left + ["---:"] * (len(headings) - left)) + "|")
    for row in rows:
        lines.append("| " + " | ".join(EMPTY if is_empty(v) else markdown_escape(number(v)) for v in row) + " |")
    return "\n".join(lines) + "\n"


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text, extra: dict[str, str] | None = None) -> str:
    """Text for a LaTeX cell, its special characters escaped; `extra` maps further characters."""
    specials = {**_LATEX_SPECIALS, **extra} if extra else _LATEX_SPECIALS
    return "".join(specials.get(ch, ch) for ch in str(text))


def _latex_cell(value) -> str:
    if isinstance(value, Latex):
        return value
    return EMPTY_LATEX if is_empty(value) else latex_escape(number(value))


def render_latex(
    headings: Sequence[str],
    rows: Sequence[Sequence],
    *,
    caption: str,
    label: str,
    left: int = 1,
    rules_before: Collection[int] = (),
) -> str:
    """A booktabs table (needs \\usepackage{booktabs}).

    `caption` is LaTeX (escape any text in it); a \\midrule goes before each row whose
    index is in `rules_before`."""
    spec = "l" * left + "r" * (len(headings) - left)
    lines = [
        r"\begin{table}",
        r"  \centering",
        rf"  \caption{{{caption}}}",
        rf"  \label{{{label}}}",
        rf"  \begin{{tabular}}{{{spec}}}",
        r"    \toprule",
        "    " + " & ".join(latex_escape(h) for h in headings) + r" \\",
        r"    \midrule",
    ]
    for n, row in enumerate(rows):
        if n in rules_before:
            lines.append(r"    \midrule")
        lines.append("    " + " & ".join(_latex_cell(v) for v in row) + r" \\")
    lines += [r"    \bottomrule", r"  \end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def xlsx_workbook(title: str, headings: Sequence[str], rows: Sequence[Sequence], *, widths: Sequence[float]):
    """An openpyxl workbook whose first sheet, `title`, holds the table; add sheets, then xlsx_bytes."""

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    return workbook


def xlsx_bytes(workbook) -> bytes:
    """The workbook's file: the first row of every sheet bold, text starting with "=" kept as text."""

    for sheet in workbook.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in sheet.iter_rows():
            for cell in row:
                # openpyxl reads "=…" text as a formula: names and answers people typed stay text.
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_xlsx(title: str, headings: Sequence[str], rows: Sequence[Sequence], *, widths: Sequence[float]) -> bytes:
    return xlsx_bytes(xlsx_workbook(title, headings, rows, widths=widths))
