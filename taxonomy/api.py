"""The taxonomy builder's REST API: everything the page does, under the same rules.

Under /api/projects/<slug>/taxonomy/: the tree with counts (filters `source`, `round`,
search `q`), files (export and import), nodes (create, rename/describe, move, merge,
delete), leaves (attach labels, move, detach), unmapped labels, categories per round
with saturation, the change history with undo, and comparisons with their coverage.

Members read; leads and moderators write (`core.permissions`); non-members get 404. An import
runs as a background job (the answer is 202 with the job to poll; its starter and the leads see it).
Input serializers check the shape; the services enforce the rules and answer 4xx naming
the field (DomainError → `labelling.api.errors`).
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.base import ApiPagination, ApiViewMixin
from core.api.parsers import JSONParser
from core.api.schema import ObjectListSchema
from core.api.serializers import JobSerializer
from core.errors import InvalidInput
from core.markdown import render_markdown
from core.permissions import IsLead, IsModerator, IsProjectMember
from core.uploads import read_upload
from labelling import selectors as labelling_selectors
from labelling.models import Round
from taxonomy import exports, selectors, services
from taxonomy.models import Comparison, TaxonomyChange

MAX_IDS = 10_000
ROUND = {"min_value": 1, "max_value": 2**31 - 1}


# --- serializers ------------------------------------------------------------------------------


class FilterQuerySerializer(serializers.Serializer):
    source = serializers.MultipleChoiceField(
        choices=selectors.SOURCE_CHOICES,
        required=False,
        help_text="Count only these sources (repeatable): artefact kinds and/or `interviews`.",
    )
    round = serializers.IntegerField(required=False, help_text="Count only artefacts of this round.", **ROUND)
    q = serializers.CharField(required=False, max_length=200, help_text="Search names, codes and descriptions.")


class ExportQuerySerializer(FilterQuerySerializer):
    # Not `format`: DRF reserves that parameter for choosing a renderer.
    file_format = serializers.ChoiceField(choices=exports.FORMATS, default="json")


class EntrySerializer(serializers.Serializer):
    """A category or a leaf with its counts (NN = distinct relevant artefacts, MM = interview instances)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["node", "leaf"])
    name = serializers.CharField(help_text="As entered; escape when rendering.")
    code = serializers.CharField()
    description = serializers.CharField()
    parent = serializers.IntegerField(source="parent_id", allow_null=True, help_text="The category above.")
    level = serializers.IntegerField(source="depth", help_text="Depth: 1 for top-level categories.")
    round = serializers.IntegerField(source="round_number", allow_null=True, help_text="Round created in.")
    first_round = serializers.IntegerField(allow_null=True, help_text="First round with an artefact in it.")
    label = serializers.IntegerField(source="label_id", allow_null=True, help_text="Leaves: the label's id.")
    artefact_count = serializers.IntegerField()
    interview_count = serializers.IntegerField()
    matches = serializers.BooleanField(source="match", help_text="Matches the search `q`.")


class TreeEntrySerializer(EntrySerializer):
    children = serializers.SerializerMethodField(help_text="Sub-categories then leaves (same shape); [] for leaves.")

    @staticmethod
    def get_children(entry) -> list[dict]:
        return [] if entry.is_leaf else [TreeEntrySerializer(item).data for item in entry.items if item.visible]


class UnmappedSerializer(serializers.Serializer):
    label = serializers.IntegerField(source="label_id", allow_null=True, help_text="None for an interview-only tag.")
    name = serializers.CharField()
    artefact_count = serializers.IntegerField()
    interview_count = serializers.IntegerField()
    first_round = serializers.IntegerField(allow_null=True)


class TreeSerializer(serializers.Serializer):
    nodes = TreeEntrySerializer(many=True, help_text="Top-level categories.")
    unmapped = UnmappedSerializer(many=True)
    artefact_total = serializers.IntegerField(help_text="Distinct relevant artefacts in the whole taxonomy.")
    interview_total = serializers.IntegerField()


class NodeCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=500)
    parent = serializers.IntegerField(required=False, allow_null=True, help_text="None: a top-level category.")
    code = serializers.CharField(required=False, allow_blank=True, max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    round = serializers.IntegerField(
        required=False, help_text="Round created in (default: the current round).", **ROUND
    )


class NodeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=500)
    code = serializers.CharField(required=False, allow_blank=True, max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    round = serializers.IntegerField(
        required=False, allow_null=True, help_text="Round created in; null: none.", **ROUND
    )


class NodeMoveSerializer(serializers.Serializer):
    parent = serializers.IntegerField(allow_null=True, help_text="The new parent; null moves to the top level.")


class NodeMergeSerializer(serializers.Serializer):
    target = serializers.IntegerField(help_text="The category that absorbs this one.")


class LeafAttachSerializer(serializers.Serializer):
    node = serializers.IntegerField()
    label_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=MAX_IDS)
    names = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, max_length=MAX_IDS, help_text="Label texts."
    )
    round = serializers.IntegerField(required=False, help_text="Default: the label's first round.", **ROUND)

    def validate(self, data):
        if not data.get("label_ids") and not data.get("names"):
            raise serializers.ValidationError({"label_ids": ["Give label_ids or names."]})
        return data


class LeafMoveSerializer(serializers.Serializer):
    node = serializers.IntegerField()


class ChangeSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", default=None, allow_null=True)
    undone_by = serializers.CharField(source="undone_by.username", default=None, allow_null=True)

    class Meta:
        model = TaxonomyChange
        fields = ["id", "action", "summary", "user", "created_at", "undone_at", "undone_by"]


class RoundCategoriesSerializer(serializers.Serializer):
    round = serializers.IntegerField(source="number", allow_null=True, help_text="Null: categories without a round.")
    new_inner = serializers.ListField(child=serializers.IntegerField(), help_text="New inner categories per level.")
    new_leaves = serializers.IntegerField()


class CumulativeSerializer(serializers.Serializer):
    round = serializers.IntegerField(source="number")
    inner = serializers.IntegerField()
    leaves = serializers.IntegerField()


class RoundStatsSerializer(serializers.Serializer):
    rows = RoundCategoriesSerializer(many=True)
    saturation_round = serializers.IntegerField(allow_null=True, help_text="First round adding no inner category.")
    cumulative = CumulativeSerializer(many=True)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The JSON export, an outline CSV/XLSX with code,name, or a REFI-QDA codebook (.qdc, .qdpx)."
    )


class CountSerializer(serializers.Serializer):
    changed = serializers.IntegerField()


class ComparisonClassSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()
    description = serializers.CharField()
    node_ids = serializers.ListField(child=serializers.IntegerField())
    leaf_ids = serializers.ListField(child=serializers.IntegerField())


class ComparisonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Comparison
        fields = ["id", "name", "kind", "description", "created_at"]


class ComparisonDetailSerializer(ComparisonSerializer):
    classes = serializers.SerializerMethodField()

    class Meta(ComparisonSerializer.Meta):
        fields = [*ComparisonSerializer.Meta.fields, "classes"]

    @staticmethod
    def get_classes(obj) -> list[dict]:
        return [class_data(c) for c in obj.classes.prefetch_related("nodes", "leaves")]


class ComparisonWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=500)
    kind = serializers.ChoiceField(choices=Comparison.Kind.choices, default=Comparison.Kind.TAXONOMY)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    classes = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, help_text="Class or operator names."
    )


class ComparisonUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=500)
    kind = serializers.ChoiceField(choices=Comparison.Kind.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)


class ClassesAddSerializer(serializers.Serializer):
    names = serializers.ListField(child=serializers.CharField(max_length=500), min_length=1, max_length=MAX_IDS)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)


class ClassUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, max_length=500)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    node_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=MAX_IDS)
    leaf_ids = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=MAX_IDS)


class CoverageEntrySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["node", "leaf"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.IntegerField()
    classes = serializers.ListField(child=serializers.CharField(), help_text="Classes mapped directly onto it.")
    reached = serializers.BooleanField(help_text="Mapped directly or through something inside it.")


class CoverageSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    reached = serializers.IntegerField()
    percent = serializers.IntegerField()
    entries = CoverageEntrySerializer(many=True)
    unreached = CoverageEntrySerializer(many=True, help_text="Categories and leaves no class reaches.")
    unmapped_classes = serializers.ListField(child=serializers.CharField())


def class_data(cls) -> dict:
    return {
        "id": cls.id,
        "name": cls.name,
        "description": cls.description,
        "node_ids": sorted(n.id for n in cls.nodes.all()),
        "leaf_ids": sorted(leaf.id for leaf in cls.leaves.all()),
    }


# --- views -----------------------------------------------------------------------------------


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class TaxonomyApiMixin(ApiViewMixin):
    """Members read, leads and moderators write; the taxonomy is small, so lists are not paginated."""

    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_permissions(self):
        if self.request is not None and self.request.method in SAFE_METHODS:
            return [IsProjectMember()]
        return [(IsLead | IsModerator)()]

    def filters(self):
        params = self.query_params(FilterQuerySerializer)
        return selectors.Filters(
            sources=frozenset(params["source"]) if params.get("source") else None,
            round_number=params.get("round"),
        ), params.get("q", "")

    def tree(self):
        filters, q = self.filters()
        if filters.round_number is not None:
            selectors.filters_from_params({"round": filters.round_number}, project=self.project)
        return selectors.tree_build(self.project, filters=filters, q=q)


FILTER_PARAMS = [FilterQuerySerializer]
IMPORT_BODY_NAME = "taxonomy.json"  # the job's name for a JSON export sent as the request body


def _document_bytes(document: dict) -> bytes:
    """A JSON export sent as the body, as the bytes the import job reads (its shape checked here)."""
    if not isinstance(document.get("nodes"), list):
        raise InvalidInput('Expected a JSON object with a "nodes" list.', field="nodes")
    try:
        return json.dumps(document).encode()
    except (RecursionError, ValueError):
        raise InvalidInput("Not a JSON document: nested too deeply.", field="nodes") from None


@extend_schema_view(
    list=extend_schema(summary="The taxonomy with counts", parameters=FILTER_PARAMS, responses={200: TreeSerializer}),
)
class TaxonomyViewSet(TaxonomyApiMixin, viewsets.GenericViewSet):
    """The whole tree, files, unmapped labels, categories per round and the recount of rounds."""

    serializer_class = TreeSerializer
    schema = ObjectListSchema()  # `list` answers the tree (one object), not an array

    def list(self, request, *args, **kwargs):
        tree = self.tree()
        data = {
            "nodes": [root for root in tree.roots if root.visible],
            "unmapped": selectors.unmapped_labels(self.project, tree.filters),
            "artefact_total": tree.artefact_total,
            "interview_total": tree.interview_total,
        }
        return Response(TreeSerializer(data).data)

    @extend_schema(
        summary="Download the taxonomy as JSON, CSV or SVG",
        parameters=[ExportQuerySerializer],
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "image/svg+xml"): OpenApiTypes.STR,
        },
    )
    @action(detail=False, methods=["get"])
    def export(self, request, *args, **kwargs):
        params = self.query_params(ExportQuerySerializer)
        tree = self.tree()
        fmt = params["file_format"]
        body = exports.export(self.project, fmt, filters=tree.filters)
        response = HttpResponse(body, content_type=exports.CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{exports.filename(self.project, fmt)}"'
        return response

    @extend_schema(
        summary="Import the JSON export, an outline CSV or a REFI-QDA codebook (lead or moderator)",
        description=(
            "Multipart `file` (the JSON export, an outline CSV/XLSX `code,name`, a REFI-QDA .qdc or .qdpx), or "
            'the JSON export itself as the request body (`{"nodes": [...]}`, imported as `taxonomy.json`). '
            "The upload is checked (size, a .qdpx's unpacked size, a CSV's columns and cells) and read in a "
            "background job; the answer is 202 with the job, whose `url` to poll until its `status` is done "
            "(its `report` is the import's: `format`, the categories and leaves created, skipped rows) or "
            "failed (its `error` names the file and what is wrong; nothing was imported)."
        ),
        request={"multipart/form-data": ImportUploadSerializer, "application/json": OpenApiTypes.OBJECT},
        responses={202: JobSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser, JSONParser])
    def import_file(self, request, *args, **kwargs):
        upload = request.FILES.get("file")
        if upload is not None:
            filename, data = upload.name, read_upload(upload, kind="taxonomy")
        elif isinstance(request.data, dict) and "nodes" in request.data:
            filename, data = IMPORT_BODY_NAME, _document_bytes(request.data)
        else:
            raise InvalidInput("Send a file, or the JSON export as the request body.", field="file")
        job = services.taxonomy_import_start(project=self.project, user=request.user, filename=filename, data=data)
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Labels no leaf carries yet", parameters=FILTER_PARAMS, responses={200: UnmappedSerializer(many=True)}
    )
    @action(detail=False, methods=["get"])
    def unmapped(self, request, *args, **kwargs):
        filters, _ = self.filters()
        return Response(UnmappedSerializer(selectors.unmapped_labels(self.project, filters), many=True).data)

    @extend_schema(
        summary="New categories per round, saturation and cumulative totals", responses={200: RoundStatsSerializer}
    )
    @action(detail=False, methods=["get"])
    def rounds(self, request, *args, **kwargs):
        rows = selectors.new_categories_by_round(self.project)
        saturation = selectors.saturation_round(rows)
        data = {
            "rows": rows,
            "saturation_round": saturation.number if saturation else None,
            "cumulative": selectors.cumulative_categories(rows),
        }
        return Response(RoundStatsSerializer(data).data)

    @extend_schema(
        summary="Date each category from its first round with an artefact",
        request=None,
        responses={200: CountSerializer},
    )
    @action(detail=False, methods=["post"], url_path="rounds/from-evidence")
    def rounds_from_evidence(self, request, *args, **kwargs):
        changed = services.taxonomy_rounds_from_evidence(project=self.project, user=request.user)
        return Response({"changed": changed})


