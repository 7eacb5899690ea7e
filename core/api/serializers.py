"""Serializers of projects and members."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.jobs import job_progress
from core.models import Job, Membership, Notification, Project


class ProjectSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField(help_text="The requester's roles in the project.")

    class Meta:
        model = Project
        fields = ["slug", "name", "description", "max_evaluators_per_artefact", "created_at", "roles"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(["lead", "moderator", "evaluator"])))
    def get_roles(self, obj):
        return [role for role in ("lead", "moderator", "evaluator") if getattr(obj, f"is_{role}", False)]


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)


class MemberSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "is_lead", "is_moderator", "is_evaluator", "is_active", "external_id"]


ROLE_CHOICES = ["lead", "moderator", "evaluator"]


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class MemberDetailSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)
    roles = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "user", "roles", "is_lead", "is_moderator", "is_evaluator", "is_active", "external_id"]

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(ROLE_CHOICES)))
    def get_roles(self, obj):
        return [role for role in ROLE_CHOICES if getattr(obj, f"is_{role}")]


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=254, help_text="A username or an e-mail address.")
    roles = serializers.ListField(child=serializers.ChoiceField(ROLE_CHOICES), allow_empty=False)


class MemberChangeSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(ROLE_CHOICES), allow_empty=False, required=False)
    is_active = serializers.BooleanField(required=False)


class MovedSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    round = serializers.IntegerField()
    artefact = serializers.CharField()
    to = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)


class MemberChangeResultSerializer(serializers.Serializer):
    member = MemberDetailSerializer()
    moved = MovedSerializer(many=True)
    to_moderators = MovedSerializer(many=True)


class InvitationCreateSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(ROLE_CHOICES), allow_empty=False)
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    roles = serializers.ListField(child=serializers.CharField())
    email = serializers.CharField()
    expires_at = serializers.DateTimeField()
    link = serializers.CharField(required=False, help_text="Shown once, when created.")


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class NotificationSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "project", "kind", "text", "url", "created_at", "read_at"]


class JobSerializer(serializers.ModelSerializer):
    """A background job (an import or export) as its API answers it: poll `url` until `status` is done or failed."""

    percent = serializers.SerializerMethodField(help_text="Percent done (100 when finished).")
    message = serializers.SerializerMethodField(help_text="What the job is doing now.")
    url = serializers.SerializerMethodField(help_text="This job in the API (poll it).")
    page = serializers.SerializerMethodField(help_text="The job's page in the browser.")
    report = serializers.DictField(
        read_only=True,
        help_text="What the job did once done (counts, skipped rows); when failed, `error_field` names the input.",
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "percent",
            "message",
            "error",
            "input_name",
            "report",
            "created_at",
            "started_at",
            "finished_at",
            "url",
            "page",
        ]
        read_only_fields = fields

    def _progress(self, job) -> dict:
        cache = self.context.setdefault("progress", {})
        if job.id not in cache:
            cache[job.id] = job_progress(job)
        return cache[job.id]

    def get_percent(self, job) -> int:
        return int(self._progress(job)["percent"])

    def get_message(self, job) -> str:
        return str(self._progress(job)["message"])

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, job) -> str:
        return self._absolute(reverse("api:job-detail", args=[job.project.slug, job.id]))

    def get_page(self, job) -> str:
        return self._absolute(reverse("labelling:task_progress", args=[job.project.slug, job.id]))
