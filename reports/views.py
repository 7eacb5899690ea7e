"""Report pages (every member): Table 1 with its chart and downloads; inter-rater agreement
with its chart, pair heat maps, top disagreements and downloads; a round's alpha (htmx)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import DomainError, InvalidInput, NotAllowed, NotFound
from core.htmx import render_page_or_fragment
from core.uploads import read_upload
from core.views import int_param, member
from labelling import selectors as labelling_selectors
from reports import participants as participants_report
from reports.agreement import FORMATS as AGREEMENT_FORMATS
from reports.agreement import LEAF
from reports.agreement import render as render_agreement
from reports.agreement.charts import alpha_chart, pair_matrices
from reports.selectors import (
    agreement_asked,
    agreement_for_member,
    agreement_levels,
    participant_summary,
    project_agreement,
    survey_table2_xlsx,
)
from reports.selectors import survey_table2 as survey_table2_of
from reports.table1 import FORMATS as STATS_FORMATS
from reports.table1 import cells, chart, columns, table1
from reports.table1 import render as render_stats
from reports.table2 import FORMATS as TABLE2_FORMATS
from reports.table2 import render as render_table2
from reports.tag_summary import FORMATS as TAG_FORMATS
from reports.tag_summary import render as render_tag_summary
from reports.tag_summary import tag_summary
from validation import charts
from validation import models as validation_models
from validation import selectors as validation_selectors
from validation import services as validation_services


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


# --- Table 2 of a validation survey (leads and moderators) ---------------------------------------------

SURVEY_READERS = ("lead", "moderator")
TABLE2_DOWNLOADS = [(fmt, TABLE2_FORMATS[fmt][3]) for fmt in ("csv", "xlsx", "latex", "markdown", "json")]


@login_required
@require_GET
def survey_table2(request, slug, survey_id):
    """Table 2 in the paper's layout with its bases, the chart, missing faults and background;
    the survey page loads it as a fragment (htmx), or it is a page of its own."""
    project, membership = member(request, slug, SURVEY_READERS)
    survey = validation_selectors.survey_get(project, survey_id)
    results = validation_selectors.survey_results(survey)
    table = survey_table2_of(survey, respondents=results.submitted)
    context = {
        "project": project,
        "membership": membership,
        "survey": survey,
        "results": results,
        "table": table,
        "columns": table.columns(),
        "rows": [
            {"row": row, "cells": list(zip(table.values(row), table.columns(), strict=True))} for row in table.rows
        ],
        "chart": charts.encountered_chart(results.rows) if results.has_responses else "",
        "downloads": TABLE2_DOWNLOADS,
    }
    return render_page_or_fragment(
        request, "reports/survey_table2.html", context, partial="reports/partials/survey_results.html"
    )


@login_required
@require_GET
def survey_table2_export(request, slug, survey_id, fmt):
    project, _ = member(request, slug, SURVEY_READERS)
    survey = validation_selectors.survey_get(project, survey_id)
    if fmt not in TABLE2_FORMATS:
        raise NotFound(f"Download as one of {', '.join(TABLE2_FORMATS)}.", field="format")
    table = survey_table2_xlsx(survey) if fmt == "xlsx" else survey_table2_of(survey)
    content, content_type, extension = render_table2(table, fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-survey-{survey.id}-table2.{extension}"'
    return response


# --- participants (interviewees and survey respondents) --------------------------------------------------

PARTICIPANT_FORMATS = {
    "csv": (participants_report.render_csv, "text/csv; charset=utf-8", "csv"),
    "markdown": (participants_report.render_markdown, "text/markdown; charset=utf-8", "md"),
    "json": (None, "application/json", "json"),
}


@login_required
@require_http_methods(["GET", "POST"])
def participants(request, slug):
    """The participants table (counts per role, min/median/max experience) with its downloads; leads
    import the study's participant sheets here (POST file, kind): checked in the request, read and
    imported by a job whose page the answer redirects to."""
    project, membership = member(request, slug, SURVEY_READERS)
    status, error, error_field = 200, "", ""
    if request.method == "POST":
        try:
            job = _participants_import_start(request, project, membership)
        except DomainError as exc:
            status, error, error_field = exc.status_code, exc.message, exc.field or ""
        else:
            return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    people, summary, frameworks = participant_summary(project)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in PARTICIPANT_FORMATS:
            raise NotFound(f"Download as one of {', '.join(PARTICIPANT_FORMATS)}.", field="format")
        renderer, content_type, extension = PARTICIPANT_FORMATS[fmt]
        content = participants_report.render_json(summary, frameworks) if fmt == "json" else renderer(summary)
        response = HttpResponse(content.encode(), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-participants.{extension}"'
        return response
    context = {
        "project": project,
        "membership": membership,
        "people": people,
        "summary": participants_report.summary_cells(summary),
        "headings": participants_report.HEADINGS,
        "frameworks": frameworks,
        "error": error,
        "error_field": error_field,
        "kinds": validation_models.Participant.Kind.choices,
    }
    return render_page_or_fragment(request, "reports/participants.html", context, status=status)


def _participants_import_start(request, project, membership):
    """The lead's role, then the upload's size (before it is read), its ZIP directory or CSV shape, and the
    kind, all before anything is stored. Participant sheets are survey material: the "survey" limits."""
    if not membership.is_lead:
        raise NotAllowed("Only the project's lead imports participants.")
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput("Choose the participant spreadsheet (XLSX or CSV).", field="file")
    data = read_upload(upload, kind="survey")
    return validation_services.participants_import_start(
        project=project,
        user=request.user,
        filename=upload.name,
        data=data,
        default_kind=request.POST.get("kind", ""),
    )


# --- the interview tag summary ------------------------------------------------------------------------------


@login_required
@require_GET
def tag_summary_page(request, slug):
    """Per tag: NN+MM, accepted and removed interview tags (every member: counts only); ?format= downloads."""
    project, membership = member(request, slug)
    rows = tag_summary(project)
    fmt = request.GET.get("format")
    if fmt:
        if fmt not in TAG_FORMATS:
            raise NotFound(f"Download as one of {', '.join(TAG_FORMATS)}.", field="format")
        content, content_type, extension = render_tag_summary(rows, fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-tag-summary.{extension}"'
        return response
    context = {"project": project, "membership": membership, "rows": rows, "formats": TAG_FORMATS}
    return render_page_or_fragment(request, "reports/tag_summary.html", context)
