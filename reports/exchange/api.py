"""API of whole-project backups and of exchange with other tools (Label Studio, doccano, REFI-QDA).

- `GET /api/projects/<slug>/backup/` starts a backup as a background job (202, lead only) and answers
  where to follow it; `GET …/backup/<job_id>/` is its progress; `GET …/backup/<job_id>/download/` the zip.
- `GET /api/projects/<slug>/exchange/export/?file_format=label-studio|doccano|qdpx` downloads the project
  for another tool (lead only: it holds every final label). The parameter is `file_format`, never
  `format`, which DRF reserves for choosing a renderer (as on every export route).
- `POST /api/projects/<slug>/exchange/import/` (multipart `file`, optional `tool`, `label_field`,
  `evaluator`, `keep_annotations`, `round`, `predictions`, `map`) imports a Label Studio or doccano
  export in a background job (202 with the job to poll): tasks as artefacts, and with
  `keep_annotations` the annotations as an imported round, never as artefact fields.
"""

from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from collection.formats.detect import TOOLS
from core.api.base import ApiViewMixin
from core.api.serializers import JobSerializer
from core.errors import InvalidInput, NotFound
from core.jobs import job_get, job_progress
from core.models import Job
from core.selectors import project_for_member
from core.uploads import read_upload
from reports.backup.services import project_backup_job_create
from reports.exchange import project as exchange
from taxonomy.round_import import exchange_import_start


class LeadApi(APIView):
    """Authentication as the other project APIs (core.api.base); the views check the lead role."""

    authentication_classes = ApiViewMixin.authentication_classes
    permission_classes = [IsAuthenticated]

    def lead_project(self, slug):
        project, _ = project_for_member(slug=slug, user=self.request.user, roles=("lead",))
        return project


def _job_data(request, project, job: Job) -> dict:
    base = f"/api/projects/{project.slug}/backup/{job.id}/"
    data = {"job": job.id, "kind": job.kind, **job_progress(job), "report": job.report, "error": job.error}
    data["progress_url"] = request.build_absolute_uri(base)
    if job.status == Job.Status.DONE and job.result_data is not None:
        data["download_url"] = request.build_absolute_uri(base + "download/")
    return data


class Backup(LeadApi):
    @extend_schema(
        operation_id="project_backup_start",
        summary="Start a whole-project backup (a background job)",
        responses={202: OpenApiTypes.OBJECT},
    )
    def get(self, request, project_slug):
        project = self.lead_project(project_slug)
        with transaction.atomic():
            job = project_backup_job_create(project=project, user=request.user)
        job.refresh_from_db()
        return Response(_job_data(request, project, job), status=status.HTTP_202_ACCEPTED)


class BackupJob(LeadApi):
    @extend_schema(
        operation_id="project_backup_progress", summary="Progress of a backup job", responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request, project_slug, job_id):
        project = self.lead_project(project_slug)
        job = job_get(project=project, job_id=job_id)
        if job.kind != Job.Kind.EXPORT_PROJECT:
            raise NotFound("No such backup in this project.")
        return Response(_job_data(request, project, job))


class BackupDownload(LeadApi):
    @extend_schema(
        operation_id="project_backup_download",
        summary="The backup archive (zip)",
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request, project_slug, job_id):
        project = self.lead_project(project_slug)
        job = job_get(project=project, job_id=job_id)
        if job.kind != Job.Kind.EXPORT_PROJECT or job.status != Job.Status.DONE or job.result_data is None:
            raise NotFound("This backup has no archive (yet).")
        response = HttpResponse(bytes(job.result_data), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{job.result_name}"'
        return response


class ExchangeExport(LeadApi):
    @extend_schema(
        summary="The project for another tool: Label Studio JSON, doccano JSONL or a REFI-QDA project (.qdpx)",
        parameters=[OpenApiParameter("file_format", str, enum=list(exchange.FORMATS), required=True)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, project_slug):
        project = self.lead_project(project_slug)
        fmt = request.query_params.get("file_format", "")
        if fmt not in exchange.FORMATS:
            raise InvalidInput(f"file_format is one of {', '.join(exchange.FORMATS)}.", field="file_format")
        response = HttpResponse(exchange.export_bytes(project, fmt), content_type=exchange.CONTENT_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{exchange.filename(project, fmt)}"'
        return response


class ExchangeImportInput(serializers.Serializer):
    file = serializers.FileField()
    tool = serializers.ChoiceField(choices=TOOLS, required=False)
    label_field = serializers.ListField(child=serializers.CharField(), required=False)
    evaluator = serializers.CharField(required=False, default="")
    keep_annotations = serializers.BooleanField(required=False, default=False)
    round = serializers.IntegerField(required=False, min_value=1)
    predictions = serializers.BooleanField(required=False, default=False)
    map = serializers.ListField(child=serializers.CharField(), required=False)


class ExchangeImport(LeadApi):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Import a Label Studio or doccano export (a background job; annotations kept as an imported round)",
        description=(
            "The upload is checked (size, a ZIP's unpacked size, a CSV's shape, the round number) and read in a "
            "background job: the answer is 202 with the job, whose `url` to poll until its `status` is done (its "
            "`report` is the import's: artefact counts, `exchange`, and with `keep_annotations` `imported_round`) "
            "or failed (its `error` names the file and what is wrong; nothing is written)."
        ),
        request={"multipart/form-data": ExchangeImportInput},
        responses={202: JobSerializer},
    )
    def post(self, request, project_slug):
        project = self.lead_project(project_slug)
        serializer = ExchangeImportInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        job = exchange_import_start(
            project=project,
            user=request.user,
            filename=upload.name,
            data=read_upload(upload, kind="artefacts"),
            map_options=data.get("map") or [],
            tool=data.get("tool"),
            label_fields=data.get("label_field") or None,
            keep_annotations=data["keep_annotations"],
            number=data.get("round"),
            include_predictions=data["predictions"],
            evaluator=data["evaluator"],
        )
        return Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
