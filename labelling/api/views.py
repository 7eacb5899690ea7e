"""The REST API. Thin views: serializers check the shape of input, services enforce the rules
(raising DomainErrors that `labelling.api.errors` turns into 4xx), selectors read.

Everything lives under /api/projects/<slug>/…; the role permissions come from
`core.permissions` (non-members get 404, members without the role 403,
anonymous requests 401)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.response import Response
from rest_framework.views import APIView

from collection.models import Artefact
from core.api.base import ApiViewMixin
from core.errors import NotFound
from core.permissions import (
    IsEvaluator,
    IsLead,
    IsModerator,
    IsProjectMember,
)
from labelling import selectors, services
from labelling.api import serializers as s
from labelling.models import Assignment, Label, Round, RoundItem

# --- projects -----------------------------------------------------------------------------


# --- artefacts ----------------------------------------------------------------------------


class ArtefactQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Artefact.Kind.choices, required=False)
    framework = serializers.CharField(required=False, max_length=60)
    round = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    status = serializers.ChoiceField(
        choices=selectors.ARTEFACT_STATUSES,
        required=False,
        help_text="`pool` (in no round yet), `decided`, or a round item status.",
    )
    vocabulary = serializers.BooleanField(
        required=False, default=False, help_text="Only artefacts matching the (final) relevance vocabulary."
    )


@extend_schema_view(list=extend_schema(parameters=[ArtefactQuerySerializer]))
class ArtefactViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """Artefacts of the project: filter by kind, framework, round and status; search title, URL and body."""

    serializer_class = s.ArtefactSerializer
    permission_classes = [IsProjectMember]
    queryset = Artefact.objects.none()
    lookup_value_regex = r"\d+"
    filter_backends = [SearchFilter]
    search_fields = ["title", "url", "body"]

    def get_queryset(self):
        params = self.query_params(ArtefactQuerySerializer) if self.action == "list" else {}
        return selectors.artefacts_filtered(
            project=self.project,
            kind=params.get("kind", ""),
            framework=params.get("framework", ""),
            round_number=params.get("round"),
            status=params.get("status", ""),
            vocabulary=params.get("vocabulary", False),
        )


# --- rounds -------------------------------------------------------------------------------


class RoundViewSet(ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Rounds of the project. Leads create (by sample or selection) and close them."""

    serializer_class = s.RoundSerializer
    queryset = Round.objects.none()
    lookup_field = "number"
    lookup_value_regex = r"\d+"

    def get_permissions(self):
        if self.action in ("create", "close"):
            return [IsLead()]
        if self.action == "progress":
            return [(IsLead | IsModerator)()]
        return [IsProjectMember()]

    def get_queryset(self):
        return selectors.rounds_overview(project=self.project).prefetch_related("evaluators")

    @extend_schema(request=s.RoundCreateSerializer, responses={201: s.RoundSerializer})
    def create(self, request, *args, **kwargs):
        data = s.RoundCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rnd = services.round_create(project=self.project, user=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=rnd.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.RoundSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        rnd = self.get_object()
        services.round_close(round=rnd, user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=rnd.pk)).data)

    @extend_schema(responses={200: s.RoundProgressSerializer})
    @action(detail=True, methods=["get"])
    def progress(self, request, *args, **kwargs):
        """Per evaluator done/total, disagreements and conflicts (counted apart), percent agreement so far."""
        rnd = selectors.round_get(project=self.project, number=int(kwargs["number"]))
        summary = selectors.round_summary(round=rnd)
        evaluators = [
            {**row, "percent": round(100 * row["done"] / row["total"], 1) if row["total"] else 0.0}
            for row in selectors.round_evaluator_progress(round=rnd)
        ]
        data = {**summary, "round": rnd.number, "status": rnd.status, "evaluators": evaluators}
        return Response(s.RoundProgressSerializer(data).data)


# --- my assignments and annotations -------------------------------------------------------


class AssignmentQuerySerializer(serializers.Serializer):
    round = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    state = serializers.ChoiceField(choices=["open", "done"], required=False)


