"""Serializers of projects and members."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import Membership, Project


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
