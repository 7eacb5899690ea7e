"""Pages for imports, exports, Table 1 and job progress (thin: services write, selectors read).

- Import artefacts: upload → preview of the first rows with a guessed column
  mapping the lead can change → a Celery job with a progress bar → the report.
- Import a labelled round: upload (and optionally an outline) → job → report.
- Table 1: the table, an inline-SVG chart of cumulative inner and leaf categories
  per round, downloads (CSV, XLSX, LaTeX booktabs, Markdown, JSON); exports of
  rounds (XLSX, CSV) and of the annotations (JSON Lines).
- Jobs: one URL is the page and, for htmx, the polling fragment.

Imports and exports are for the project's leads; Table 1 for every member (it
shows counts only). Exports hold every evaluator's labels, so a lead who still has
artefacts to label in a round is refused its export until they have submitted.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import Max
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from . import selectors
from .errors import DomainError, InvalidInput, NotAllowed, NotFound
from .exports import annotations_export_jsonl
from .importers.headers import MAPPING_CHOICES, artefact_header_score, guess_artefact_mapping
from .importers.reading import cell_text, read_table
from .importers.services import (
    EXPORT_FORMATS,
    export_round_file,
    job_create,
    job_enqueue,
    job_progress,
    job_set_mapping,
)
from .models import Annotation, Assignment, Job, Membership, Round, RoundItem
from .stats import FORMATS as STATS_FORMATS
from .stats import chart, columns, table1
from .stats import render as render_stats

PREVIEW_ROWS = 10


def _member(request, slug, roles=()):
    project, membership = selectors.project_for_member(slug=slug, user=request.user, roles=roles)
    request.concord_memberships = {project.pk: membership}
    return project, membership


def _htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


def _blind_check(project, user, rnd: Round | None = None) -> None:
    """Exports show every evaluator's labels: not to someone with artefacts of their own still to label,
    nor to an evaluator of the project while another evaluator's label sits on an artefact still being
    labelled in an open round: their own annotation on it stays editable until it is decided, and they
    may yet be asked to break its tie (blind labelling)."""
    open_work = Assignment.objects.filter(
        round__project=project, evaluator=user, completed_at__isnull=True, item__status=RoundItem.Status.LABELLING
    )
    if rnd is not None:
        open_work = open_work.filter(round=rnd)
    if open_work.exists():
        raise NotAllowed(
            "You still have artefacts to label here; exports show every evaluator's labels, "
            "so they open once you have submitted yours (blind labelling)."
        )
    if not Membership.objects.filter(project=project, user=user, is_active=True, is_evaluator=True).exists():
        return
    undecided = Annotation.objects.filter(
        assignment__round__project=project,
        assignment__round__status=Round.Status.OPEN,
        assignment__item__status=RoundItem.Status.LABELLING,
    ).exclude(assignment__evaluator=user)
    if rnd is not None:
        undecided = undecided.filter(assignment__round=rnd)
    if undecided.exists():
        raise NotAllowed(
            "You also evaluate in this project, and other evaluators' labels sit on artefacts still being "
            "labelled; exports show every label, so they open once those artefacts are decided (blind labelling)."
        )


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV, JSON, JSON Lines or XLSX.")


class RoundUploadForm(forms.Form):
    file = forms.FileField(help_text="XLSX in the study's layout, or CSV with the first sheet's columns.")
    round = forms.IntegerField(min_value=1, max_value=2**31 - 1, label="Round number")
    outline = forms.FileField(required=False, help_text="Optional code,name CSV naming the taxonomy's categories.")


def _recent_jobs(project):
    return Job.objects.filter(project=project).defer("input_data", "result_data").order_by("-id")[:8]


# --- imports ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_artefacts(request, slug):
    project, membership = _member(request, slug, roles=("lead",))
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = job_create(
                    project=project,
                    user=request.user,
                    kind=Job.Kind.IMPORT_ARTEFACTS,
                    input_name=upload.name,
                    input_data=upload.read(),
                )
            except DomainError as error:
                if error.status_code >= 403:
                    raise
                form.add_error("file", error.message)
                status = error.status_code
            else:
                return redirect("labelling:import_artefacts_mapping", slug=project.slug, job_id=job.id)
        else:
            status = 400
    context = {"project": project, "membership": membership, "form": form, "jobs": _recent_jobs(project)}
    return render(request, "labelling/import_artefacts.html", context, status=status)


def _job_for(project, job_id) -> Job:
    job = Job.objects.filter(project=project, id=job_id).first()
    if job is None:
        raise NotFound("No such job in this project.")
    return job


@login_required
@require_http_methods(["GET", "POST"])
def import_artefacts_mapping(request, slug, job_id):
    """Preview of the upload's first rows with the guessed mapping; posting the mapping starts the import."""
    project, membership = _member(request, slug, roles=("lead",))
    job = _job_for(project, job_id)
    if job.kind != Job.Kind.IMPORT_ARTEFACTS:
        raise NotFound("This job is not an artefact import.")
    if job.status != Job.Status.PENDING or job.input_data is None:
        return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    table = read_table(bytes(job.input_data), job.input_name, header_score=artefact_header_score)
    sheet = table.first
    guessed = guess_artefact_mapping(sheet.header)
    error, status = None, 200
    if request.method == "POST":
        mapping = {}
        for index in range(len(sheet.header)):
            choice = request.POST.get(f"col{index}", "ignore")
            if choice not in MAPPING_CHOICES:
                choice = "ignore"
            if choice != "ignore":
                mapping[index] = choice
        try:
            job_set_mapping(job=job, user=request.user, mapping=mapping)
        except DomainError as exc:
            if exc.status_code >= 403:
                raise
            error, status, guessed = exc.message, exc.status_code, mapping
        else:
            job_enqueue(job=job)
            return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    preview = [[cell_text(v) for v in row.values] for row in sheet.rows[:PREVIEW_ROWS]]
    context = {
        "project": project,
        "membership": membership,
        "job": job,
        "columns": [
            {"index": i, "header": h or f"(column {i + 1})", "field": guessed.get(i, "ignore")}
            for i, h in enumerate(sheet.header)
        ],
        "choices": MAPPING_CHOICES,
        "preview": preview,
        "total_rows": len(sheet.rows),
        "repaired": sorted(table.repairs.items())[:20],
        "problems": table.problems[:20],
        "error": error,
    }
    return render(request, "labelling/import_artefacts_mapping.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_round(request, slug):
    project, membership = _member(request, slug, roles=("lead",))
    next_number = (Round.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
    form = RoundUploadForm(request.POST or None, request.FILES or None, initial={"round": next_number})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload, outline = form.cleaned_data["file"], form.cleaned_data["outline"]
            try:
                job = job_create(
                    project=project,
                    user=request.user,
                    kind=Job.Kind.IMPORT_ROUND,
                    params={"round": form.cleaned_data["round"]},
                    input_name=upload.name,
                    input_data=upload.read(),
                    outline_data=outline.read() if outline else None,
                    outline_name=outline.name if outline else "",
                )
            except DomainError as error:
                if error.status_code >= 403:
                    raise
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
                status = error.status_code
            else:
                job_enqueue(job=job)
                return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
        else:
            status = 400
    rounds = Round.objects.filter(project=project).order_by("number")
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "rounds": rounds,
        "jobs": _recent_jobs(project),
    }
    return render(request, "labelling/import_round.html", context, status=status)


# --- jobs -------------------------------------------------------------------------------------


@login_required
@require_GET
def task_progress(request, slug, job_id):
    """The job's page; for htmx the progress fragment, polled until the job has finished."""
    project, membership = _member(request, slug, roles=("lead",))
    job = _job_for(project, job_id)
    context = {"project": project, "membership": membership, "job": job, "progress": job_progress(job)}
    template = "labelling/partials/progress_job.html" if _htmx(request) else "labelling/import_progress.html"
    return render(request, template, context)


@login_required
@require_GET
def job_download(request, slug, job_id):
    project, _ = _member(request, slug, roles=("lead",))
    job = _job_for(project, job_id)
    if job.status != Job.Status.DONE or job.result_data is None:
        raise NotFound("This job has no file (yet).")
    if job.kind == Job.Kind.EXPORT_ROUND:
        _blind_check(project, request.user, Round.objects.filter(project=project, number=job.params["round"]).first())
    else:
        _blind_check(project, request.user)
    response = HttpResponse(bytes(job.result_data), content_type=job.result_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{job.result_name}"'
    return response


# --- Table 1 and exports --------------------------------------------------------------------------


@login_required
@require_GET
def stats(request, slug):
    project, membership = _member(request, slug)
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
    rounds = (
        list(Round.objects.filter(project=project).order_by("number").only("id", "number", "name", "source", "status"))
        if membership.is_lead
        else []
    )
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
    if _htmx(request):
        return render(request, "labelling/partials/stats_table.html", context)
    return render(request, "labelling/stats.html", context)


def _display_rows(table: dict) -> list[dict]:
    from .stats import cells

    _, rows = cells(table)
    return [
        {"cells": row, "kind": "sum" if source["round"] in ("subtotal", "total") else "round"}
        for row, source in zip(rows, table["rows"], strict=True)
    ]


@login_required
@require_http_methods(["GET", "POST"])
def export_round(request, slug, number):
    """GET ?format=xlsx|csv downloads at once; POST runs the export as a job with a progress bar."""
    project, _ = _member(request, slug, roles=("lead",))
    rnd = Round.objects.filter(project=project, number=number).first()
    if rnd is None:
        raise NotFound(f"No round {number} in this project.")
    _blind_check(project, request.user, rnd)
    fmt = (request.POST.get("format") if request.method == "POST" else request.GET.get("format")) or "xlsx"
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"Export format is one of {', '.join(EXPORT_FORMATS)}.", field="format")
    if request.method == "POST":
        job = job_create(
            project=project, user=request.user, kind=Job.Kind.EXPORT_ROUND, params={"round": number, "format": fmt}
        )
        job_enqueue(job=job)
        return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    content, name, content_type = export_round_file(project=project, number=number, fmt=fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def export_annotations(request, slug):
    """GET streams the JSON Lines; POST runs the export as a job with a progress bar."""
    project, _ = _member(request, slug, roles=("lead",))
    _blind_check(project, request.user)
    if request.method == "POST":
        job = job_create(project=project, user=request.user, kind=Job.Kind.EXPORT_ANNOTATIONS)
        job_enqueue(job=job)
        return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    lines = (line + "\n" for line in annotations_export_jsonl(project))
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-annotations.jsonl"'
    return response
