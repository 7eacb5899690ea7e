"""Projects and their members over the API."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import IsAuthenticated

from core import selectors
from core.api import serializers as s
from core.api.base import ApiViewMixin
from core.models import Membership, Project
from core.permissions import (
    IsLead,
)


class ProjectViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The requester's projects (others' projects do not exist for them) with their roles."""

    serializer_class = s.ProjectSerializer
    permission_classes = [IsAuthenticated]
    queryset = Project.objects.none()
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return selectors.projects_with_roles(user=self.request.user)


@extend_schema_view(list=extend_schema(summary="Members of the project (leads)"))
class MemberViewSet(ApiViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.MemberSerializer
    permission_classes = [IsLead]
    queryset = Membership.objects.none()

    def get_queryset(self):
        return selectors.project_members(project=self.project)
