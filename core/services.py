"""Projects and memberships: the writes (roles are checked here, for pages and the API alike)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from rest_framework.authtoken.models import Token

from core import invitations
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import ApiToken, Invitation, Membership, Notification, NotificationDigest, Project
from core.selectors import (
    membership_require,
    notification_digest_items,
    notification_digests_due,
)
from core.signals import membership_deactivated


def project_ensure(
    *, slug: str, lead_username: str | None = None, name: str | None = None
) -> tuple[Project, list[str]]:
    """The project with this slug, created when missing with `lead_username` as lead.

    A lead who has no account yet gets one without a password (set it with
    `manage.py changepassword`). Returns the project and notes for the operator."""
    notes: list[str] = []
    slug = (slug or "").strip()
    if not slug or slugify(slug) != slug:
        raise InvalidInput(f"{slug!r} is not a project slug (lower-case letters, digits and dashes).", field="project")
    project = Project.objects.filter(slug=slug).first()
    if project is not None:
        if (
            lead_username
            and not Membership.objects.filter(project=project, user__username=lead_username, is_lead=True).exists()
        ):
            notes.append(f"{lead_username} is not a lead of the existing project {slug}; --lead ignored.")
        return project, notes
    with transaction.atomic():
        project = Project.objects.create(slug=slug, name=name or slug.replace("-", " ").title())
        if lead_username:
            User = get_user_model()
            user = User.objects.filter(username=lead_username).first()
            if user is None:
                user = User(username=lead_username)
                user.set_unusable_password()
                user.save()
                notes.append(
                    f"Created user {lead_username} without a password; set one with "
                    f"`manage.py changepassword {lead_username}`."
                )
            Membership.objects.create(project=project, user=user, is_lead=True)
        else:
            notes.append(f"Created project {slug} without a lead; give --lead USERNAME or add one in the admin.")
    notes.append(f"Created project {slug}.")
    return project, notes


ROLES = ("lead", "moderator", "evaluator")


def membership_set(*, project: Project, user, lead=False, moderator=False, evaluator=False, active=True) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        project=project,
        user=user,
        defaults={"is_lead": lead, "is_moderator": moderator, "is_evaluator": evaluator, "is_active": active},
    )
    return membership


def project_create(
    *, name: str, slug: str, lead, description: str = "", max_evaluators_per_artefact: int = 3
) -> Project:
    if not (2 <= max_evaluators_per_artefact <= 10):
        raise InvalidInput("Must be between 2 and 10.", field="max_evaluators_per_artefact")
    if Project.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A project with slug {slug!r} exists already.", field="slug")
    with transaction.atomic():
        project = Project.objects.create(
            name=name, slug=slug, description=description, max_evaluators_per_artefact=max_evaluators_per_artefact
        )
        membership_set(project=project, user=lead, lead=True)
    return project


def token_issue(*, user) -> Token:
    """A new API token for the user; any earlier one stops working (one token per user, rotated)."""
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        return Token.objects.create(user=user)


def token_revoke(*, user) -> bool:
    """The user's API token stops working now; whether there was one."""
    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0


def token_expire(*, token) -> None:
    """An expired token is removed (its key can never work again)."""
    Token.objects.filter(pk=token.pk).delete()


# --- projects from the browser and the API -----------------------------------------------


def project_creation_allowed(*, user) -> bool:
    """CONCORD_PROJECT_CREATORS: `all` signed-in users (default) or only `staff`."""
    if not getattr(user, "is_authenticated", False):
        return False
    who = getattr(settings, "CONCORD_PROJECT_CREATORS", "all")
    return who != "staff" or bool(user.is_staff or user.is_superuser)


def project_start(*, user, name: str, slug: str, description: str = "") -> Project:
    """A project created by a signed-in user, who becomes its lead."""
    if not project_creation_allowed(user=user):
        raise NotAllowed("Only staff members can create projects here.")
    name = (name or "").strip()
    slug = (slug or "").strip()
    if not name:
        raise InvalidInput("Give the project a name.", field="name")
    if len(name) > 200:
        raise InvalidInput("A project name has at most 200 characters.", field="name")
    if not slug or slugify(slug) != slug or len(slug) > 100:
        raise InvalidInput("A slug has lower-case letters, digits and dashes only (e.g. dl-faults).", field="slug")
    return project_create(name=name, slug=slug, lead=user, description=(description or "").strip())


