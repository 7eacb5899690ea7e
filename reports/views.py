"""Report pages (every member): Table 1 with its chart and downloads; inter-rater agreement
with its chart, pair heat maps, top disagreements and downloads; a round's alpha (htmx)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from core.errors import InvalidInput
from core.htmx import render_page_or_fragment
from core.views import int_param, member
from labelling import selectors as labelling_selectors
from reports.agreement import FORMATS as AGREEMENT_FORMATS
from reports.agreement import LEAF
from reports.agreement import render as render_agreement
from reports.agreement.charts import alpha_chart, pair_matrices
from reports.selectors import agreement_asked, agreement_for_member, agreement_levels, project_agreement
from reports.table1 import FORMATS as STATS_FORMATS
from reports.table1 import cells, chart, columns, table1
from reports.table1 import render as render_stats


@login_required
@require_GET
def stats(request, slug):
    project, membership = member(request, slug)
    table = table1(project)
    fmt = request.GET.get("file_format") or request.GET.get("format")  # `format`: older links
    if fmt:
        if fmt not in STATS_FORMATS and fmt != "json":
            raise InvalidInput(f"Format is one of json, {', '.join(STATS_FORMATS)}.", field="file_format")
        content, content_type, extension = render_stats(table, fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-table1.{extension}"'
        return response
    headings = [heading for _, heading in columns(table)]
    rounds = labelling_selectors.round_list(project=project) if membership.is_lead else []
    context = {
        "project": project,
        "membership": membership,
        "table": table,
        "headings": headings,
        "rows": _display_rows(table),
        "chart": chart(table),
        "has_rounds": any(r["round"].isdigit() for r in table["rows"]),
        "rounds": rounds,
        "download_formats": [
            ("csv", "CSV"),
            ("xlsx", "XLSX"),
            ("latex", "LaTeX"),
            ("markdown", "Markdown"),
            ("json", "JSON"),
        ],
    }
    return render_page_or_fragment(request, "reports/stats.html", context, partial="reports/partials/stats_table.html")


def _display_rows(table: dict) -> list[dict]:
    _, rows = cells(table)
    return [
        {"cells": row, "kind": "sum" if source["round"] in ("subtotal", "total") else "round"}
        for row, source in zip(rows, table["rows"], strict=True)
    ]


AGREEMENT_DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", "csv", "CSV"),
    "latex": ("text/x-tex; charset=utf-8", "tex", "LaTeX"),
    "markdown": ("text/markdown; charset=utf-8", "md", "Markdown"),
    "json": ("application/json", "json", "JSON"),
    "table": ("text/plain; charset=utf-8", "txt", "Text"),
}


@login_required
@require_GET
def agreement(request, slug):
    """Agreement per round × level; `level` picks the level of the chart, pairs and disagreements
    (leaf by default); `format` downloads the report of every round and level."""
    project, membership = member(request, slug)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in AGREEMENT_FORMATS:
            raise InvalidInput(f"Format is one of {', '.join(AGREEMENT_FORMATS)}.", field="format")
        report = agreement_asked(project, number=int_param(request, "round"), level=request.GET.get("level"))
        report = agreement_for_member(report, membership)
        content_type, extension, _ = AGREEMENT_DOWNLOADS[fmt]
        response = HttpResponse(render_agreement(report, fmt), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-agreement.{extension}"'
        return response
    report = agreement_for_member(project_agreement(project), membership)
    levels = list(dict.fromkeys(r["level"] for r in report["rows"])) or agreement_levels(project)
    level = request.GET.get("level") or LEAF
    if level not in levels:
        level = LEAF
    context = {
        "project": project,
        "membership": membership,
        "report": report,
        "levels": levels,
        "level": level,
        "matrix": _alpha_matrix(report, levels),
        "rows": report["rows"],
        "chart": alpha_chart(report, level=level),
        "heatmaps": pair_matrices(report),
        "disagreements": [d for d in report["disagreements"] if d["level"] == level],
        "download_formats": [(fmt, AGREEMENT_DOWNLOADS[fmt][2]) for fmt in ("csv", "latex", "markdown", "json")],
    }
    return render_page_or_fragment(
        request, "reports/agreement.html", context, partial="reports/partials/agreement_level.html"
    )


def _alpha_matrix(report: dict, levels: list[str]) -> list[dict]:
    """Rounds as rows, levels as columns: alpha with its interval and percent agreement."""
    rounds: dict = {}
    for row in report["rows"]:
        rounds.setdefault(row["round"], {})[row["level"]] = row
    return [
        {"round": key, "items": next(iter(cells.values()))["items"], "cells": [cells.get(level) for level in levels]}
        for key, cells in rounds.items()
    ]


@login_required
@require_GET
def round_alpha(request, slug, number):
    """A round's Krippendorff's alpha (leaf level) with its interval: the round page loads it by htmx."""
    project, _ = member(request, slug)
    rows = agreement_asked(project, number=number, level=LEAF)["rows"]
    return render(request, "reports/partials/round_alpha.html", {"row": rows[0] if rows else None})