@extend_schema_view(
    list=extend_schema(summary="My queue: my assignments, open ones first", parameters=[AssignmentQuerySerializer]),
    retrieve=extend_schema(summary="One of my assignments (another evaluator's is refused)"),
)
class AssignmentViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    """The requester's own assignments; annotate one (POST/PUT) and receive the next in the same response."""

    serializer_class = s.AssignmentSerializer
    permission_classes = [IsEvaluator]
    queryset = Assignment.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        params = self.query_params(AssignmentQuerySerializer) if self.action == "list" else {}
        return selectors.assignments_mine(
            project=self.project,
            user=self.request.user,
            round_number=params.get("round"),
            state=params.get("state", ""),
        )

    def get_object(self):
        return selectors.evaluator_assignment(
            project=self.project, user=self.request.user, assignment_id=int(self.kwargs["pk"])
        )

    @extend_schema(
        summary="My next open assignment",
        responses={200: s.AssignmentSerializer, 204: OpenApiResponse(description="Nothing left to label.")},
    )
    @action(detail=False, methods=["get"])
    def next(self, request, *args, **kwargs):
        assignment = selectors.assignment_next(project=self.project, user=request.user)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(self.get_serializer(assignment).data)

    @extend_schema(methods=["GET"], summary="My annotation on this assignment", responses={200: s.AnnotationSerializer})
    @extend_schema(
        methods=["POST", "PUT"],
        summary="Submit or edit my annotation (a label or a verdict, and a note); returns my next assignment",
        request=s.AnnotationInputSerializer,
        responses={200: s.SubmitResultSerializer, 201: s.SubmitResultSerializer},
    )
    @action(detail=True, methods=["get", "post", "put"])
    def annotation(self, request, *args, **kwargs):
        if request.method == "GET":
            assignment = self.get_object()
            if not hasattr(assignment, "annotation"):
                raise NotFound("No annotation on this assignment yet.")
            return Response(s.AnnotationSerializer(assignment.annotation).data)
        data = s.AnnotationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = self.membership
        project = membership.project
        annotation = services.annotation_submit(
            assignment_id=int(kwargs["pk"]),
            user=request.user,
            project=project,
            membership=membership,
            **data.validated_data,
        )
        created = getattr(annotation, "was_created", False)
        assignment = annotation.assignment
        assignment.annotation = annotation
        next_assignment = selectors.assignment_next(project=project, user=request.user)
        body = {
            "assignment": s.AssignmentDoneSerializer(assignment).data,
            "next": s.AssignmentSerializer(next_assignment).data if next_assignment else None,
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


# --- labels -------------------------------------------------------------------------------


class LabelQuerySerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Part of the name.")


class SuggestQuerySerializer(LabelQuerySerializer):
    limit = serializers.IntegerField(required=False, min_value=1, max_value=50, default=10)


@extend_schema_view(
    list=extend_schema(summary="The label catalogue with usage counts (leads)", parameters=[LabelQuerySerializer]),
    create=extend_schema(summary="Add a label to the catalogue (leads)"),
    partial_update=extend_schema(summary="Rename a label, describe it, put it in or out of the catalogue (leads)"),
)
class LabelViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = s.LabelSerializer
    queryset = Label.objects.none()
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self):
        if self.action == "suggest":
            return [IsProjectMember()]
        return [IsLead()]

    def get_queryset(self):
        membership = self.membership
        query = self.query_params(LabelQuerySerializer).get("q", "") if self.action == "list" else ""
        # A lead who also evaluates sees only what an evaluator may see (as on the catalogue page).
        return selectors.label_catalogue(
            project=membership.project, user=self.request.user, blind=membership.is_evaluator, query=query
        )

    def _label_response(self, label_id: int, status_code=status.HTTP_200_OK):
        # The label just written, with the counts the requester may see, even if it is no longer listed
        # for them (a lead who evaluates took it out of the catalogue).
        membership = self.membership
        label = selectors.label_catalogue(
            project=membership.project, user=self.request.user, blind=membership.is_evaluator, label_id=label_id
        ).get()
        return Response(self.get_serializer(label).data, status=status_code)

    @extend_schema(request=s.LabelCreateSerializer, responses={201: s.LabelSerializer})
    def create(self, request, *args, **kwargs):
        data = s.LabelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        label = services.label_create(project=self.project, user=request.user, **data.validated_data)
        return self._label_response(label.id, status.HTTP_201_CREATED)

    @extend_schema(request=s.LabelWriteSerializer, responses={200: s.LabelSerializer})
    def partial_update(self, request, *args, **kwargs):
        label = self.get_object()
        data = s.LabelWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "name" in values:
            services.label_rename(label_id=label.id, user=request.user, name=values.pop("name"))
        if values:
            services.label_update(label_id=label.id, user=request.user, **values)
        return self._label_response(label.id)

    @extend_schema(
        summary="Merge this label into another (leads): annotations and decisions are rewritten",
        request=s.LabelMergeSerializer,
        responses={200: s.LabelSerializer},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, *args, **kwargs):
        data = s.LabelMergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        source = self.get_object()
        target = services.label_merge(
            source_id=source.id, target_id=data.validated_data["target_id"], user=request.user
        )
        return self._label_response(target.id)

    @extend_schema(
        summary="Autocomplete: labels from decided items, the catalogue and my own annotations",
        parameters=[SuggestQuerySerializer],
        responses={200: s.LabelSuggestionSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def suggest(self, request, *args, **kwargs):
        params = self.query_params(SuggestQuerySerializer)
        labels = selectors.label_suggestions(
            project=self.project, user=request.user, query=params.get("q", ""), limit=params["limit"]
        )
        return Response(s.LabelSuggestionSerializer(labels, many=True).data)


# --- conflicts ----------------------------------------------------------------------------


class ConflictQuerySerializer(serializers.Serializer):
    resolved = serializers.BooleanField(required=False, default=False, help_text="Resolved conflicts instead.")
    round = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)


@extend_schema_view(
    list=extend_schema(summary="The moderators' conflict queue", parameters=[ConflictQuerySerializer]),
    retrieve=extend_schema(summary="A conflict with every annotation, its author and note"),
)
class ConflictViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ConflictSerializer
    permission_classes = [IsModerator]
    queryset = RoundItem.objects.none()
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        params = self.query_params(ConflictQuerySerializer) if self.action == "list" else {}
        return selectors.conflicts_with_annotations(
            project=self.project, resolved=params.get("resolved", False), round_number=params.get("round")
        )

    def get_object(self):
        item = selectors.conflict_item(project=self.project, item_id=int(self.kwargs["pk"]))
        return self._with_annotations(item.pk)

    def _with_annotations(self, item_id: int):
        return selectors.conflict_with_annotations(item_id=item_id)

    @extend_schema(
        summary="Resolve a conflict: pick an annotation, or give a new label or a verdict, with a note",
        request=s.ResolveInputSerializer,
        responses={200: s.ConflictSerializer},
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, *args, **kwargs):
        data = s.ResolveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.conflict_resolve(
            item_id=int(kwargs["pk"]), user=request.user, project=self.project, **data.validated_data
        )
        return Response(self.get_serializer(self._with_annotations(item.pk)).data)

    @extend_schema(
        summary="Send a conflict back to some of its evaluators, with a reason: they revise or confirm their label",
        request=s.SendBackInputSerializer,
        responses={200: s.ConflictSerializer},
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, *args, **kwargs):
        data = s.SendBackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.conflict_send_back(
            item_id=int(kwargs["pk"]), user=request.user, project=self.project, **data.validated_data
        )
        return Response(self.get_serializer(self._with_annotations(item.pk)).data)


# --- the discussion of a conflict ---------------------------------------------------------------


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = serializers.CharField(source="author.username", read_only=True)
    body = serializers.CharField(max_length=10_000)
    created_at = serializers.DateTimeField(read_only=True)


class DiscussionView(ApiViewMixin, APIView):
    """A conflict's discussion: the moderators (and leads) and the evaluators of the item, once the item
    left blind labelling. GET lists the messages, POST {"body"} adds one."""

    permission_classes = [IsProjectMember]
    pagination_class = None  # every message at once: a bare array

    @extend_schema(responses={200: CommentSerializer(many=True)}, summary="Messages of a conflict's discussion")
    def get(self, request, *args, **kwargs):
        _, comments = selectors.discussion_of(project=self.project, item_id=int(kwargs["item_id"]), user=request.user)
        return Response(CommentSerializer(comments, many=True).data)

    @extend_schema(request=CommentSerializer, responses={201: CommentSerializer})
    def post(self, request, *args, **kwargs):
        data = CommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_post(
            project=self.project, item_id=int(kwargs["item_id"]), user=request.user, body=data.validated_data["body"]
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)
