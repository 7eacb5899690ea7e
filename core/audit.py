"""The audit log's writer: who (the request's user, or the one given), when, what, from where.

`audit_record` appends one AuditEvent. Pages and the API set the current request for the duration of
a request (AuditMiddleware), so services deep down record the right person and address without
passing them along; management commands record no person ("operator")."""

from __future__ import annotations

from contextvars import ContextVar

from core.models import AuditEvent, Project
from core.security import client_ip

_request: ContextVar = ContextVar("concord_audit_request", default=None)


def current_request():
    return _request.get()


def audit_record(
    *,
    action: str,
    project: Project | None = None,
    target: str = "",
    details: dict | None = None,
    actor=None,
    request=None,
    project_ref: tuple[int, str] | None = None,
) -> AuditEvent:
    """Append one record. `project_ref` (id, slug) stands for `project` when only those are at hand."""
    request = request if request is not None else _request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if getattr(user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_name=actor.get_username() if actor is not None else "",
        project_id=project.id if project is not None else (project_ref[0] if project_ref else None),
        project_slug=project.slug if project is not None else (project_ref[1] if project_ref else ""),
        target=str(target)[:300],
        details=details or {},
        address=(client_ip(request) or "") if request is not None else "",
    )


class AuditMiddleware:
    """Keeps the request for audit records, and records every file download (an attachment answer)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            response = self.get_response(request)
            if response.status_code == 200 and "attachment" in response.get("Content-Disposition", ""):
                self._download(request, response)
            return response
        finally:
            _request.reset(token)

    @staticmethod
    def _download(request, response) -> None:
        user = getattr(request, "user", None)
        if not getattr(user, "is_authenticated", False) and not getattr(request, "auth", None):
            return
        match = getattr(request, "resolver_match", None)
        slug = (match.kwargs.get("slug") or match.kwargs.get("project_slug")) if match else None
        # the page's membership check (core.views.member) left the project's id: no query for it
        known = list(getattr(request, "concord_memberships", {}) or {})
        project_id = known[0] if len(known) == 1 else None
        if slug and project_id is None:
            project_id = Project.objects.filter(slug=slug).values_list("id", flat=True).first()
        disposition = response["Content-Disposition"]
        audit_record(
            action="download",
            project_ref=(project_id, slug or "") if project_id else None,
            target=request.path,
            details={
                "file": disposition.split("filename=")[-1].strip('"; ') if "filename=" in disposition else "",
                "query": request.META.get("QUERY_STRING", "")[:200],
            },
            request=request,
        )
