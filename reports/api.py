"""Report API: inter-rater agreement, under /api/projects/<slug>/agreement/ (project members); Table 2 of a
validation survey, /api/projects/<slug>/surveys/<id>/results/ (leads, moderators): JSON in the paper's layout
with the exact counts (`{"rows": [...]}`, as every Table 2 download), or the file `file_format` names."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from core.api.base import ApiViewMixin
from core.permissions import IsLead, IsModerator, IsProjectMember
from reports.selectors import agreement_asked, agreement_for_member, survey_table2, survey_table2_xlsx
from reports.table2 import FORMATS
from reports.table2 import render as render_table2
from validation import selectors as validation_selectors


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


# --- Table 2 of a validation survey (leads, moderators) ---------------------------------------------


class ResultsQuery(serializers.Serializer):
    # Not `format`: DRF reserves that parameter for choosing a renderer.
    file_format = serializers.ChoiceField(choices=list(FORMATS), default="json")


class SurveyResults(ApiViewMixin, APIView):
    permission_classes = [IsLead | IsModerator]

    @extend_schema(
        summary="Table 2 in the paper's layout: Yes/No %, severity and effort distributions, bases, exact counts",
        parameters=[OpenApiParameter("file_format", str, enum=list(FORMATS), description="json (default)")],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="JSON, or the file in that format")},
    )
    def get(self, request, project_slug, survey_id):
        fmt = self.query_params(ResultsQuery)["file_format"]
        survey = validation_selectors.survey_get(self.project, survey_id)
        table = survey_table2_xlsx(survey) if fmt == "xlsx" else survey_table2(survey)
        if fmt == "json":
            return ApiResponse(table.as_dict())
        content, content_type, extension = render_table2(table, fmt)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="{self.project.slug}-survey-{survey.id}-table2.{extension}"'
        )
        return response
