"""Pages of projects, members, invitations, API tokens and notifications, and the helpers every
app's views share (membership, paging, parameters)."""

import io
import json
from datetime import date

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import csv_safe, jobs, selectors, services
from core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from core.forms import (
    DigestForm,
    GuidelinesForm,
    InvitationForm,
    MemberAddForm,
    MemberRolesForm,
    ProjectForm,
    SignUpForm,
    TokenForm,
    attach_error,
)

PAGE_SIZE = 25
FORM_ERRORS = (InvalidInput, Conflict)


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
    context = {"memberships": memberships, "can_create": services.project_creation_allowed(user=request.user)}
    return render(request, "core/home.html", context)


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


# --- projects and members --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request):
    if not services.project_creation_allowed(user=request.user):
        raise NotAllowed("Only staff members can create projects here.")
    form = ProjectForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                project = services.project_start(user=request.user, **form.cleaned_data)
            except FORM_ERRORS as error:
                attach_error(form, error)
            else:
                messages.success(request, f"Project {project.name} created: you are its lead.")
                return redirect("core:members", slug=project.slug)
        status = 400
    return render(request, "core/project_new.html", {"form": form}, status=status)


def _members_context(request, project, membership, **extra):
    return {
        "project": project,
        "membership": membership,
        "members": selectors.project_members(project=project),
        "invitations": selectors.invitations_open(project=project),
        "add_form": MemberAddForm(auto_id="add_%s"),
        "invite_form": InvitationForm(auto_id="invite_%s"),
        "guidelines_form": GuidelinesForm(initial={"guidelines": project.guidelines}),
        **extra,
    }


def _members_post(request, project):
    """Handle one form of the members page; returns (extra context, status)."""
    action = request.POST.get("action", "")
    try:
        if action == "add":
            form = MemberAddForm(request.POST, auto_id="add_%s")
            if not form.is_valid():
                return {"add_form": form}, 400
            added = services.member_add(
                project=project, by=request.user, who=form.cleaned_data["username"], roles=form.cleaned_data["roles"]
            )
            messages.success(request, f"{added.user.username} added.")
        elif action == "invite":
            form = InvitationForm(request.POST, auto_id="invite_%s")
            if not form.is_valid():
                return {"invite_form": form}, 400
            _, token = services.invitation_create(project=project, by=request.user, **form.cleaned_data)
            return {"new_link": request.build_absolute_uri(reverse("core:invite", args=[token]))}, 201
        elif action in ("roles", "deactivate", "activate"):
            return _member_change(request, project, action)
        elif action == "revoke":
            services.invitation_revoke(project=project, by=request.user, invitation_id=_post_id(request, "invitation"))
            messages.success(request, "Invitation revoked.")
        elif action == "guidelines":
            form = GuidelinesForm(request.POST)
            if form.is_valid():
                services.project_guidelines_set(project=project, user=request.user, **form.cleaned_data)
                messages.success(request, "Guidelines saved.")
        else:
            raise InvalidInput("Unknown action.", field="action")
    except FORM_ERRORS as error:
        return {"error": error.message}, error.status_code
    return None, 302


def _post_id(request, name) -> int:
    value = (request.POST.get(name) or "").strip()
    if not value.isdecimal():
        raise InvalidInput(f"{name} must be a whole number.", field=name)
    return int(value)


def _member_change(request, project, action):
    membership_id = _post_id(request, "member")
    if action == "roles":
        form = MemberRolesForm(request.POST)
        if not form.is_valid():
            return {"error": "Choose at least one role (deactivate a member instead of taking every role)."}, 400
        report = services.member_change(
            project=project, by=request.user, membership_id=membership_id, roles=form.cleaned_data["roles"]
        )
    else:
        report = services.member_change(
            project=project, by=request.user, membership_id=membership_id, active=action == "activate"
        )
    name = report["membership"].user.username
    messages.success(request, f"{name}: saved.")
    if report["moved"] or report["to_moderators"]:
        return {"report": report, "report_name": name}, 200
    return None, 302


@login_required
@require_http_methods(["GET", "POST"])
def members(request, slug):
    project, membership = member(request, slug, roles=("lead",))
    extra, status = {}, 200
    if request.method == "POST":
        extra, status = _members_post(request, project)
        if status == 302:
            return redirect("core:members", slug=project.slug)
    context = _members_context(request, project, membership, **(extra or {}))
    return render(request, "core/members.html", context, status=200 if status == 201 else status)


# --- invitations -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invite(request, token):
    """An invitation link: sign up (new user) or accept (signed-in user)."""
    try:
        invitation = services.invitation_check(token=token)
    except (NotFound, Conflict) as error:
        return render(request, "error.html", {"error": error}, status=error.status_code)
    form = SignUpForm(request.POST or None, initial={"email": invitation.email})
    status = 200
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                services.invitation_accept(token=token, user=request.user)
                return redirect("labelling:project", slug=invitation.project.slug)
            if form.is_valid():
                user = services.invitation_sign_up(
                    token=token,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    email=form.cleaned_data["email"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, f"Welcome to {invitation.project.name}.")
                return redirect("labelling:project", slug=invitation.project.slug)
        except DomainError as error:
            attach_error(form, error)
        status = 400
    return render(request, "core/invite.html", {"invitation": invitation, "form": form}, status=status)


# --- API tokens and notifications --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = TokenForm(request.POST if request.POST.get("action") == "create" else None)
    new_token, status = None, 200
    if request.method == "POST" and request.POST.get("action") == "revoke":
        services.api_token_revoke(user=request.user, token_id=_post_id(request, "token"))  # NotFound: a 404 page
        messages.success(request, "Token revoked: it no longer works.")
        return redirect("core:tokens")
    if request.method == "POST":
        if form.is_valid():
            try:
                new_token = services.api_token_create(user=request.user, name=form.cleaned_data["name"])
            except DomainError as error:
                attach_error(form, error)
        status = 200 if new_token else 400
    context = {
        "form": TokenForm() if new_token else form,
        "tokens": selectors.api_tokens_of(user=request.user),
        "new_token": new_token,
    }
    return render(request, "core/tokens.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    """The user's own settings: the optional e-mail digest of notifications (off unless chosen)."""
    if request.method == "POST":
        form = DigestForm(request.POST)
        if form.is_valid():
            services.notification_digest_set(user=request.user, enabled=form.cleaned_data["digest"])
            messages.success(request, "Saved.")
            return redirect("core:account")
    digest = selectors.notification_digest_of(user=request.user)
    form = DigestForm(initial={"digest": bool(digest and digest.enabled)})
    return render(request, "core/account.html", {"form": form, "digest": digest})


@login_required
@require_GET
def notifications(request):
    items = paginate(request, selectors.notifications_for(user=request.user))
    return render(request, "core/notifications.html", {"page": items})


@login_required
@require_POST
def job_cancel(request, slug, job_id):
    """A lead (or the job's starter) cancels a pending or running job; back to the page given in `next` (or home)."""
    project, membership = member(request, slug)
    job = jobs.job_for_member(project=project, job_id=job_id, user=request.user, membership=membership)
    jobs.job_cancel(job=job, user=request.user)
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


@login_required
@require_POST
def notifications_read(request):
    services.notifications_mark_read(user=request.user)
    target = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("core:notifications")
    return redirect(target)