def project_guidelines_set(*, project: Project, user, guidelines: str) -> Project:
    membership_require(project=project, user=user, roles=("lead",))
    project.guidelines = guidelines or ""
    project.save(update_fields=["guidelines"])
    return project


# --- members -------------------------------------------------------------------------------


def roles_validate(roles, *, field: str = "roles") -> dict[str, bool]:
    """{"is_lead": …, "is_moderator": …, "is_evaluator": …} from a list of role names (one at least)."""
    if isinstance(roles, str):
        roles = [roles]
    if not isinstance(roles, Iterable) or not roles:
        raise InvalidInput("Give at least one role: lead, moderator or evaluator.", field=field)
    roles = list(roles)
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise InvalidInput(f"Unknown role {unknown[0]!r}: the roles are lead, moderator and evaluator.", field=field)
    return {f"is_{role}": role in roles for role in ROLES}


def _active_leads(project: Project):
    return Membership.objects.filter(project=project, is_lead=True, is_active=True, user__is_active=True)


def _user_by_name_or_email(who: str):
    who = (who or "").strip()
    if not who:
        raise InvalidInput("Give a username or an e-mail address.", field="username")
    User = get_user_model()
    users = list(User.objects.filter(Q(username=who) | Q(email__iexact=who)).order_by("id")[:2])
    exact = [u for u in users if u.username == who]
    if exact:
        return exact[0]
    if len(users) == 1:
        return users[0]
    if len(users) > 1:
        raise InvalidInput(f"Several users have the e-mail address {who}; give a username.", field="username")
    raise InvalidInput(f"No user {who!r}: invite them by link instead.", field="username")


def member_add(*, project: Project, by, who: str, roles) -> Membership:
    """Make an existing user (by username or e-mail) a member with `roles`; a former member is reactivated."""
    membership_require(project=project, user=by, roles=("lead",))
    flags = roles_validate(roles)
    user = _user_by_name_or_email(who)
    existing = Membership.objects.filter(project=project, user=user).first()
    if existing is not None and existing.is_active:
        raise Conflict(f"{user.username} is a member already; change their roles instead.", field="username")
    membership = membership_set(
        project=project,
        user=user,
        lead=flags["is_lead"],
        moderator=flags["is_moderator"],
        evaluator=flags["is_evaluator"],
    )
    notification_send(
        users=[user],
        project=project,
        kind=Notification.Kind.MEMBERSHIP,
        text=f"{by.username} added you to {project.name} ({', '.join(r for r in ROLES if flags[f'is_{r}'])}).",
        url=f"/p/{project.slug}/",
    )
    return membership


def _member_of(project: Project, membership_id) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .filter(project=project, id=membership_id)
        .select_related("user", "project")
        .first()
    )
    if membership is None:
        raise NotFound("No such member in this project.")
    return membership


def member_change(*, project: Project, by, membership_id: int, roles=None, active: bool | None = None) -> dict:
    """Change a member's roles and/or (de)activate them. The project keeps at least one active lead.

    Taking the evaluator role away or deactivating moves their open work (see core.signals);
    returns {"membership": …, "moved": [...], "to_moderators": [...]}."""
    membership_require(project=project, user=by, roles=("lead",))
    with transaction.atomic():
        membership = _member_of(project, membership_id)
        was_working = membership.is_active and membership.is_evaluator
        if roles is not None:
            for flag, on in roles_validate(roles).items():
                setattr(membership, flag, on)
        if active is not None:
            membership.is_active = bool(active)
        membership.save(update_fields=["is_lead", "is_moderator", "is_evaluator", "is_active"])
        if not _active_leads(project).exists():
            raise Conflict("A project keeps at least one active lead: make someone else lead first.", field="roles")
        report = {"membership": membership, "moved": [], "to_moderators": []}
        if was_working and not (membership.is_active and membership.is_evaluator):
            for _, answer in membership_deactivated.send(sender=Membership, membership=membership, by=by):
                for key in ("moved", "to_moderators"):
                    report[key].extend((answer or {}).get(key, []))
    return report


