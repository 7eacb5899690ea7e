"""Pages for exports and job progress (thin: services write, selectors read).

- Exports of rounds (XLSX, CSV) and of the annotations (JSON Lines), at once or as a job.
- Jobs (imports and exports of every app): one URL is the page and, for htmx, the polling fragment.

Exports and jobs are for the project's leads; a job's page is also its starter's (a moderator's word list).
Exports hold every evaluator's labels, so a lead who still has artefacts to label in a round is refused its
export until they have submitted.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import InvalidInput, NotFound
from core.htmx import render_page_or_fragment
from core.jobs import job_for_member, job_get, job_progress
from core.models import Job
from core.views import member
from labelling import exports, selectors
from labelling.exports import EXPORT_FORMATS, annotations_export_jsonl, export_round_file

# --- jobs -------------------------------------------------------------------------------------


@login_required
@require_GET
def task_progress(request, slug, job_id):
    """The job's page; for htmx the progress fragment, polled until the job has finished (leads, and the
    member who started the job)."""
    project, membership = member(request, slug)
    job = job_for_member(project=project, job_id=job_id, user=request.user, membership=membership)
    context = {"project": project, "membership": membership, "job": job, "progress": job_progress(job)}
    return render_page_or_fragment(request, "core/job.html", context, partial="core/partials/job_progress.html")


@login_required
@require_GET
def job_download(request, slug, job_id):
    project, _ = member(request, slug, roles=("lead",))
    job = job_get(project=project, job_id=job_id)
    if job.status != Job.Status.DONE or job.result_data is None:
        raise NotFound("This job has no file (yet).")
    round_number = job.params.get("round") if job.kind == Job.Kind.EXPORT_ROUND else None
    selectors.exports_require_unblinded(project=project, user=request.user, round_number=round_number)
    response = HttpResponse(bytes(job.result_data), content_type=job.result_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{job.result_name}"'
    return response


# --- exports --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def export_round(request, slug, number):
    """GET ?file_format=xlsx|csv downloads at once; POST runs the export as a job with a progress bar.
    (`format` is still read, for older links; `file_format` is the name every export route shares.)"""
    project, _ = member(request, slug, roles=("lead",))
    selectors.round_get(project=project, number=number)  # 404 for a round the project does not have
    selectors.exports_require_unblinded(project=project, user=request.user, round_number=number)
    params = request.POST if request.method == "POST" else request.GET
    fmt = params.get("file_format") or params.get("format") or "xlsx"
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"Export format is one of {', '.join(EXPORT_FORMATS)}.", field="file_format")
    if request.method == "POST":
        job = exports.export_round_job_create(project=project, user=request.user, number=number, fmt=fmt)
        return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    content, name, content_type = export_round_file(project=project, number=number, fmt=fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def export_annotations(request, slug):
    """GET streams the JSON Lines; POST runs the export as a job with a progress bar."""
    project, _ = member(request, slug, roles=("lead",))
    selectors.exports_require_unblinded(project=project, user=request.user)
    if request.method == "POST":
        job = exports.export_annotations_job_create(project=project, user=request.user)
        return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    lines = (line + "\n" for line in annotations_export_jsonl(project))
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
    response["Content-Disposition"] = f'attachment; filename="{project.slug}-annotations.jsonl"'
    return response
