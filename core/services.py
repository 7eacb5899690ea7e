"""Projects and memberships: the writes (roles are checked here, for pages and the API alike)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify
from rest_framework.authtoken.models import Token

from core.errors import InvalidInput
from core.models import Membership, Project


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
