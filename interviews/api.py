"""REST API for interviews, under /api/projects/<slug>/interviews/…

Thin views: serializers check the shape of input, services enforce the rules, selectors
read. Non-members get 404, members without the role 403 (DomainErrors turned into 4xx by
`labelling.api.errors`). The same blindness as the pages: an evaluator gets only their own
fragments until both evaluators of the interview are done.
"""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.authentication import ProjectTokenAuthentication
from core.api.parsers import JSONParser
from core.api.schema import paginated
from core.api.serializers import JobSerializer
from core.errors import InvalidInput, NotFound
from core.selectors import project_for_member
from core.uploads import read_upload
from interviews import exports, selectors, services
from interviews.models import FinalTag, Fragment, Interview, InterviewCoder, Piece

# --- serializers ---------------------------------------------------------------------------------


class CoderSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = InterviewCoder
        fields = ["user", "username", "role", "slot", "done_at"]


class InterviewSerializer(serializers.ModelSerializer):
    has_transcript = serializers.BooleanField(read_only=True)
    coders = CoderSerializer(many=True, read_only=True)
    pieces = serializers.IntegerField(source="n_pieces", read_only=True)
    final_tags = serializers.IntegerField(source="n_final", read_only=True)
    accepted = serializers.IntegerField(source="n_accepted", read_only=True)
    removed = serializers.IntegerField(source="n_removed", read_only=True)

    class Meta:
        model = Interview
        fields = [
            "id",
            "number",
            "title",
            "interviewee_profile",
            "interviewers",
            "date",
            "duration",
            "stage",
            "coding_source",
            "has_transcript",
            "transcript_filename",
            "speakers",
            "coders",
            "pieces",
            "final_tags",
            "accepted",
            "removed",
        ]


class ParagraphSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    speaker = serializers.CharField()
    speaker_note = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    start_time = serializers.FloatField(allow_null=True)
    text = serializers.CharField()


class InterviewDetailSerializer(serializers.ModelSerializer):
    coders = CoderSerializer(many=True, read_only=True)
    paragraphs = serializers.SerializerMethodField()
    text = serializers.CharField(read_only=True)

    class Meta:
        model = Interview
        fields = [
            "id",
            "number",
            "title",
            "interviewee_profile",
            "interviewers",
            "date",
            "duration",
            "stage",
            "coding_source",
            "transcript_filename",
            "transcript_format",
            "speakers",
            "metadata",
            "coders",
            "text",
            "paragraphs",
        ]

    @extend_schema_field(ParagraphSerializer(many=True))
    def get_paragraphs(self, interview) -> list[dict]:
        return ParagraphSerializer(selectors.paragraphs(interview=interview), many=True).data


class FragmentSerializer(serializers.ModelSerializer):
    evaluator = serializers.CharField(source="coder.user.username", read_only=True)
    slot = serializers.IntegerField(source="coder.slot", read_only=True)

    class Meta:
        model = Fragment
        fields = [
            "id",
            "evaluator",
            "slot",
            "start",
            "end",
            "quote",
            "tag",
            "note",
            "piece",
            "created_at",
            "updated_at",
        ]


class FinalTagSerializer(serializers.ModelSerializer):
    interview = serializers.IntegerField(source="interview.number", read_only=True)
    piece_position = serializers.IntegerField(source="piece.position", read_only=True)

    class Meta:
        model = FinalTag
        fields = ["id", "interview", "piece", "piece_position", "text", "status", "leaf", "history", "reviewed_at"]


class PieceSerializer(serializers.ModelSerializer):
    fragments = FragmentSerializer(many=True, read_only=True)
    final_tag = serializers.SerializerMethodField()

    class Meta:
        model = Piece
        fields = [
            "id",
            "position",
            "kind",
            "evaluator1_tag",
            "evaluator2_tag",
            "start",
            "end",
            "decision",
            "moderator_tag",
            "moderator_note",
            "final_tag",
            "fragments",
        ]

    def get_final_tag(self, piece) -> dict | None:
        final = getattr(piece, "final_tag", None)
        return {"id": final.id, "text": final.text, "status": final.status, "leaf": final.leaf_id} if final else None


