"""Report API: inter-rater agreement, under /api/projects/<slug>/agreement/ (project members)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.base import ApiViewMixin
from core.permissions import IsProjectMember
from reports.selectors import agreement_asked, agreement_for_member


class AgreementQuery(serializers.Serializer):
    round = serializers.IntegerField(required=False, min_value=0)
    level = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.CharField(required=False, allow_blank=True)
    framework = serializers.CharField(required=False, allow_blank=True)


class Agreement(ApiViewMixin, APIView):
    permission_classes = [IsProjectMember]

    @extend_schema(
        summary="Inter-rater agreement per round and taxonomy level, pairs, top disagreements",
        parameters=[
            OpenApiParameter("round", int, description="only this round"),
            OpenApiParameter("level", str, description="leaf, or a depth of the taxonomy (1, 2, …); all by default"),
            OpenApiParameter("kind", str, description="only artefacts of this kind"),
            OpenApiParameter("framework", str, description="only artefacts of this framework"),
        ],
        responses=OpenApiTypes.OBJECT,
    )
    def get(self, request, project_slug):
        params = self.query_params(AgreementQuery)
        report = agreement_asked(
            self.project,
            number=params.get("round"),
            level=params.get("level") or None,
            kind=params.get("kind") or None,
            framework=params.get("framework") or None,
        )
        return Response(agreement_for_member(report, self.membership))
