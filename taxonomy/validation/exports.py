"""Table 2 files: CSV, XLSX, LaTeX (booktabs), Markdown, plain text and JSON.

One row per asked category in taxonomy order: code, category, level, respondents, yes,
yes %, mean severity and mean effort (the last two only when the survey asked them).
Empty cells (no answers yet, or no yes answers to rate) are written as blanks, `--` in
LaTeX and `–` in text. The XLSX adds sheets for the missing faults, the comments and the
respondents' background; the Markdown adds the missing faults as a list.
"""

from __future__ import annotations

import csv
import io
import json

from labelling.stats import latex_escape

from .selectors import Results


def columns(results: Results) -> list[tuple[str, str]]:
    cols = [
        ("code", "Code"),
        ("name", "Category"),
        ("level", "Level"),
        ("respondents", "Respondents"),
        ("yes", "Yes"),
        ("yes_percent", "Yes (%)"),
    ]
    if results.survey.ask_severity:
        cols.append(("mean_severity", "Mean severity"))
    if results.survey.ask_effort:
        cols.append(("mean_effort", "Mean effort"))
    return cols


def cells(results: Results) -> tuple[list[str], list[list]]:
    cols = columns(results)
    rows = []
    for row in results.rows:
        data = row.as_dict()
        rows.append([data[key] for key, _ in cols])
    return [heading for _, heading in cols], rows


def _number(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}" if value == round(value, 1) else f"{value:.2f}"
    return str(value)


def render_csv(results: Results) -> str:
    headings, rows = cells(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headings)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def render_text(results: Results) -> str:
    headings, rows = cells(results)
    data = [headings] + [["–" if v is None or v == "" else _number(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in data) for i in range(len(headings))]
    lines = [f"{results.survey.title}: {results.submitted} respondents", ""]
    for n, row in enumerate(data):
        lines.append(
            "  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def _md(text) -> str:
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")


def render_markdown(results: Results) -> str:
    headings, rows = cells(results)
    lines = [
        f"**{_md(results.survey.title)}** ({results.submitted} respondents)",
        "",
        "| " + " | ".join(headings) + " |",
        "|" + "|".join([":---", ":---"] + ["---:"] * (len(headings) - 2)) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join("–" if v is None or v == "" else _md(_number(v)) for v in row) + " |")
    if results.missing_faults:
        lines += ["", "Faults respondents missed in the taxonomy:", ""]
        lines += [f"- {_md(m['text'])}" for m in results.missing_faults]
    return "\n".join(lines) + "\n"


def render_latex(results: Results) -> str:
    """A booktabs table (\\usepackage{booktabs}); sub-categories indented by level."""
    headings, rows = cells(results)
    keep = [i for i, h in enumerate(headings) if h != "Level"]
    headings = [headings[i] for i in keep]
    spec = "ll" + "r" * (len(headings) - 2)
    title = latex_escape(results.survey.title)
    lines = [
        r"\begin{table}",
        r"  \centering",
        rf"  \caption{{Validation survey: {title} ({results.submitted} respondents)}}",
        r"  \label{tab:survey}",
        rf"  \begin{{tabular}}{{{spec}}}",
        r"    \toprule",
        "    " + " & ".join(latex_escape(h) for h in headings) + r" \\",
        r"    \midrule",
    ]
    for source, row in zip(results.rows, rows, strict=True):
        values = []
        for i in keep:
            value = row[i]
            if i == 1:
                values.append(r"\quad " * max(source.level - 1, 0) + latex_escape(value))
            elif value is None or value == "":
                values.append("--")
            else:
                values.append(latex_escape(_number(value)))
        if source.level == 1 and source.position > 1 and source.kind == "node":
            lines.append(r"    \midrule")
        lines.append("    " + " & ".join(values) + r" \\")
    lines += [r"    \bottomrule", r"  \end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def render_xlsx(results: Results) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    headings, rows = cells(results)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Table 2"
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    widths = {"Category": 48}
    for i, heading in enumerate(headings, start=1):
        sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width = widths.get(heading, len(heading) + 4)

    missing = workbook.create_sheet("Missing faults")
    missing.append(["Response", "Role", "Submitted", "Missing fault"])
    for m in results.missing_faults:
        when = m["submitted_at"].replace(tzinfo=None) if m["submitted_at"] else None
        missing.append([m["response"], m["role"], when, m["text"]])
    missing.column_dimensions["D"].width = 80

    comments = workbook.create_sheet("Comments")
    comments.append(["Code", "Category", "Encountered", "Comment"])
    for c in results.comments:
        comments.append([c["code"], c["name"], "yes" if c["encountered"] else "no", c["comment"]])
    comments.column_dimensions["B"].width = 40
    comments.column_dimensions["D"].width = 80

    background = workbook.create_sheet("Respondents")
    background.append(["Respondents (submitted)", results.submitted])
    background.append(["In progress (not counted)", results.in_progress])
    background.append(["Mean years of experience", results.mean_experience])
    background.append([])
    background.append(["Role", "Respondents"])
    for r in results.roles:
        background.append([r["label"], r["n"]])
    background.append([])
    background.append(["Framework", "Respondents"])
    for f in results.frameworks:
        background.append([f["name"], f["n"]])
    background.column_dimensions["A"].width = 32

    for ws in workbook.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in ws.iter_rows():
            for cell in row:
                # openpyxl reads "=…" text as a formula: respondents' text stays text.
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_json(results: Results) -> str:
    return json.dumps(results.as_dict(), indent=2, ensure_ascii=False) + "\n"


FORMATS = {
    # format: (renderer, content type, file extension, label)
    "csv": (render_csv, "text/csv; charset=utf-8", "csv", "CSV"),
    "xlsx": (render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "XLSX"),
    "latex": (render_latex, "application/x-latex; charset=utf-8", "tex", "LaTeX"),
    "markdown": (render_markdown, "text/markdown; charset=utf-8", "md", "Markdown"),
    "json": (render_json, "application/json", "json", "JSON"),
    "table": (render_text, "text/plain; charset=utf-8", "txt", "Text"),
}
DOWNLOADS = [(fmt, FORMATS[fmt][3]) for fmt in ("csv", "xlsx", "latex", "markdown", "json")]


def render(results: Results, fmt: str) -> tuple[bytes, str, str]:
    """(content, content type, extension) of Table 2 in `fmt`."""
    renderer, content_type, extension, _ = FORMATS[fmt]
    content = renderer(results)
    return (content.encode() if isinstance(content, str) else content), content_type, extension
