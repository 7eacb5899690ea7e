"""Table 2 files: CSV, XLSX, LaTeX (booktabs), Markdown, plain text and JSON.

One row per asked category in taxonomy order: code, category, level, respondents, yes,
yes %, mean severity and mean effort (the last two only when the survey asked them).
Empty cells (no answers yet, or no yes answers to rate) are written as blanks, `--` in
LaTeX and `–` in text. The XLSX adds sheets for the missing faults, the comments and the
respondents' background; the Markdown adds the missing faults as a list.
"""

from __future__ import annotations

import json

from core import tables
from validation.selectors import Results


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


def render_csv(results: Results) -> str:
    return tables.render_csv(*cells(results))


def render_text(results: Results) -> str:
    return f"{results.survey.title}: {results.submitted} respondents\n\n" + tables.render_text(*cells(results), left=2)


def render_markdown(results: Results) -> str:
    text = f"**{tables.markdown_escape(results.survey.title)}** ({results.submitted} respondents)\n\n"
    text += tables.render_markdown(*cells(results), left=2)
    if results.missing_faults:
        text += "\nFaults respondents missed in the taxonomy:\n\n"
        text += "".join(f"- {tables.markdown_escape(m['text'])}\n" for m in results.missing_faults)
    return text


def render_latex(results: Results) -> str:
    """A booktabs table (\\usepackage{booktabs}); sub-categories indented by level."""
    headings, rows = cells(results)
    keep = [i for i, h in enumerate(headings) if h != "Level"]
    body, rules = [], []
    for n, (source, row) in enumerate(zip(results.rows, rows, strict=True)):
        row[1] = tables.Latex(r"\quad " * max(source.level - 1, 0) + tables.latex_escape(row[1]))
        body.append([row[i] for i in keep])
        if source.level == 1 and source.position > 1 and source.kind == "node":
            rules.append(n)  # a rule before each top-level category but the first
    title = tables.latex_escape(results.survey.title)
    return tables.render_latex(
        [headings[i] for i in keep],
        body,
        caption=f"Validation survey: {title} ({results.submitted} respondents)",
        label="tab:survey",
        left=2,
        rules_before=rules,
    )


def render_xlsx(results: Results) -> bytes:
    headings, rows = cells(results)
    widths = {"Category": 48}
    workbook = tables.xlsx_workbook(
        "Table 2", headings, rows, widths=[widths.get(heading, len(heading) + 4) for heading in headings]
    )

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
    return tables.xlsx_bytes(workbook)


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
