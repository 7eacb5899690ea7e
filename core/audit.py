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
) -> AuditEvent:
    request = request if request is not None else _request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if getattr(user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_name=actor.get_username() if actor is not None else "",
        project_id=project.id if project is not None else None,
        project_slug=project.slug if project is not None else "",
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
        project = Project.objects.filter(slug=slug).first() if slug else None
        disposition = response["Content-Disposition"]
        audit_record(
            action="download",
            project=project,
            target=request.path,
            details={
                "file": disposition.split("filename=")[-1].strip('"; ') if "filename=" in disposition else "",
                "query": request.META.get("QUERY_STRING", "")[:200],
            },
            request=request,
        )
