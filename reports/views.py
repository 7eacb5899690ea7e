"""Report pages: Table 1 with its chart and downloads (every member: it shows counts only)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from core.errors import InvalidInput
from core.htmx import render_page_or_fragment
from core.views import member
from labelling import selectors as labelling_selectors
from reports.table1 import FORMATS as STATS_FORMATS
from reports.table1 import cells, chart, columns, table1
from reports.table1 import render as render_stats


@login_required
@require_GET
def stats(request, slug):
    project, membership = member(request, slug)
    table = table1(project)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in STATS_FORMATS and fmt != "json":
            raise InvalidInput(f"Format is one of json, {', '.join(STATS_FORMATS)}.", field="format")
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
