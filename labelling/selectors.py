"""Reads. Plain functions returning querysets or values; aggregation happens in SQL."""

from django.shortcuts import get_object_or_404

from .errors import NotFound
from .models import Membership, Project
from .services import membership_require


def projects_for_user(*, user):
    """Projects the user is an active member of (others stay invisible)."""
    return Project.objects.filter(memberships__user=user, memberships__is_active=True).distinct()


def project_for_member(*, slug: str, user, roles: tuple[str, ...] = ()) -> tuple[Project, Membership]:
    """The project by slug and the user's membership; 404 for non-members, 403 without the role."""
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise NotFound("No such project.")
    return project, membership_require(project=project, user=user, roles=roles)


__all__ = ["get_object_or_404", "project_for_member", "projects_for_user"]