class UploadInput(serializers.Serializer):
    file = serializers.FileField(required=False)
    number = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    replace = serializers.BooleanField(required=False, default=False)
    title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    interviewee_profile = serializers.CharField(required=False, allow_blank=True)
    interviewers = serializers.CharField(required=False, allow_blank=True, max_length=500)
    date = serializers.CharField(required=False, allow_blank=True)
    duration = serializers.CharField(required=False, allow_blank=True)


class DetailsInput(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    interviewee_profile = serializers.CharField(required=False, allow_blank=True)
    interviewers = serializers.CharField(required=False, allow_blank=True, max_length=500)
    date = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    duration = serializers.CharField(required=False, allow_blank=True, allow_null=True)


class CodersInput(serializers.Serializer):
    moderator = serializers.IntegerField(help_text="User id of the moderator")
    evaluator1 = serializers.IntegerField(help_text="User id of evaluator 1")
    evaluator2 = serializers.IntegerField(help_text="User id of evaluator 2")


class FragmentInput(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    tag = serializers.CharField(allow_blank=True, trim_whitespace=False)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class FragmentUpdateInput(serializers.Serializer):
    start = serializers.IntegerField(required=False)
    end = serializers.IntegerField(required=False)
    tag = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class KeepInput(serializers.Serializer):
    moderator_tag = serializers.CharField(allow_blank=True)
    final_tag = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class FinalTagInput(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(required=False)


class PlaceInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    leaf = serializers.IntegerField(required=False, allow_null=True)
    node = serializers.IntegerField(required=False, allow_null=True)


class SheetInput(serializers.Serializer):
    file = serializers.FileField()


# --- base ---------------------------------------------------------------------------------------------


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class InterviewApi(APIView):
    authentication_classes = [ProjectTokenAuthentication, SessionAuthentication]  # named tokens too
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    roles: tuple[str, ...] = ()

    def member(self, slug, roles=()):
        return project_for_member(slug=slug, user=self.request.user, roles=roles)

    def interview(self, project, number):
        return selectors.interview_get(project=project, number=number)

    @staticmethod
    def valid(serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @staticmethod
    def in_project(model, object_id, project):
        return selectors.interview_part_get(model=model, object_id=object_id, project=project)


# --- interviews -------------------------------------------------------------------------------------------


class InterviewList(InterviewApi):
    @extend_schema(
        summary="Interviews of the project",
        parameters=[
            OpenApiParameter("q", str, description="Search number, title, profile, interviewers"),
            OpenApiParameter("stage", str, enum=Interview.Stage.values),
        ],
        responses=paginated(InterviewSerializer),
        operation_id="projects_interviews_list",
    )
    def get(self, request, project_slug):
        project, _ = self.member(project_slug)
        qs = selectors.interview_list(
            project=project, query=request.query_params.get("q", ""), stage=request.query_params.get("stage", "")
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(InterviewSerializer(page, many=True).data)

    @extend_schema(
        summary="Upload a transcript (multipart: file + details), or create a record without one (lead)",
        description=(
            "With a file: the upload is checked (size, a DOCX's unpacked size, number, details) and parsed in a "
            "background job; the answer is 202 with the job, whose `url` to poll until its `status` is done (its "
            "`report` names the interview) or failed (its `error` names the file and what is wrong). Without a "
            "file: 201 with the new interview record."
        ),
        request={"multipart/form-data": UploadInput},
        responses={201: InterviewDetailSerializer, 202: JobSerializer},
    )
    def post(self, request, project_slug):
        project, _ = self.member(project_slug, roles=("lead",))
        data = self.valid(UploadInput, request.data)
        upload = data.pop("file", None)
        if upload is not None:
            job = services.interview_upload_start(
                project=project,
                user=request.user,
                filename=upload.name,
                data=read_upload(upload, kind="interview"),
                **data,
            )
            return Response(JobSerializer(job, context={"request": request}).data, status=202)
        interview = services.interview_create(project=project, user=request.user, **data)
        return Response(InterviewDetailSerializer(interview).data, status=201)


class InterviewDetail(InterviewApi):
    @extend_schema(
        summary="An interview with its transcript, paragraphs and coders", responses=InterviewDetailSerializer
    )
    def get(self, request, project_slug, number):
        project, _ = self.member(project_slug)
        return Response(InterviewDetailSerializer(self.interview(project, number)).data)

    @extend_schema(summary="Delete an interview nobody has coded yet (lead)", responses={204: None})
    def delete(self, request, project_slug, number):
        project, _ = self.member(project_slug, roles=("lead",))
        services.interview_delete(interview_id=self.interview(project, number).id, user=request.user)
        return Response(status=204)

    @extend_schema(summary="Edit the details (lead)", request=DetailsInput, responses=InterviewDetailSerializer)
    def patch(self, request, project_slug, number):
        project, _ = self.member(project_slug, roles=("lead",))
        interview = self.interview(project, number)
        data = self.valid(DetailsInput, request.data)
        interview = services.interview_update(interview_id=interview.id, user=request.user, **data)
        return Response(InterviewDetailSerializer(interview).data)


class Coders(InterviewApi):
    @extend_schema(
        summary="Name the moderator and the two evaluators (lead)",
        request=CodersInput,
        responses=CoderSerializer(many=True),
    )
    def put(self, request, project_slug, number):
        project, _ = self.member(project_slug, roles=("lead",))
        interview = self.interview(project, number)
        data = self.valid(CodersInput, request.data)
        coders = services.interview_coders_set(
            interview_id=interview.id,
            user=request.user,
            moderator_id=data["moderator"],
            evaluator1_id=data["evaluator1"],
            evaluator2_id=data["evaluator2"],
        )
        return Response(CoderSerializer(coders, many=True).data)


class Fragments(InterviewApi):
    @extend_schema(
        summary="Fragments visible to you (only your own until both evaluators are done)",
        responses=FragmentSerializer(many=True),
    )
    def get(self, request, project_slug, number):
        project, _ = self.member(project_slug)
        interview = self.interview(project, number)
        return Response(
            FragmentSerializer(selectors.visible_fragments(interview=interview, user=request.user), many=True).data
        )

    @extend_schema(
        summary="Tag [start, end) of the transcript (evaluators)",
        request=FragmentInput,
        responses={201: FragmentSerializer},
    )
    def post(self, request, project_slug, number):
        project, _ = self.member(project_slug)
        interview = self.interview(project, number)
        data = self.valid(FragmentInput, request.data)
        fragment = services.fragment_create(interview_id=interview.id, user=request.user, **data)
        return Response(FragmentSerializer(fragment).data, status=201)


class FragmentDetail(InterviewApi):
    def fragment(self, project, number, fragment_id):
        return selectors.fragment_get(project=project, number=number, fragment_id=fragment_id)

    @extend_schema(
        summary="Change your fragment's tag, note or span", request=FragmentUpdateInput, responses=FragmentSerializer
    )
    def patch(self, request, project_slug, number, fragment_id):
        project, _ = self.member(project_slug)
        fragment = self.fragment(project, number, fragment_id)
        data = self.valid(FragmentUpdateInput, request.data)
        fragment = services.fragment_update(fragment_id=fragment.id, user=request.user, **data)
        return Response(FragmentSerializer(fragment).data)

    @extend_schema(summary="Remove your fragment", responses={204: None})
    def delete(self, request, project_slug, number, fragment_id):
        project, _ = self.member(project_slug)
        fragment = self.fragment(project, number, fragment_id)
        services.fragment_delete(fragment_id=fragment.id, user=request.user)
        return Response(status=204)


DoneResponse = inline_serializer(
    "InterviewDoneResult", {"number": serializers.IntegerField(), "stage": serializers.CharField()}
)


class Done(InterviewApi):
    @extend_schema(summary="Mark the interview done (evaluators)", request=None, responses=DoneResponse)
    def post(self, request, project_slug, number):
        project, _ = self.member(project_slug)
        interview = services.coding_done(interview_id=self.interview(project, number).id, user=request.user)
        return Response({"number": interview.number, "stage": interview.stage})

    @extend_schema(
        summary="Reopen your coding while the other evaluator is not done",
        request=None,
        responses={200: DoneResponse},  # a DELETE that answers the interview's stage, not 204
    )
    def delete(self, request, project_slug, number):
        project, _ = self.member(project_slug)
        interview = services.coding_reopen(interview_id=self.interview(project, number).id, user=request.user)
        return Response({"number": interview.number, "stage": interview.stage})


class Pieces(InterviewApi):
    @extend_schema(
        summary="Tagged pieces with both evaluators' fragments (after both are done)",
        responses=PieceSerializer(many=True),
    )
    def get(self, request, project_slug, number):
        project, _ = self.member(project_slug)
        interview = self.interview(project, number)
        return Response(PieceSerializer(selectors.moderation_pieces(interview=interview), many=True).data)


class PieceAction(InterviewApi):
    verb = "keep"

    @extend_schema(
        summary="Keep a piece with a moderator tag, or do not keep it (the interview's moderator)",
        request=KeepInput,
        responses=PieceSerializer,
    )
    def post(self, request, project_slug, piece_id):
        project, _ = self.member(project_slug)
        piece = self.in_project(Piece, piece_id, project)
        if self.verb == "keep":
            data = self.valid(KeepInput, request.data)
            services.piece_keep(
                piece_id=piece.id,
                user=request.user,
                moderator_tag=data["moderator_tag"],
                final_tag=data.get("final_tag") or None,
                note=data.get("note"),
            )
        else:
            services.piece_discard(piece_id=piece.id, user=request.user, note=request.data.get("note"))
        fresh = selectors.moderation_pieces(interview=piece.interview_id).get(id=piece.id)
        return Response(PieceSerializer(fresh).data)


class FinalTags(InterviewApi):
    @extend_schema(
        summary="Final tags of the project",
        parameters=[
            OpenApiParameter("status", str, enum=FinalTag.Status.values),
            OpenApiParameter("interview", int),
            OpenApiParameter("q", str),
        ],
        responses=paginated(FinalTagSerializer),
    )
    def get(self, request, project_slug):
        project, _ = self.member(project_slug)
        number = request.query_params.get("interview")
        status = request.query_params.get("status") or ""
        if status and status not in FinalTag.Status.values:
            raise InvalidInput(f"Unknown status; choose one of {', '.join(FinalTag.Status.values)}.", field="status")
        qs = selectors.final_tags(
            project=project,
            status=status,
            number=int(number) if number and number.isdecimal() else None,
            query=request.query_params.get("q", ""),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(FinalTagSerializer(page, many=True).data)


class FinalTagDetail(InterviewApi):
    @extend_schema(
        summary="Edit a final tag's text and/or review it (accepted, removed, pending)",
        request=FinalTagInput,
        responses=FinalTagSerializer,
    )
    def patch(self, request, project_slug, final_tag_id):
        project, _ = self.member(project_slug)
        final = self.in_project(FinalTag, final_tag_id, project)
        data = self.valid(FinalTagInput, request.data)
        if not data:
            raise InvalidInput("Give the text or the status.", field="status")
        if "text" in data:
            services.final_tag_edit(final_tag_id=final.id, user=request.user, text=data["text"])
        if "status" in data:
            services.final_tag_review(final_tag_id=final.id, user=request.user, status=data["status"])
        final.refresh_from_db()
        return Response(FinalTagSerializer(final).data)


class Place(InterviewApi):
    @extend_schema(
        summary="Place final tags under a leaf, or as a new leaf under a node (lead, moderator)",
        request=PlaceInput,
        responses=FinalTagSerializer(many=True),
    )
    def post(self, request, project_slug):
        project, _ = self.member(project_slug)
        data = self.valid(PlaceInput, request.data)
        finals = services.final_tags_place(
            project=project,
            final_tag_ids=data["ids"],
            user=request.user,
            leaf_id=data.get("leaf"),
            node_id=data.get("node"),
        )
        return Response(FinalTagSerializer(finals, many=True).data)


class Unmapped(InterviewApi):
    @extend_schema(
        summary="Accepted final tags that join no leaf, grouped by normalised text",
        responses=inline_serializer(
            "UnmappedTag",
            {
                "normalised": serializers.CharField(),
                "text": serializers.CharField(),
                "count": serializers.IntegerField(),
                "interviews": serializers.ListField(child=serializers.IntegerField()),
                "ids": serializers.ListField(child=serializers.IntegerField()),
            },
            many=True,
        ),
    )
    def get(self, request, project_slug):
        project, _ = self.member(project_slug)
        return Response(selectors.unmapped_final_tags(project=project))


class Stats(InterviewApi):
    @extend_schema(summary="The interviews row of Table 1", responses=OpenApiTypes.OBJECT)
    def get(self, request, project_slug):
        project, _ = self.member(project_slug)
        return Response(selectors.interview_stats_row(project))


class Suggestions(InterviewApi):
    @extend_schema(
        summary="Tag suggestions (blind: catalogue, decided, final tags and your own)",
        parameters=[OpenApiParameter("q", str)],
        responses=inline_serializer(
            "TagSuggestion",
            {
                "name": serializers.CharField(),
                "normalised": serializers.CharField(),
                "count": serializers.IntegerField(),
                "sources": serializers.ListField(child=serializers.CharField()),
            },
            many=True,
        ),
    )
    def get(self, request, project_slug):
        project, _ = self.member(project_slug)
        return Response(
            selectors.tag_suggestions(project=project, user=request.user, query=request.query_params.get("q", ""))
        )


class SheetImport(InterviewApi):
    @extend_schema(
        summary="Import a coding sheet (lead)",
        description=(
            "The upload is checked (size, an XLSX's unpacked size, a CSV's columns and cells) and imported in a "
            "background job; the answer is 202 with the job, whose `url` to poll until its `status` is done (its "
            "`report` counts what was written and lists skipped rows) or failed (its `error` names the file)."
        ),
        request={"multipart/form-data": SheetInput},
        responses={202: JobSerializer},
    )
    def post(self, request, project_slug):
        project, _ = self.member(project_slug, roles=("lead",))
        data = self.valid(SheetInput, request.data)
        upload = data["file"]
        job = services.coding_sheet_import_start(
            project=project, user=request.user, filename=upload.name, data=read_upload(upload, kind="interview_sheet")
        )
        return Response(JobSerializer(job, context={"request": request}).data, status=202)


class SheetExport(InterviewApi):
    @extend_schema(
        summary="The coding sheet (xlsx or csv)",
        parameters=[OpenApiParameter("file_format", str, enum=["xlsx", "csv"], description="not `format` (DRF's)")],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, project_slug):
        project, _ = self.member(project_slug)
        fmt = request.query_params.get("file_format", "xlsx")
        if fmt not in ("xlsx", "csv"):
            raise InvalidInput("Choose xlsx or csv.", field="file_format")
        response = HttpResponse(exports.coding_sheet(project=project, fmt=fmt), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{project.slug}-interview-coding.{fmt}"'
        return response


class Transcript(InterviewApi):
    @extend_schema(
        summary="The transcript as txt, md or json, optionally pseudonymised",
        parameters=[
            OpenApiParameter("file_format", str, enum=["txt", "md", "json"], description="not `format` (DRF's)"),
            OpenApiParameter("pseudonymise", bool),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, project_slug, number):
        project, _ = self.member(project_slug)
        interview = self.interview(project, number)
        fmt = request.query_params.get("file_format", "json")
        if fmt not in ("txt", "md", "json"):
            raise InvalidInput("Choose txt, md or json.", field="file_format")
        if not interview.has_transcript:
            raise NotFound(f"{interview} has no transcript.")
        pseudonymise = request.query_params.get("pseudonymise") in ("1", "true", "yes", "on")
        content, content_type = exports.transcript_export(interview=interview, fmt=fmt, pseudonymise=pseudonymise)
        return HttpResponse(content, content_type=content_type)