def member_deactivate(*, project: Project, by, membership_id: int) -> dict:
    return member_change(project=project, by=by, membership_id=membership_id, active=False)


# --- invitations ---------------------------------------------------------------------------


def invitation_create(*, project: Project, by, roles, email: str = "") -> tuple[Invitation, str]:
    """A single-use link (returned token) that makes its holder a member with `roles`; expires in a week."""
    membership_require(project=project, user=by, roles=("lead",))
    flags = roles_validate(roles)
    token = invitations.new_token()
    invitation = Invitation.objects.create(
        project=project,
        email=(email or "").strip(),
        token_digest=invitations.token_digest(token),
        created_by=by,
        expires_at=invitations.expiry(timezone.now()),
        **flags,
    )
    return invitation, token


def invitation_revoke(*, project: Project, by, invitation_id: int) -> None:
    membership_require(project=project, user=by, roles=("lead",))
    updated = Invitation.objects.filter(project=project, id=invitation_id, used_at__isnull=True).update(revoked=True)
    if not updated:
        raise NotFound("No such open invitation.")


def _invitation_usable(token: str, *, lock: bool = False) -> Invitation:
    qs = Invitation.objects.select_related("project")
    if lock:
        qs = qs.select_for_update(of=("self",))
    invitation = qs.filter(token_digest=invitations.token_digest(token)).first()
    if invitation is None:
        raise NotFound("This invitation link is not valid.")
    state = invitations.invitation_state(
        expires_at=invitation.expires_at, used_at=invitation.used_at, revoked=invitation.revoked, now=timezone.now()
    )
    if state != "open":
        raise Conflict(f"This invitation link has been {state}; ask the project lead for a new one.")
    return invitation


def invitation_check(*, token: str) -> Invitation:
    """The open invitation of `token` (NotFound for an unknown link, Conflict for a used/expired/revoked one)."""
    return _invitation_usable(token)


def invitation_accept(*, token: str, user) -> Membership:
    """The signed-in `user` takes the invitation: member with its roles (roles added to any they hold)."""
    with transaction.atomic():
        invitation = _invitation_usable(token, lock=True)
        existing = Membership.objects.filter(project=invitation.project, user=user).first()
        flags = {f"is_{r}": getattr(invitation, f"is_{r}") for r in ROLES}
        if existing is not None and existing.is_active:
            flags = {k: v or getattr(existing, k) for k, v in flags.items()}
        membership = membership_set(
            project=invitation.project,
            user=user,
            lead=flags["is_lead"],
            moderator=flags["is_moderator"],
            evaluator=flags["is_evaluator"],
        )
        invitation.used_at, invitation.used_by = timezone.now(), user
        invitation.save(update_fields=["used_at", "used_by"])
        if invitation.created_by_id:
            notification_send(
                users=[invitation.created_by],
                project=invitation.project,
                kind=Notification.Kind.INVITATION,
                text=f"{user.username} accepted your invitation to {invitation.project.name}.",
                url=f"/p/{invitation.project.slug}/members/",
            )
    return membership


def password_check(password: str, *, user, field: str = "password") -> None:
    """Django's validators (similarity, common passwords, length, numeric) as one InvalidInput."""
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field=field) from error


def invitation_sign_up(*, token: str, username: str, password: str, email: str = ""):
    """A new account from an invitation link: the user, a member with the invitation's roles."""
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        raise InvalidInput("Choose a username.", field="username")
    try:
        User.username_validator(username)
    except ValidationError as error:
        raise InvalidInput(" ".join(error.messages), field="username") from error
    with transaction.atomic():
        invitation = _invitation_usable(token, lock=True)
        if User.objects.filter(username__iexact=username).exists():
            raise InvalidInput(f"The username {username!r} is taken; choose another.", field="username")
        user = User(username=username, email=(email or invitation.email or "").strip())
        password_check(password, user=user)
        user.set_password(password)
        user.save()
        invitation_accept(token=token, user=user)
    return user


# --- API tokens ----------------------------------------------------------------------------


