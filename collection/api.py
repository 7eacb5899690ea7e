"""API for the relevance vocabulary, under /api/projects/<slug>/vocabulary/:

- GET  vocabulary/               terms with tally, status and my flag (filter, search, sort, paginate)
- GET  vocabulary/<id>/          one term
- POST vocabulary/<id>/flag/     {"verdict": "relevant" | "irrelevant" | "clear"} (every member)
- GET  vocabulary/summary/       terms by status, artefacts indexed and matching, the last index job
- POST vocabulary/index/         queue an index build (leads); 202 with the job

Same rules as the page: non-members 404, members without the role 403, anonymous 401.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from collection import selectors as vs
from collection import services as vocabulary_services
from collection.models import VocabularyTerm
from core.api.base import ApiViewMixin
from core.errors import NotFound
from core.models import Job
from core.permissions import IsLead, IsProjectMember


class VocabularyTermSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=VocabularyTerm.Status.choices, read_only=True)
    relevant_count = serializers.IntegerField(read_only=True)
    irrelevant_count = serializers.IntegerField(read_only=True)
    my_verdict = serializers.CharField(read_only=True, help_text='"relevant", "irrelevant" or "" (not flagged by me).')

    class Meta:
        model = VocabularyTerm
        fields = [
            "id",
            "stem",
            "example",
            "artefact_count",
            "status",
            "relevant_count",
            "irrelevant_count",
            "my_verdict",
        ]
        read_only_fields = fields


class VocabularyQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="A word or its start.")
    status = serializers.ChoiceField(choices=vs.STATUSES, required=False)
    mine = serializers.ChoiceField(
        choices=vs.MINE_FILTERS, required=False, help_text="Terms I have flagged, or not flagged yet."
    )
    sort = serializers.ChoiceField(choices=list(vs.SORTS), required=False, default="frequency")
    min_count = serializers.IntegerField(required=False, min_value=0, max_value=10**9, default=0)


class TermFlagInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=vocabulary_services.FLAG_VERDICTS, help_text="`clear` removes my flag.")


class TermDecisionInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(
        choices=vocabulary_services.FLAG_VERDICTS, help_text="The meeting's decision; `clear` undoes it."
    )


class TermDecisionSerializer(serializers.ModelSerializer):
    final = serializers.CharField(read_only=True, help_text='"relevant", "irrelevant" or "" (not decided).')
    decided_by = serializers.CharField(source="decided_by.username", default="", read_only=True)

    class Meta:
        model = VocabularyTerm
        fields = ["id", "stem", "example", "artefact_count", "final", "decided_by", "decided_at"]
        read_only_fields = fields


class VocabularyJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "status", "progress", "message", "report", "error", "created_at", "finished_at"]
        read_only_fields = fields


class VocabularySummarySerializer(serializers.Serializer):
    terms = serializers.IntegerField()
    relevant = serializers.IntegerField()
    irrelevant = serializers.IntegerField()
    undecided = serializers.IntegerField()
    artefacts = serializers.IntegerField()
    indexed = serializers.IntegerField(help_text="Artefacts the index has read.")
    unindexed = serializers.IntegerField(help_text="Artefacts added since the last build.")
    matching = serializers.IntegerField(help_text="Artefacts containing a relevant term.")
    matching_pool = serializers.IntegerField(help_text="Matching artefacts not yet in any round.")
    job = VocabularyJobSerializer(allow_null=True, help_text="The last index build.")


@extend_schema_view(
    list=extend_schema(summary="Vocabulary terms with tally and my flag", parameters=[VocabularyQuerySerializer]),
    retrieve=extend_schema(summary="One vocabulary term"),
)
class VocabularyTermViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = VocabularyTermSerializer
    queryset = VocabularyTerm.objects.none()
    lookup_value_regex = r"\d+"

    def get_permissions(self):
        if self.action == "index":
            return [IsLead()]
        return [IsProjectMember()]

    def get_queryset(self):
        params = self.query_params(VocabularyQuerySerializer) if self.action == "list" else {}
        return vs.vocabulary_terms(
            project=self.project,
            user=self.request.user,
            query=params.get("q", ""),
            status=params.get("status", ""),
            mine=params.get("mine", ""),
            sort=params.get("sort", "frequency"),
            min_count=params.get("min_count", 0),
        )

    @extend_schema(summary="Flag a term relevant or irrelevant, or clear my flag", request=TermFlagInputSerializer)
    @action(detail=True, methods=["post"])
    def flag(self, request, *args, **kwargs):
        data = TermFlagInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        term = vocabulary_services.term_flag(
            project=self.project, term_id=int(kwargs["pk"]), user=request.user, **data.validated_data
        )
        row = vs.vocabulary_term(project=self.project, user=request.user, term_id=term.id)
        if row is None:  # dropped by an index refresh a moment ago
            raise NotFound("No such term in this project.", field="term_id")
        return Response(self.get_serializer(row).data)

    @extend_schema(
        summary="The meeting's decision on a term (moderators and leads): the relevant ones are the final vocabulary",
        request=TermDecisionInputSerializer,
        responses=TermDecisionSerializer,
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, *args, **kwargs):
        data = TermDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        term = vocabulary_services.term_decide(
            project=self.project, term_id=int(kwargs["pk"]), user=request.user, verdict=data.validated_data["verdict"]
        )
        return Response(TermDecisionSerializer(term).data)

    @extend_schema(
        summary="Counts by status, matching artefacts and the last index build", responses=VocabularySummarySerializer
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def summary(self, request, *args, **kwargs):
        data = {**vs.vocabulary_summary(project=self.project), "job": vs.vocabulary_jobs(project=self.project).first()}
        return Response(VocabularySummarySerializer(data).data)

    @extend_schema(
        summary="Build or refresh the index (leads); the job's progress is in summary",
        request=None,
        responses={202: VocabularyJobSerializer},
    )
    @action(detail=False, methods=["post"])
    def index(self, request, *args, **kwargs):
        job = vocabulary_services.vocabulary_index_start(project=self.project, user=request.user)
        job.refresh_from_db()
        return Response(VocabularyJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
