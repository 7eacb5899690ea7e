"""Serializers of projects and members."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import Membership, Notification, Project


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
