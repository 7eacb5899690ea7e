"""Pages of projects, and the helpers every app's views share (membership, paging, parameters)."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core import jobs, selectors
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
