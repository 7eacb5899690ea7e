"""Projects, their members, invitations, API tokens and notifications over the API."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, status, viewsets
from rest_framework import serializers as drf_serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core import jobs, selectors, services
from core.api import serializers as s
from core.api.authentication import ProjectTokenAuthentication
from core.api.base import ApiPagination, ApiViewMixin
from core.errors import NotAllowed
from core.models import Membership, Notification, Project
from core.permissions import (
    IsLead,
    IsProjectMember,
)


def invitation_link(request, token: str) -> str:
    return request.build_absolute_uri(f"/invite/{token}/")


@extend_schema_view(create=extend_schema(request=s.ProjectCreateSerializer, responses={201: s.ProjectSerializer}))
class ProjectViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """The requester's projects (others' projects do not exist for them) with their roles.

    POST creates a project whose lead is the requester (CONCORD_PROJECT_CREATORS: all or staff)."""

    serializer_class = s.ProjectSerializer
    permission_classes = [IsAuthenticated]
    queryset = Project.objects.none()
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return selectors.projects_with_roles(user=self.request.user)

    def create(self, request, *args, **kwargs):
        data = s.ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_start(user=request.user, **data.validated_data)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=project.pk)).data, status=status.HTTP_201_CREATED
        )


@extend_schema_view(
    list=extend_schema(summary="Members of the project (leads)"),
    create=extend_schema(
        summary="Add an existing user by username or e-mail with roles",
        request=s.MemberAddSerializer,
        responses={201: s.MemberDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Change roles or (de)activate; open work of a departing evaluator moves",
        request=s.MemberChangeSerializer,
        responses={200: s.MemberChangeResultSerializer},
    ),
    destroy=extend_schema(
        summary="Deactivate the member (kept for the record); their open work moves",
        responses={200: s.MemberChangeResultSerializer},
    ),
)
class MemberViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.MemberDetailSerializer
    permission_classes = [IsLead]
    queryset = Membership.objects.none()
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.project_members(project=self.project)

    def create(self, request, *args, **kwargs):
        data = s.MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.member_add(
            project=self.project,
            by=request.user,
            who=data.validated_data["username"],
            roles=data.validated_data["roles"],
        )
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    def _result(self, report):
        return Response(
            {
                "member": self.get_serializer(report["membership"]).data,
                "moved": report["moved"],
                "to_moderators": report["to_moderators"],
            }
        )

    def partial_update(self, request, *args, **kwargs):
        data = s.MemberChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.member_change(
            project=self.project,
            by=request.user,
            membership_id=int(kwargs["pk"]),
            roles=data.validated_data.get("roles"),
            active=data.validated_data.get("is_active"),
        )
        return self._result(report)

    def destroy(self, request, *args, **kwargs):
        report = services.member_deactivate(project=self.project, by=request.user, membership_id=int(kwargs["pk"]))
        return self._result(report)


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


class JobDetailView(ApiViewMixin, APIView):
    """A job of the project (an import or export): its status, progress, error and report, for the leads and
    for the member who started it (a moderator's word list)."""

    permission_classes = [IsAuthenticated, IsProjectMember]

    @extend_schema(
        summary="A job's status, progress, error and report (lead, or the job's starter)",
        responses={200: s.JobSerializer},
    )
    def get(self, request, project_slug, job_id):
        job = jobs.job_for_member(project=self.project, job_id=job_id, user=request.user, membership=self.membership)
        return Response(s.JobSerializer(job, context={"request": request}).data)


class JobCancelView(ApiViewMixin, APIView):
    """A lead (or the job's starter) cancels a pending or running job of the project."""

    permission_classes = [IsAuthenticated, IsProjectMember]

    @extend_schema(
        summary="Cancel a job (lead, or the job's starter)",
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
        job = jobs.job_for_member(project=self.project, job_id=job_id, user=request.user, membership=self.membership)
        job = jobs.job_cancel(job=job, user=request.user)
        return Response({"id": job.id, "status": job.status, "error": job.error})


@extend_schema_view(
    create=extend_schema(
        summary="A single-use invitation link (expires in 7 days)",
        request=s.InvitationCreateSerializer,
        responses={201: s.InvitationSerializer},
    ),
    list=extend_schema(summary="Open invitations of the project", responses={200: s.InvitationSerializer(many=True)}),
)
class InvitationViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = s.InvitationSerializer
    permission_classes = [IsLead]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.invitations_open(project=self.project)

    @staticmethod
    def _row(invitation, link=None):
        row = {
            "id": invitation.id,
            "roles": invitation.roles,
            "email": invitation.email,
            "expires_at": invitation.expires_at,
        }
        if link:
            row["link"] = link
        return row

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.InvitationSerializer([self._row(i) for i in page], many=True).data)

    def create(self, request, *args, **kwargs):
        data = s.InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, token = services.invitation_create(project=self.project, by=request.user, **data.validated_data)
        row = self._row(invitation, invitation_link(request, token))
        return Response(s.InvitationSerializer(row).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        services.invitation_revoke(project=self.project, by=request.user, invitation_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenThrottle(AnonRateThrottle):
    """Password guessing through the token endpoint: a few tries per minute per client address."""

    scope = "auth_token"
    rate = "10/min"


class AuthTokenView(APIView):
    """POST {"username", "password"} → {"token"}: a new named token ("api") for scripts."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=s.TokenRequestSerializer,
        responses={200: s.TokenResponseSerializer, 400: OpenApiResponse(description="Wrong username or password")},
    )
    def post(self, request):
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
        if user is None or not user.is_active:
            return Response(
                {"detail": "Wrong username or password.", "code": "invalid_credentials"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        token = services.api_token_create(user=user, name="api (POST /api/auth/token/)")
        return Response({"token": token.key})


@extend_schema_view(list=extend_schema(summary="My notifications, newest first"))
class NotificationViewSet(ApiViewMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = s.NotificationSerializer
    permission_classes = [IsAuthenticated]
    queryset = Notification.objects.none()
    pagination_class = ApiPagination

    def get_queryset(self):
        return selectors.notifications_for(user=self.request.user)

    @extend_schema(request=None, responses={200: None})
    @action(detail=False, methods=["post"])
    def read(self, request):
        """Mark every notification read."""
        if not request.user.is_authenticated:
            raise NotAllowed("Log in first.")
        count = services.notifications_mark_read(user=request.user)
        return Response({"marked": count})
