"""REST API of the validation survey.

Under /api/projects/<slug>/surveys/ (logged in): leads and moderators list surveys and read
their results; leads create, edit, open, close and delete them. Non-members get 404, members
without the role 403 (`core.permissions`).

Under /api/surveys/<survey token>/ and /api/responses/<response token>/ (no account, no
session, so no CSRF): respondents read the questions, start a response, save it as they go
and submit it once. The services check every answer; problems come back as 400 with one key
per field (`answers.<category id>.severity`…), a closed survey or a submitted response as 409.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response as ApiResponse
from rest_framework.views import APIView

from core.api.base import ApiViewMixin
from core.api.parsers import JSONParser
from core.api.throttles import SURVEY_THROTTLES
from core.errors import InvalidInput
from core.permissions import IsLead, IsModerator
from validation import selectors, services
from validation.models import Response, Survey, SurveyCategory

# --- serializers ---------------------------------------------------------------------------------


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyCategory
        fields = ["id", "position", "kind", "code", "name", "path", "level", "description", "source_id"]


class PublicCategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = SurveyCategory
        fields = ["id", "position", "kind", "code", "name", "path", "level", "description"]


class QuestionsSerializer(serializers.Serializer):
    encountered = serializers.BooleanField(default=True)
    severity = serializers.BooleanField(source="ask_severity")
    effort = serializers.BooleanField(source="ask_effort")
    comment = serializers.BooleanField(source="ask_comment")
    background = serializers.BooleanField(source="ask_background")
    missing_faults = serializers.BooleanField(source="ask_missing")
    severity_scale = serializers.ListField(child=serializers.CharField(), help_text="Severity levels, lowest first.")
    effort_scale = serializers.ListField(child=serializers.CharField(), help_text="Effort levels, lowest first.")


class SurveySerializer(serializers.ModelSerializer):
    questions = serializers.SerializerMethodField()
    categories = serializers.IntegerField(source="n_categories", read_only=True)
    submitted = serializers.IntegerField(source="n_submitted", read_only=True)
    in_progress = serializers.IntegerField(source="n_in_progress", read_only=True)

    class Meta:
        model = Survey
        fields = [
            "id",
            "title",
            "intro",
            "status",
            "questions",
            "selection",
            "categories",
            "submitted",
            "in_progress",
            "created_at",
            "opened_at",
            "closed_at",
        ]

    def get_questions(self, survey) -> dict:
        return QuestionsSerializer(survey).data


class SurveyDetailSerializer(SurveySerializer):
    categories = serializers.SerializerMethodField()
    share_url = serializers.SerializerMethodField(help_text="The respondents' link (leads only; else null).")

    class Meta(SurveySerializer.Meta):
        fields = [f for f in SurveySerializer.Meta.fields if f not in ("submitted", "in_progress")]
        fields += ["share_url"]

    def get_categories(self, survey) -> list[dict]:
        return CategorySerializer(selectors.survey_categories(survey), many=True).data

    def get_share_url(self, survey) -> str | None:
        request = self.context.get("request")
        if request is None or not self.context.get("is_lead"):
            return None
        return request.build_absolute_uri(reverse("survey:take", args=[survey.token]))


class SurveyCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    intro = serializers.CharField(required=False, allow_blank=True, default="")
    node_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, help_text="Inner categories to ask about."
    )
    leaf_ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    levels = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=100),
        required=False,
        help_text="Without node_ids/leaf_ids: inner categories at these levels (default: all).",
    )
    include_leaves = serializers.BooleanField(required=False, default=False, help_text="Without ids: every leaf too.")
    ask_severity = serializers.BooleanField(required=False, default=True)
    ask_effort = serializers.BooleanField(required=False, default=True)
    ask_comment = serializers.BooleanField(required=False, default=True)
    ask_background = serializers.BooleanField(required=False, default=True)
    ask_missing = serializers.BooleanField(required=False, default=True)
    severity_scale = serializers.JSONField(
        required=False,
        help_text='Levels lowest first (2–5 labels), or "study" (default: Minor, Major, Critical) or "numeric" (1–5).',
    )
    effort_scale = serializers.JSONField(
        required=False,
        help_text='Levels lowest first (2–5 labels), or "study" (default: Low, Medium, High) or "numeric" (1–5).',
    )


class SurveyUpdateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    intro = serializers.CharField(required=False, allow_blank=True)


class AnswerInput(serializers.Serializer):
    category = serializers.IntegerField(help_text="A category id of the survey.")
    encountered = serializers.BooleanField(allow_null=True, help_text="null clears the answer.")
    severity = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="A level of the survey's severity scale: its label or 1-based position.",
    )
    effort = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="A level of the survey's effort scale: its label or 1-based position.",
    )
    comment = serializers.CharField(required=False, allow_blank=True)


class BackgroundSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Response.Role.choices, allow_blank=True, required=False)
    experience_years = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=70)
    frameworks = serializers.ListField(child=serializers.CharField(), required=False)


class ResponseInput(serializers.Serializer):
    """What a respondent sends; the service checks it (shape included) and names every problem."""

    answers = AnswerInput(many=True, required=False, help_text="Only the categories given are changed.")
    background = BackgroundSerializer(required=False)
    missing_faults = serializers.CharField(required=False, allow_blank=True)


class PublicSurveySerializer(serializers.ModelSerializer):
    questions = serializers.SerializerMethodField()
    categories = serializers.SerializerMethodField()
    accepts_answers = serializers.BooleanField(source="is_open")

    class Meta:
        model = Survey
        fields = ["title", "intro", "status", "accepts_answers", "questions", "categories"]

    def get_questions(self, survey) -> dict:
        return QuestionsSerializer(survey).data

    def get_categories(self, survey) -> list[dict]:
        return PublicCategorySerializer(selectors.survey_categories(survey), many=True).data


def response_data(response: Response, request) -> dict:
    answers = selectors.response_answers(response)
    survey = response.survey
    return {
        "token": response.token,
        "url": request.build_absolute_uri(reverse("survey:respond", args=[response.token])),
        "survey": {"title": survey.title, "status": survey.status, "accepts_answers": survey.is_open},
        "submitted_at": response.submitted_at,
        "final": response.submitted_at is not None,
        "background": {
            "role": response.role,
            "experience_years": response.experience_years,
            "frameworks": selectors.response_frameworks(response),
        },
        "missing_faults": response.missing_faults,
        "answers": [
            {
                "category": a.category_id,
                "encountered": a.encountered,
                "severity": a.severity,
                "effort": a.effort,
                "comment": a.comment,
            }
            for a in sorted(answers.values(), key=lambda a: a.category_id)
        ],
    }


# --- leads and moderators ------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="The project's surveys (leads, moderators)"),
    retrieve=extend_schema(
        summary="A survey with its categories (leads, moderators)", responses=SurveyDetailSerializer
    ),
    create=extend_schema(
        summary="Create a draft survey from the current taxonomy (lead)",
        request=SurveyCreateInput,
        responses={201: SurveyDetailSerializer},
    ),
    partial_update=extend_schema(
        summary="Change title or introduction (lead)", request=SurveyUpdateInput, responses=SurveyDetailSerializer
    ),
    destroy=extend_schema(summary="Delete a survey nobody has started answering (lead)"),
)
class SurveyViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = SurveySerializer
    queryset = Survey.objects.none()
    lookup_url_kwarg = "survey_id"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.request is not None and self.request.method in SAFE_METHODS:
            return [(IsLead | IsModerator)()]
        return [IsLead()]

    def get_queryset(self):
        return selectors.survey_list(self.project)

    def get_object(self):
        return selectors.survey_get(self.project, self.kwargs["survey_id"])

    def detail_response(self, survey: Survey, code=status.HTTP_200_OK):
        context = {"request": self.request, "is_lead": self.membership.is_lead}
        return ApiResponse(SurveyDetailSerializer(survey, context=context).data, status=code)

    def retrieve(self, request, *args, **kwargs):
        return self.detail_response(self.get_object())

    def create(self, request, *args, **kwargs):
        params = SurveyCreateInput(data=request.data)
        params.is_valid(raise_exception=True)
        data = dict(params.validated_data)
        survey = services.survey_create(
            project=self.project,
            user=request.user,
            title=data.pop("title"),
            intro=data.pop("intro", ""),
            node_ids=data.pop("node_ids", None),
            leaf_ids=data.pop("leaf_ids", None),
            levels=data.pop("levels", None),
            **data,
        )
        return self.detail_response(survey, status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        params = SurveyUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        survey = services.survey_update(survey=self.get_object(), user=request.user, **params.validated_data)
        return self.detail_response(survey)

    def destroy(self, request, *args, **kwargs):
        services.survey_delete(survey=self.get_object(), user=request.user)
        return ApiResponse(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Open the survey for answers (lead)", request=None, responses=SurveyDetailSerializer)
    @action(detail=True, methods=["post"])
    def open(self, request, *args, **kwargs):
        return self.detail_response(services.survey_open(survey=self.get_object(), user=request.user))

    @extend_schema(summary="Close the survey (lead)", request=None, responses=SurveyDetailSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        return self.detail_response(services.survey_close(survey=self.get_object(), user=request.user))


# --- respondents (no account) --------------------------------------------------------------------


class PublicApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = list(SURVEY_THROTTLES)  # writes per address and per survey/response token
    parser_classes = [JSONParser]

    @staticmethod
    def payload(request) -> dict:
        if not isinstance(request.data, dict):
            raise InvalidInput("Send a JSON object with answers, background and missing_faults.")
        return {
            "answers": request.data.get("answers"),
            "background": request.data.get("background"),
            "missing_faults": request.data.get("missing_faults"),
        }


class PublicSurvey(PublicApi):
    @extend_schema(
        summary="The survey's introduction, questions and categories (no account)",
        auth=[],
        responses=PublicSurveySerializer,
    )
    def get(self, request, token):
        return ApiResponse(PublicSurveySerializer(selectors.survey_get_by_token(token)).data)


class PublicResponseStart(PublicApi):
    @extend_schema(
        summary="Start a response (no account); keep its token to save and submit",
        auth=[],
        request=None,
        responses={201: OpenApiResponse(OpenApiTypes.OBJECT, description="The new response with its token")},
    )
    def post(self, request, token):
        response = services.response_start(survey_token=token)
        return ApiResponse(response_data(response, request), status=status.HTTP_201_CREATED)


class PublicResponse(PublicApi):
    @extend_schema(summary="A response as saved (no account)", auth=[], responses={200: OpenApiTypes.OBJECT})
    def get(self, request, token):
        return ApiResponse(response_data(selectors.response_get_by_token(token), request))

    @extend_schema(
        summary="Save answers so far (no account); only the categories given change",
        auth=[],
        request=ResponseInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def patch(self, request, token):
        response = services.response_save(response_token=token, **self.payload(request))
        return ApiResponse(response_data(response, request))


class PublicResponseSubmit(PublicApi):
    @extend_schema(
        summary="Submit the response (no account): final; may carry last answers",
        auth=[],
        request=ResponseInput,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request, token):
        response = services.response_submit(response_token=token, **self.payload(request))
        return ApiResponse(response_data(response, request))
