"""Projects and memberships: the reads."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.errors import NotAllowed, NotFound
from core.models import ApiToken, AuditEvent, Invitation, Job, Membership, Notification, NotificationDigest, Project


def projects_for_user(*, user):
    """Projects the user is an active member of (others stay invisible)."""
    return Project.objects.filter(memberships__user=user, memberships__is_active=True).distinct()


def project_for_member(*, slug: str, user, roles: tuple[str, ...] = ()) -> tuple[Project, Membership]:
    """The project by slug and the user's membership; 404 for non-members, 403 without the role."""
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise NotFound("No such project.")
    return project, membership_require(project=project, user=user, roles=roles)


def count_subquery(queryset, group_by: str):
    """A scalar subquery counting `queryset` rows (already filtered on an OuterRef), 0 when none."""
    counted = queryset.order_by().values(group_by).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def memberships_for_user(*, user):
    """The user's active memberships with their projects, for the home page."""
    return Membership.objects.filter(user=user, is_active=True).select_related("project").order_by("project__name")


def projects_with_roles(*, user):
    """The user's projects, each with `is_lead`, `is_moderator`, `is_evaluator` of the user (one query)."""
    mine = Membership.objects.filter(project=OuterRef("pk"), user=user, is_active=True)
    return (
        Project.objects.filter(Exists(mine))
        .annotate(
            is_lead=Exists(mine.filter(is_lead=True)),
            is_moderator=Exists(mine.filter(is_moderator=True)),
            is_evaluator=Exists(mine.filter(is_evaluator=True)),
        )
        .order_by("name", "id")
    )


def project_members(*, project):
    """Every membership of the project with its user, by username."""
    return Membership.objects.filter(project=project).select_related("user").order_by("user__username", "id")


def job_recent(*, project, limit: int = 8):
    """The project's latest jobs, without their files."""
    return Job.objects.filter(project=project).defer("input_data", "result_data").order_by("-id")[:limit]


def membership_require(
    *, project: Project, user, roles: tuple[str, ...] = (), membership: Membership | None = None
) -> Membership:
    """The user's active membership of the project holding one of `roles` (any role if empty).

    Non-members get NotFound, so that projects of others stay invisible. A `membership`
    the caller read in this request is used instead of a query when it is that user's
    active membership of that project."""
    if not getattr(user, "is_authenticated", False):
        raise NotAllowed("Log in first.")
    if not (
        membership is not None
        and membership.project_id == project.id
        and membership.user_id == user.pk
        and membership.is_active
    ):
        # No default ordering: it would join the project and the user only to sort a single row.
        membership = Membership.objects.filter(project=project, user=user, is_active=True).order_by().first()
    if membership is None:
        raise NotFound("No such project.")
    if roles and not any(getattr(membership, f"is_{role}") for role in roles):
        raise NotAllowed(f"This needs the {' or '.join(roles)} role in {project}.")
    return membership


def database_reachable() -> bool:
    """Whether the database answers a trivial query (the containers' health check)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def token_expires_at(*, token):
    """When an API token stops working (settings.CONCORD_TOKEN_TTL after it was issued)."""
    return token.created + settings.CONCORD_TOKEN_TTL


def token_is_expired(*, token) -> bool:
    return timezone.now() >= token_expires_at(token=token)


def audit_events(*, project, action: str = "", actor: str = "", since=None, until=None):
    """The project's audit records, newest first; `action` matches its start ("label." → merges and
    renames), `actor` part of the username; `since`/`until` are dates (inclusive)."""
    events = AuditEvent.objects.filter(project_id=project.id)
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_name__icontains=actor)
    if since:
        events = events.filter(at__date__gte=since)
    if until:
        events = events.filter(at__date__lte=until)
    return events.order_by("-at", "-id")


def audit_actions(*, project) -> list[str]:
    return list(
        AuditEvent.objects.filter(project_id=project.id).order_by("action").values_list("action", flat=True).distinct()
    )


def invitations_open(*, project):
    """The project's invitations not used, revoked or expired yet, newest first."""
    return Invitation.objects.filter(
        project=project, used_at__isnull=True, revoked=False, expires_at__gt=timezone.now()
    ).order_by("-created_at", "-id")


def api_tokens_of(*, user):
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def notifications_for(*, user, unread_only: bool = False):
    qs = Notification.objects.filter(user=user).select_related("project")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def notifications_unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# --- the e-mail digest of notifications ---------------------------------------------------------


def notification_digest_of(*, user) -> NotificationDigest | None:
    """The user's digest choice (None: never chose, i.e. off)."""
    return NotificationDigest.objects.filter(user=user).first()


def notification_digests_due():
    """Ids of the opted-in digests of active users with an e-mail address."""
    return (
        NotificationDigest.objects.filter(enabled=True, user__is_active=True)
        .exclude(user__email="")
        .order_by("id")
        .values_list("id", flat=True)
    )


def notification_digest_items(*, digest: NotificationDigest):
    """What a digest lists: the user's unread notifications since the digest began, none e-mailed before
    (locked, so that two runs never send the same one), oldest first."""
    return (
        Notification.objects.select_for_update(of=("self",))
        .filter(user_id=digest.user_id, read_at__isnull=True, emailed_at__isnull=True, created_at__gte=digest.since)
        .select_related("project")
        .order_by("created_at", "id")
    )


def upload_job(*, project: Project, job_id: int, kind: str, missing: str) -> Job:
    """A job of the project and kind without its upload's or result's bytes (a page reads what its first step
    stored on it); NotFound with `missing` otherwise."""
    job = Job.objects.filter(project=project, id=job_id, kind=kind).defer("input_data", "result_data").first()
    if job is None:
        raise NotFound(missing)
    return job
