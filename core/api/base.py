"""Base classes of every API view: project membership, pagination, domain errors."""

from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination

from core.api.authentication import ProjectTokenAuthentication
from core.models import Membership, Project
from core.permissions import (
    project_membership,
)


class ApiPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ApiViewMixin:
    # Token first: an anonymous request is answered 401 with `WWW-Authenticate: Token`.
    authentication_classes = [ProjectTokenAuthentication, SessionAuthentication]
    pagination_class = ApiPagination
    filter_backends = []

    @property
    def membership(self) -> Membership:
        return project_membership(self.request, self)

    @property
    def project(self) -> Project:
        return self.membership.project

    def query_params(self, serializer_class) -> dict:
        """Query parameters checked by a serializer: a bad value is a 400 naming the parameter."""
        params = serializer_class(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return params.validated_data