def api_token_create(*, user, name: str) -> ApiToken:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Name the token (where it is used, e.g. “laptop script”).", field="name")
    if len(name) > 100:
        raise InvalidInput("A token name has at most 100 characters.", field="name")
    return ApiToken.objects.create(user=user, name=name, key=ApiToken.PREFIX + secrets.token_hex(24))


def api_token_revoke(*, user, token_id: int) -> None:
    deleted, _ = ApiToken.objects.filter(user=user, id=token_id).delete()
    if not deleted:
        raise NotFound("No such token.")


# --- notifications -------------------------------------------------------------------------


def notification_send(*, users, project: Project | None, kind: str, text: str, url: str = "") -> int:
    """One notification per distinct user (inactive accounts skipped)."""
    seen, rows = set(), []
    for user in users:
        user_id = getattr(user, "pk", user)
        if user_id is None or user_id in seen:
            continue
        seen.add(user_id)
        rows.append(Notification(user_id=user_id, project=project, kind=kind, text=text[:300], url=url[:500]))
    Notification.objects.bulk_create(rows)
    return len(rows)


def notifications_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(id__in=list(ids))
    return qs.update(read_at=timezone.now())


# --- the e-mail digest of notifications ---------------------------------------------------------

log = logging.getLogger(__name__)


def notification_digest_set(*, user, enabled: bool) -> NotificationDigest:
    """Opt in to (or out of) the e-mail digest. Opting in starts it from now: older notifications are
    never mailed."""
    digest = NotificationDigest.objects.filter(user=user).first()
    if digest is None:
        return NotificationDigest.objects.create(user=user, enabled=bool(enabled), since=timezone.now())
    if enabled and not digest.enabled:
        digest.since = timezone.now()
    digest.enabled = bool(enabled)
    digest.save(update_fields=["enabled", "since"])
    return digest


def _digest_text(items, *, site: str) -> str:
    """The mail's text: each notification as the bell shows it (its text, when, project, link), no more."""
    lines = [f"You have {len(items)} new unread notification{'s' if len(items) != 1 else ''} in Concord:", ""]
    for n in items:
        where = f" · {n.project.name}" if n.project_id else ""
        lines.append(f"- {n.text} ({timezone.localtime(n.created_at):%d %b %Y %H:%M}{where})")
        if n.url:
            lines.append(f"  {site}{n.url}")
    lines += ["", f"All notifications: {site}/notifications/", f"Stop these e-mails: {site}/accounts/settings/"]
    return "\n".join(lines) + "\n"


def _digest_send_one(digest_id: int, *, now) -> int:
    """Send one user's digest; returns how many notifications it listed (0: nothing new, nothing sent).
    The digest row is locked (a concurrent run skips it) and its notifications are marked e-mailed in
    the same transaction: a failed send marks nothing, and no notification is ever mailed twice."""
    with transaction.atomic():
        digest = (
            NotificationDigest.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("user")
            .filter(id=digest_id, enabled=True)
            .first()
        )
        if digest is None or not digest.user.email:
            return 0
        items = list(notification_digest_items(digest=digest))
        if not items:
            return 0
        site = settings.CONCORD_SITE_URL.rstrip("/")
        subject = f"Concord: {len(items)} new notification{'s' if len(items) != 1 else ''}"
        send_mail(subject, _digest_text(items, site=site), None, [digest.user.email])
        Notification.objects.filter(id__in=[n.id for n in items]).update(emailed_at=now)
        digest.last_sent_at = now
        digest.save(update_fields=["last_sent_at"])
        return len(items)


def notification_digests_send(*, now=None) -> dict:
    """Send each opted-in user one e-mail listing their unread notifications since their last digest
    (none when nothing is new), through Django's configured mail backend (EMAIL_URL). The Celery beat
    task and the `send_notification_digest` command run this."""
    now = now or timezone.now()
    report = {"users": 0, "sent": 0, "notifications": 0, "failed": 0}
    for digest_id in list(notification_digests_due()):
        report["users"] += 1
        try:
            listed = _digest_send_one(digest_id, now=now)
        except Exception:  # one unreachable mailbox must not stop the others; tried again next time
            log.exception("the notification digest %s was not sent", digest_id)
            report["failed"] += 1
            continue
        if listed:
            report["sent"] += 1
            report["notifications"] += listed
    return report
