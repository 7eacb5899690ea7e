"""Projects and their members over the API."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core import jobs, selectors, services
from core.api import serializers as s
from core.api.authentication import ProjectTokenAuthentication
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


class TokenView(APIView):
    """POST a username and password for a new API token (any earlier one stops working); DELETE revokes it.

    Sign-in failures count towards the lockout of the account and the address (django-axes): while
    locked, the answer is 429 whatever the password."""

    authentication_classes = [ProjectTokenAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]
    serializer_class = AuthTokenSerializer

    @extend_schema(
        summary="Get an API token (username and password)",
        auth=[],
        request=AuthTokenSerializer,
        responses={
            201: inline_serializer(
                "IssuedToken", {"token": drf_serializers.CharField(), "expires": drf_serializers.DateTimeField()}
            ),
            400: OpenApiResponse(description="Wrong username or password"),
            429: OpenApiResponse(description="Too many failed sign-ins for this account or address"),
        },
    )
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        valid = serializer.is_valid()
        if getattr(request, "axes_locked_out", False):
            return Response(
                {"detail": "Too many failed sign-ins for this account or address; try again later."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        if not valid:
            raise ValidationError(serializer.errors)
        token = services.token_issue(user=serializer.validated_data["user"])
        return Response(
            {"token": token.key, "expires": selectors.token_expires_at(token=token)}, status=status.HTTP_201_CREATED
        )

    @extend_schema(summary="Revoke the requester's API token", responses={204: None, 401: OpenApiResponse()})
    def delete(self, request):
        if not request.user.is_authenticated:
            raise NotAuthenticated()
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class JobCancelView(ApiViewMixin, APIView):
    """A lead cancels a pending or running job of the project."""

    permission_classes = [IsAuthenticated, IsLead]

    @extend_schema(
        summary="Cancel a job (lead)",
        request=None,
        responses={
            200: inline_serializer(
                "CancelledJob",
                {
                    "id": drf_serializers.IntegerField(),
                    "status": drf_serializers.CharField(),
                    "error": drf_serializers.CharField(),
                },
            ),
            404: OpenApiResponse(description="No such job in this project"),
            409: OpenApiResponse(description="The job has finished already"),
        },
    )
    def post(self, request, project_slug, job_id):
        job = jobs.job_cancel(job=jobs.job_get(project=self.project, job_id=job_id), user=request.user)
        return Response({"id": job.id, "status": job.status, "error": job.error})
