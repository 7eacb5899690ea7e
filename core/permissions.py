"""Project role permissions for the API, composable with `|` and `&` (in doccano's style).

    permission_classes = [IsLead | IsModerator]

The project comes from the URL (`project_slug`). Someone who is not an active member
of that project gets 404 whatever the combination, so that others' projects stay
invisible; a member without the role gets 403; an anonymous request gets 401. The
membership is looked up once per request and cached on it (`project_membership`).
"""

from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from core.models import Membership

PROJECT_KWARG = "project_slug"


_CACHE = "concord_memberships"


def remember_membership(request, slug: str, membership: Membership) -> None:
    """Keep the requester's active membership of the project `slug`, read with their credentials
    (core/api/authentication.py), for this request's permission checks."""
    request.__dict__.setdefault(_CACHE, {})[slug] = membership


def project_membership(request, view) -> Membership:
    """The requester's active membership of the URL's project (with the project), cached per request.

    Raises NotFound for non-members and unknown projects alike."""
    slug = view.kwargs.get(PROJECT_KWARG)
    if slug is None:
        raise exceptions.NotFound("No such project.")
    cache = request.__dict__.setdefault(_CACHE, {})
    if slug not in cache:
        cache[slug] = (
            Membership.objects.select_related("project")
            .filter(project__slug=slug, user_id=request.user.pk, is_active=True)
            .order_by()  # one row at most; the default ordering would join the user to sort it
            .first()
        )
    membership = cache[slug]
    if membership is None:
        raise exceptions.NotFound("No such project.")
    return membership


class ProjectRolePermission(BasePermission):
    """Grants access to active members holding `role` (any role when `role` is empty)."""

    role = ""

    @property
    def message(self):
        return f"This needs the {self.role} role in this project." if self.role else "Members only."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        membership = project_membership(request, view)
        return not self.role or bool(getattr(membership, f"is_{self.role}"))


class IsProjectMember(ProjectRolePermission):
    role = ""


class IsLead(ProjectRolePermission):
    role = "lead"


class IsModerator(ProjectRolePermission):
    role = "moderator"


class IsEvaluator(ProjectRolePermission):
    role = "evaluator"
