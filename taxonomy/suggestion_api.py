"""The suggestions' REST API, under /api/projects/<slug>/taxonomy/suggestions/.

- GET  leaves?text=…&text=…&top=5&rounds=1-5   → {"suggestions": [{"text", "leaves": [{"name", "path", "score"}]}]}
- GET  merges                                  → {"clusters": [{"labels", "label_ids", "score", "evidence"}]}
- POST merges/accept {"labels": [ids], "evidence"?} → the merge record (the first label is kept)
- POST merges/reject {"labels": [ids]}         → {"rejected": new pairs}
- POST merges/undo   {"merge"?: id}            → the merge record, undone

Moderators and leads only: suggestions are built from decided items and are never shown
to evaluators (blindness). Accepting and undoing use the label merge service (leads).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.base import ApiViewMixin
from core.errors import InvalidInput
from core.permissions import IsLead, IsModerator
from labelling.api.serializers import MAX_ID
from taxonomy import suggestion_selectors as selectors
from taxonomy import suggestion_services as services
from taxonomy.models import LabelMerge
from taxonomy.suggestions.model import parse_rounds

MAX_TEXTS = 500


class LabelsSerializer(serializers.Serializer):
    labels = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=2, max_length=50
    )
    evidence = serializers.ListField(child=serializers.DictField(), required=False)


class UndoSerializer(serializers.Serializer):
    merge = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)


class LabelMergeSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    undone_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = LabelMerge
        fields = ["id", "summary", "target", "evidence", "user", "created_at", "undone_at", "undone_by"]


class SuggestionViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Leaf suggestions for label texts and synonym-merge suggestions (moderators and leads)."""

    pagination_class = None
    serializer_class = LabelsSerializer

    def get_permissions(self):
        return [(IsLead | IsModerator)()]

    @extend_schema(
        summary="The most likely leaves for label texts",
        parameters=[
            OpenApiParameter("text", str, many=True, required=True, description="A label text (repeatable)."),
            OpenApiParameter("top", int, description=f"Suggestions per text, 1–{selectors.MAX_TOP}."),
            OpenApiParameter("rounds", str, description="Use only these rounds' history, e.g. 1-5."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    @action(detail=False, methods=["get"])
    def leaves(self, request, *args, **kwargs):
        texts = [t.strip() for t in request.query_params.getlist("text") if t.strip()]
        if not texts:
            raise InvalidInput("Give at least one text.", field="text")
        if len(texts) > MAX_TEXTS:
            raise InvalidInput(f"At most {MAX_TEXTS} texts at once.", field="text")
        raw_top = request.query_params.get("top") or str(selectors.DEFAULT_TOP)
        if not raw_top.isdecimal() or not 1 <= int(raw_top) <= selectors.MAX_TOP:
            raise InvalidInput(f"top must be between 1 and {selectors.MAX_TOP}.", field="top")
        try:
            rounds = parse_rounds(request.query_params.get("rounds"))
        except ValueError as exc:
            raise InvalidInput(str(exc), field="rounds") from exc
        results = selectors.leaf_suggestions(project=self.project, texts=texts, top=int(raw_top), rounds=rounds)
        return Response(
            {
                "suggestions": [
                    {
                        "text": r["text"],
                        "leaves": [{"name": s["name"], "path": s["path"], "score": s["score"]} for s in r["leaves"]],
                    }
                    for r in results
                ]
            }
        )

    @extend_schema(summary="Clusters of labels likely to be synonyms", responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"])
    def merges(self, request, *args, **kwargs):
        return Response({"clusters": selectors.merge_suggestions(project=self.project)})

    @extend_schema(summary="Accept a merge suggestion", request=LabelsSerializer, responses={200: LabelMergeSerializer})
    @action(detail=False, methods=["post"], url_path="merges/accept")
    def accept(self, request, *args, **kwargs):
        data = self._valid(LabelsSerializer)
        record = services.merge_suggestion_accept(
            project=self.project, user=request.user, label_ids=data["labels"], evidence=data.get("evidence")
        )
        return Response(LabelMergeSerializer(record).data)

    @extend_schema(summary="Reject a merge suggestion for good", request=LabelsSerializer)
    @action(detail=False, methods=["post"], url_path="merges/reject")
    def reject(self, request, *args, **kwargs):
        data = self._valid(LabelsSerializer)
        created = services.merge_suggestion_reject(project=self.project, user=request.user, label_ids=data["labels"])
        return Response({"rejected": created})

    @extend_schema(
        summary="Undo the latest accepted merge", request=UndoSerializer, responses={200: LabelMergeSerializer}
    )
    @action(detail=False, methods=["post"], url_path="merges/undo")
    def undo(self, request, *args, **kwargs):
        data = self._valid(UndoSerializer)
        record = services.label_merge_undo(project=self.project, user=request.user, merge_id=data.get("merge"))
        return Response(LabelMergeSerializer(record).data)

    def _valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data
