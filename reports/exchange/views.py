"""The lead's page of whole-project backups and downloads for other tools (/p/<slug>/exchange/)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from core.errors import InvalidInput
from core.htmx import render_page_or_fragment
from core.models import Job
from core.views import member
from reports.backup.services import project_backup_job_create
from reports.exchange import project as exchange


@login_required
@require_http_methods(["GET", "POST"])
def exchange_page(request, slug):
    """Backup of the whole project (a job, then its progress page) and downloads for other tools."""
    project, membership = member(request, slug, roles=("lead",))
    if request.method == "POST":
        job = project_backup_job_create(project=project, user=request.user)
        return redirect("labelling:task_progress", slug=project.slug, job_id=job.id)
    context = {
        "project": project,
        "membership": membership,
        "formats": [
            ("label-studio", "Label Studio JSON (tasks, the final label as an annotation)"),
            ("doccano", "doccano JSONL"),
            ("qdpx", "REFI-QDA project (.qdpx: ATLAS.ti, MAXQDA, NVivo, QDA Miner, QualCoder)"),
        ],
        "backups": Job.objects.filter(project=project, kind=Job.Kind.EXPORT_PROJECT).order_by("-id")[:10],
    }
    return render_page_or_fragment(request, "reports/exchange.html", context)


@login_required
@require_GET
def exchange_download(request, slug, fmt):
    project, _ = member(request, slug, roles=("lead",))
    if fmt not in exchange.FORMATS:
        raise InvalidInput(f"Download as one of {', '.join(exchange.FORMATS)}.", field="file_format")
    response = HttpResponse(exchange.export_bytes(project, fmt), content_type=exchange.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{exchange.filename(project, fmt)}"'
    return response
