"""Pages of projects, and the helpers every app's views share (membership, paging, parameters)."""

import io
import json
from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core import csv_safe, jobs, selectors
from core.errors import InvalidInput

PAGE_SIZE = 25


def member(request, slug, roles=()):
    """The project and the viewer's membership (404 for non-members, 403 without a role)."""
    project, membership = selectors.project_for_member(slug=slug, user=request.user, roles=roles)
    request.concord_memberships = {project.pk: membership}  # spares the navigation's lookup
    return project, membership


def paginate(request, queryset, per_page=PAGE_SIZE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def int_param(request, name):
    value = (request.GET.get(name) or "").strip()
    if not value:
        return None
    if not value.isdecimal():
        raise InvalidInput(f"{name} must be a whole number.", field=name)
    return int(value)


@login_required
@require_GET
def home(request):
    memberships = selectors.memberships_for_user(user=request.user)
    return render(request, "core/home.html", {"memberships": memberships})


def legacy_redirect(request, area: str, slug: str, rest: str = ""):
    """An address of the old scheme (/taxonomy/<slug>/…) sent to its page under /p/<slug>/<area>/…."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"/p/{slug}/{area}/{rest}" + (f"?{query}" if query else ""))


@require_GET
def healthz(request):
    """200 "ok" when this process serves and reaches the database, else 503 (HEALTHCHECK, load balancers)."""
    if selectors.database_reachable():
        return HttpResponse("ok", content_type="text/plain")
    return HttpResponse("database unreachable", status=503, content_type="text/plain")


@login_required
@require_POST
def job_cancel(request, slug, job_id):
    """A lead cancels a pending or running job; back to the page given in `next` (or home)."""
    project, _ = member(request, slug, roles=("lead",))
    jobs.job_cancel(job=jobs.job_get(project=project, job_id=job_id), user=request.user)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


AUDIT_CSV_HEADER = ["at", "actor", "action", "target", "address", "details"]


def _date_param(request, name):
    value = (request.GET.get(name) or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date (YYYY-MM-DD).", field=name) from None


@login_required
@require_GET
def audit_log(request, slug):
    """The project's audit log (leads): filters by action, person and dates; the same as CSV."""
    project, _ = member(request, slug, roles=("lead",))
    filters = {
        "action": (request.GET.get("action") or "").strip()[:60],
        "actor": (request.GET.get("actor") or "").strip()[:150],
        "since": _date_param(request, "since"),
        "until": _date_param(request, "until"),
    }
    events = selectors.audit_events(project=project, **filters)
    if request.GET.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv_safe.writer(buffer, lineterminator="\r\n")
        writer.writerow(AUDIT_CSV_HEADER)
        for e in events.iterator():
            writer.writerow([e.at.isoformat(), e.actor_name, e.action, e.target, e.address, json.dumps(e.details)])
        response = HttpResponse(buffer.getvalue().encode("utf-8"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-audit.csv"'
        return response
    context = {
        "project": project,
        "page": paginate(request, events, per_page=50),
        "filters": filters,
        "actions": selectors.audit_actions(project=project),
    }
    return render(request, "core/audit.html", context)