@extend_schema_view(
    list=extend_schema(summary="Every category, flat, with counts", parameters=FILTER_PARAMS),
    retrieve=extend_schema(summary="One category with its counts", parameters=FILTER_PARAMS),
    create=extend_schema(summary="Create a category", request=NodeCreateSerializer, responses={201: EntrySerializer}),
    partial_update=extend_schema(
        summary="Rename, describe, re-code or re-date a category",
        request=NodeUpdateSerializer,
        responses={200: EntrySerializer},
    ),
    destroy=extend_schema(summary="Delete an empty category", responses={204: None}),
)
class NodeViewSet(TaxonomyApiMixin, viewsets.GenericViewSet):
    serializer_class = EntrySerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _entry(self, node_id):
        tree = self.tree()
        entry = tree.nodes.get(int(node_id))
        if entry is None:
            selectors.node_get(self.project, node_id)  # raises NotFound
        return entry

    def list(self, request, *args, **kwargs):
        tree = self.tree()
        entries = [e for e in tree.walk() if not e.is_leaf and e.visible]
        return Response(EntrySerializer(entries, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(EntrySerializer(self._entry(kwargs["pk"])).data)

    def create(self, request, *args, **kwargs):
        data = _valid(NodeCreateSerializer, request.data)
        node = services.node_create(
            project=self.project,
            user=request.user,
            name=data["name"],
            parent=data.get("parent"),
            code=data.get("code", ""),
            description=data.get("description", ""),
            round=data.get("round", services._UNSET),
        )
        return Response(EntrySerializer(self._entry(node.id)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = _valid(NodeUpdateSerializer, request.data)
        node = selectors.node_get(self.project, kwargs["pk"])
        services.node_update(
            node=node,
            user=request.user,
            name=data.get("name"),
            description=data.get("description"),
            code=data.get("code"),
            round=data.get("round", services._UNSET),
        )
        return Response(EntrySerializer(self._entry(node.id)).data)

    def destroy(self, request, *args, **kwargs):
        services.node_delete(node=selectors.node_get(self.project, kwargs["pk"]), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Move a category (and its subtree)", request=NodeMoveSerializer, responses={200: EntrySerializer}
    )
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        data = _valid(NodeMoveSerializer, request.data)
        node = selectors.node_get(self.project, kwargs["pk"])
        services.node_move(node=node, user=request.user, parent=data["parent"])
        return Response(EntrySerializer(self._entry(node.id)).data)

    @extend_schema(
        summary="Merge this category into another (children and leaves move; counts add up)",
        request=NodeMergeSerializer,
        responses={200: EntrySerializer},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, *args, **kwargs):
        data = _valid(NodeMergeSerializer, request.data)
        source = selectors.node_get(self.project, kwargs["pk"], field_name="source")
        target = selectors.node_get(self.project, data["target"], field_name="target")
        target = services.node_merge(source=source, target=target, user=request.user)
        return Response(EntrySerializer(self._entry(target.id)).data)


@extend_schema_view(
    list=extend_schema(summary="Every leaf, flat, with counts", parameters=FILTER_PARAMS),
    retrieve=extend_schema(summary="One leaf with its counts", parameters=FILTER_PARAMS),
    create=extend_schema(
        summary="Attach labels to a category as leaves",
        request=LeafAttachSerializer,
        responses={201: EntrySerializer(many=True)},
    ),
    destroy=extend_schema(summary="Detach a leaf (its label becomes unmapped again)", responses={204: None}),
)
class LeafViewSet(TaxonomyApiMixin, viewsets.GenericViewSet):
    serializer_class = EntrySerializer
    http_method_names = ["get", "post", "delete", "head", "options"]

    def _entry(self, leaf_id, tree=None):
        tree = tree or self.tree()
        entry = tree.leaves.get(int(leaf_id))
        if entry is None:
            selectors.leaf_get(self.project, leaf_id)
        return entry

    def list(self, request, *args, **kwargs):
        tree = self.tree()
        return Response(EntrySerializer([e for e in tree.walk() if e.is_leaf and e.visible], many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(EntrySerializer(self._entry(kwargs["pk"])).data)

    def create(self, request, *args, **kwargs):
        data = _valid(LeafAttachSerializer, request.data)
        labels = [*data.get("label_ids", []), *(f"name:{n}" for n in data.get("names", []))]
        node = selectors.node_get(self.project, data["node"])
        leaves = services.leaf_attach(
            project=self.project, user=request.user, node=node, labels=labels, round=data.get("round", services._UNSET)
        )
        tree = self.tree()
        return Response(
            EntrySerializer([self._entry(leaf.id, tree) for leaf in leaves], many=True).data,
            status=status.HTTP_201_CREATED,
        )

    def destroy(self, request, *args, **kwargs):
        services.leaf_detach(leaf=selectors.leaf_get(self.project, kwargs["pk"]), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Move a leaf under another category", request=LeafMoveSerializer, responses={200: EntrySerializer}
    )
    @action(detail=True, methods=["post"])
    def move(self, request, *args, **kwargs):
        data = _valid(LeafMoveSerializer, request.data)
        leaf = selectors.leaf_get(self.project, kwargs["pk"])
        services.leaf_move(leaf=leaf, user=request.user, node=data["node"])
        return Response(EntrySerializer(self._entry(leaf.id)).data)


@extend_schema_view(list=extend_schema(summary="Who changed what, newest first"))
class ChangeViewSet(TaxonomyApiMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = ChangeSerializer
    queryset = TaxonomyChange.objects.none()

    pagination_class = ApiPagination

    def get_queryset(self):
        return selectors.change_history(project=self.project)

    @extend_schema(summary="Undo the latest change", request=None, responses={200: ChangeSerializer})
    @action(detail=False, methods=["post"])
    def undo(self, request, *args, **kwargs):
        change = services.change_undo(project=self.project, user=request.user)
        return Response(ChangeSerializer(change).data)


@extend_schema_view(
    list=extend_schema(summary="Comparisons with other taxonomies or mutation operators"),
    retrieve=extend_schema(summary="A comparison with its classes and their mappings"),
    create=extend_schema(request=ComparisonWriteSerializer, responses={201: ComparisonDetailSerializer}),
    partial_update=extend_schema(request=ComparisonUpdateSerializer, responses={200: ComparisonDetailSerializer}),
    destroy=extend_schema(responses={204: None}),
)
class ComparisonViewSet(TaxonomyApiMixin, viewsets.GenericViewSet):
    serializer_class = ComparisonDetailSerializer
    queryset = Comparison.objects.none()
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_object(self):
        return selectors.comparison_get(self.project, self.kwargs["pk"])

    @extend_schema(responses={200: ComparisonSerializer(many=True)})
    def list(self, request, *args, **kwargs):
        return Response(ComparisonSerializer(selectors.comparison_list(self.project), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(ComparisonDetailSerializer(self.get_object()).data)

    def create(self, request, *args, **kwargs):
        data = _valid(ComparisonWriteSerializer, request.data)
        comparison = services.comparison_create(
            project=self.project,
            user=request.user,
            name=data["name"],
            kind=data["kind"],
            description=data.get("description", ""),
        )
        if data.get("classes"):
            services.comparison_classes_add(comparison=comparison, user=request.user, names=data["classes"])
        return Response(ComparisonDetailSerializer(comparison).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = _valid(ComparisonUpdateSerializer, request.data)
        comparison = services.comparison_update(comparison=self.get_object(), user=request.user, **data)
        return Response(ComparisonDetailSerializer(comparison).data)

    def destroy(self, request, *args, **kwargs):
        services.comparison_delete(comparison=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Which categories and leaves the classes reach", responses={200: CoverageSerializer})
    @action(detail=True, methods=["get"])
    def coverage(self, request, *args, **kwargs):
        coverage = selectors.comparison_coverage(self.get_object(), selectors.tree_build(self.project))

        def row(entry):
            return {
                "kind": entry.kind,
                "id": entry.id,
                "name": entry.name,
                "level": entry.depth,
                "classes": [c.name for c in coverage.direct.get(entry.key, [])],
                "reached": entry.key in coverage.reached,
            }

        data = {
            "total": coverage.total,
            "reached": coverage.reached_count,
            "percent": coverage.percent,
            "entries": [row(e) for e in coverage.entries],
            "unreached": [row(e) for e in coverage.unreached],
            "unmapped_classes": [c.name for c in coverage.unmapped_classes],
        }
        return Response(CoverageSerializer(data).data)

    @extend_schema(
        summary="Add classes (operators) by name",
        request=ClassesAddSerializer,
        responses={201: ComparisonDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def classes(self, request, *args, **kwargs):
        data = _valid(ClassesAddSerializer, request.data)
        comparison = self.get_object()
        services.comparison_classes_add(
            comparison=comparison, user=request.user, names=data["names"], description=data.get("description", "")
        )
        return Response(ComparisonDetailSerializer(comparison).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a class or set what it maps onto (empty lists: unmapped)",
        request=ClassUpdateSerializer,
        responses={200: ComparisonClassSerializer},
        parameters=[OpenApiParameter("class_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["patch"], url_path=r"classes/(?P<class_id>\d+)")
    def class_update(self, request, *args, **kwargs):
        data = _valid(ClassUpdateSerializer, request.data)
        cls = selectors.comparison_class_get(self.get_object(), kwargs["class_id"])
        cls = services.comparison_class_update(cls=cls, user=request.user, **data)
        return Response(class_data(cls))

    @extend_schema(
        summary="Remove a class",
        request=None,
        responses={204: OpenApiResponse(description="Removed.")},
        parameters=[OpenApiParameter("class_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
    )
    @class_update.mapping.delete
    def class_delete(self, request, *args, **kwargs):
        cls = selectors.comparison_class_get(self.get_object(), kwargs["class_id"])
        services.comparison_class_delete(cls=cls, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the codebook (issue 9) ----------------------------------------------------------------------


class CodebookView(ApiViewMixin, APIView):
    """GET /api/projects/<slug>/codebook/: guidelines, round instructions, categories with descriptions
    and examples, and the labels the requester may see (catalogue, decided, their own: blind)."""

    permission_classes = [IsProjectMember]

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="The project's codebook (blind)")
    def get(self, request, *args, **kwargs):
        project = self.project
        rounds = Round.objects.filter(project=project).order_by("number")
        labels = labelling_selectors.labels_visible(project=project, user=request.user)
        return Response(
            {
                "guidelines": project.guidelines,
                "guidelines_html": render_markdown(project.guidelines),
                "rounds": [
                    {
                        "number": r.number,
                        "name": str(r),
                        "status": r.status,
                        "instructions": r.instructions,
                        "instructions_html": render_markdown(r.instructions),
                    }
                    for r in rounds
                ],
                "categories": [
                    {k: c[k] for k in ("id", "parent_id", "code", "name", "description", "examples", "depth")}
                    for c in selectors.codebook_categories(project=project)
                ],
                "labels": [
                    {
                        "id": label.id,
                        "name": label.name,
                        "description": label.description,
                        "examples": label.examples,
                        "in_catalogue": label.in_catalogue,
                    }
                    for label in labels
                ],
            }
        )
