"""Services for imports and exports from files, and the jobs that run them in Celery.

Commands call the file services directly (and print progress to stderr); pages
create a Job (the lead's upload waits in the database), Celery runs it
(`labelling.tasks`), and the page polls `job_progress`. While a job runs, its
import is one database transaction, so live progress travels through the Celery
result backend (Redis, or memory in eager mode); the Job row records the start,
the end, the report and any export file.
"""

from __future__ import annotations

import base64
import logging
import uuid

from django.db import transaction
from django.utils import timezone

from labelling.errors import DomainError, InvalidInput, NotFound
from labelling.models import Job, Project, Round
from labelling.services import membership_require

from .artefacts import artefacts_import, mapping_from_options
from .common import Progress
from .headers import artefact_header_score, round_header_score
from .reading import read_table
from .rounds import round_import

log = logging.getLogger(__name__)

MAX_UPLOAD = 50 * 1024 * 1024
MAX_ROUND = 2**31 - 1  # the largest round number its column holds on every database
EXPORT_FORMATS = ("xlsx", "csv")


# --- files --------------------------------------------------------------------------------


def artefacts_import_file(
    *,
    project: Project,
    data: bytes,
    filename: str = "",
    map_options: list[str] | dict | None = None,
    mapping: dict[int, str] | None = None,
    progress: Progress | None = None,
) -> dict:
    """Import artefacts from a file; `mapping` ({column index: field}) or `map_options` (column=field)."""
    table = read_table(data, filename, header_score=artefact_header_score)
    if mapping is None:
        mapping = mapping_from_options(table.first.header, map_options)
    return artefacts_import(project=project, table=table, mapping=mapping, progress=progress, filename=filename)


def round_import_file(
    *,
    project: Project,
    data: bytes,
    filename: str = "",
    number: int,
    outline_data: bytes | None = None,
    outline_name: str = "",
    user=None,
    progress: Progress | None = None,
) -> dict:
    """Import a labelled round from a file (and an optional `code,name` outline)."""
    from taxonomy.outline import outline_read

    outline, outline_problems = None, []
    if outline_data:
        outline, outline_problems = outline_read(outline_data, outline_name)
    table = read_table(data, filename, header_score=round_header_score)
    report = round_import(
        project=project,
        table=table,
        number=number,
        outline=outline,
        user=user,
        progress=progress,
        filename=filename,
        data=data,
    )
    if outline_data:
        report["outline_problems"] = outline_problems
    return report


def outline_import_file(*, project: Project, data: bytes, filename: str = "", user=None) -> dict:
    from taxonomy.outline import outline_import, outline_read, rounds_recompute

    rows, problems = outline_read(data, filename)
    with transaction.atomic():
        report = outline_import(project=project, rows=rows, user=user)
        report["rounds"] = rounds_recompute(project=project)
    report["skipped"] = problems
    return report


def export_round_file(*, project: Project, number: int, fmt: str, progress: Progress | None = None) -> tuple:
    """(content, filename, content type) of round `number` in the study's layout."""
    from labelling.exports import round_export_csv, round_export_xlsx

    rnd = Round.objects.filter(project=project, number=number).first()
    if rnd is None:
        raise NotFound(f"No round {number} in {project}.")
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"Export format is one of {', '.join(EXPORT_FORMATS)}.", field="format")
    name = f"{project.slug}-round-{number}.{fmt}"
    if fmt == "xlsx":
        return (
            round_export_xlsx(rnd, progress),
            name,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return round_export_csv(rnd, progress), name, "text/csv; charset=utf-8"


def export_annotations_file(*, project: Project, progress: Progress | None = None) -> tuple:
    from labelling.exports import annotations_export_jsonl

    lines = annotations_export_jsonl(project, progress)
    content = "".join(line + "\n" for line in lines).encode("utf-8")
    return content, f"{project.slug}-annotations.jsonl", "application/x-ndjson"


# --- jobs ----------------------------------------------------------------------------------


def job_create(
    *,
    project: Project,
    user,
    kind: str,
    params: dict | None = None,
    input_name: str = "",
    input_data: bytes | None = None,
    outline_data: bytes | None = None,
    outline_name: str = "",
) -> Job:
    """A pending job of a project's lead; an upload is checked for size and readability first."""
    membership_require(project=project, user=user, roles=("lead",))
    if kind not in Job.Kind.values:
        raise InvalidInput(f"Unknown job kind {kind!r}.", field="kind")
    params = dict(params or {})
    if kind in (Job.Kind.IMPORT_ARTEFACTS, Job.Kind.IMPORT_ROUND):
        if not input_data:
            raise InvalidInput("Choose a file to upload.", field="file")
        if len(input_data) > MAX_UPLOAD:
            raise InvalidInput(f"The file is larger than {MAX_UPLOAD // (1024 * 1024)} MB.", field="file")
        read_table(input_data, input_name)  # unreadable → 400 now, not later
    if kind == Job.Kind.IMPORT_ROUND:
        number = params.get("round")
        if not isinstance(number, int) or not 1 <= number <= MAX_ROUND:
            raise InvalidInput(f"The round number must be a whole number from 1 to {MAX_ROUND}.", field="round")
        existing = Round.objects.filter(project=project, number=number).first()
        if existing is not None and existing.source != Round.Source.IMPORT:
            raise InvalidInput(f"Round {number} was labelled in Concord; choose another number.", field="round")
        if outline_data:
            from taxonomy.outline import outline_read

            outline_read(outline_data, outline_name)
            params["outline"] = base64.b64encode(outline_data).decode()
            params["outline_name"] = outline_name
    if kind == Job.Kind.EXPORT_ROUND:
        if params.get("format") not in EXPORT_FORMATS:
            raise InvalidInput(f"Export format is one of {', '.join(EXPORT_FORMATS)}.", field="format")
        if not Round.objects.filter(project=project, number=params.get("round")).exists():
            raise NotFound(f"No round {params.get('round')} in {project}.")
    return Job.objects.create(
        project=project,
        kind=kind,
        params=params,
        input_name=input_name[:300],
        input_data=input_data,
        created_by=user,
    )


def job_set_mapping(*, job: Job, user, mapping: dict[int, str]) -> Job:
    membership_require(project=job.project, user=user, roles=("lead",))
    if job.status != Job.Status.PENDING:
        raise InvalidInput("This import has started already.", field="mapping")
    if "url" not in mapping.values():
        raise InvalidInput("Map one column to url (the artefact's link).", field="mapping")
    job.params = {**job.params, "mapping": {str(k): v for k, v in mapping.items()}}
    job.save(update_fields=["params"])
    return job


def job_enqueue(*, job: Job) -> Job:
    """Send the job to Celery once the surrounding transaction commits (runs at once in eager mode)."""
    from labelling import tasks

    task = {
        Job.Kind.IMPORT_ARTEFACTS: tasks.import_artefacts_task,
        Job.Kind.IMPORT_ROUND: tasks.import_round_task,
        Job.Kind.EXPORT_ROUND: tasks.export_round_task,
        Job.Kind.EXPORT_ANNOTATIONS: tasks.export_annotations_task,
    }[job.kind]
    job.task_id = str(uuid.uuid4())
    job.save(update_fields=["task_id"])
    job_id, task_id = job.id, job.task_id
    transaction.on_commit(lambda: task.apply_async(args=[job_id], task_id=task_id))
    return job


def job_run(*, job_id: int, progress: Progress | None = None) -> str:
    """Run a pending job once (a retried or duplicated task finds it started and does nothing)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.status != Job.Status.PENDING:
            return "noop"
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    try:
        report, result = _job_work(job, progress)
    except DomainError as exc:
        job.status, job.error = Job.Status.FAILED, exc.message
    except Exception as exc:  # a bug must not leave the job running forever
        log.exception("job %s failed", job.id)
        job.status, job.error = Job.Status.FAILED, f"Unexpected error: {exc.__class__.__name__}."
    else:
        job.status, job.report, job.progress = Job.Status.DONE, report, 100
        if result is not None:
            job.result_data, job.result_name, job.result_type = result
    job.finished_at = timezone.now()
    job.input_data = None  # the upload is no longer needed
    job.save()
    return job.status


def _job_work(job: Job, progress: Progress | None) -> tuple[dict, tuple | None]:
    params = job.params or {}
    data = bytes(job.input_data) if job.input_data is not None else b""
    if job.kind == Job.Kind.IMPORT_ARTEFACTS:
        mapping = params.get("mapping")
        mapping = {int(k): v for k, v in mapping.items()} if mapping else None
        report = artefacts_import_file(
            project=job.project, data=data, filename=job.input_name, mapping=mapping, progress=progress
        )
        return report, None
    if job.kind == Job.Kind.IMPORT_ROUND:
        outline = base64.b64decode(params["outline"]) if params.get("outline") else None
        report = round_import_file(
            project=job.project,
            data=data,
            filename=job.input_name,
            number=params["round"],
            outline_data=outline,
            outline_name=params.get("outline_name", ""),
            user=job.created_by,
            progress=progress,
        )
        return report, None
    if job.kind == Job.Kind.EXPORT_ROUND:
        content, name, content_type = export_round_file(
            project=job.project, number=params["round"], fmt=params["format"], progress=progress
        )
        return {"round": params["round"], "format": params["format"], "bytes": len(content)}, (
            content,
            name,
            content_type,
        )
    if job.kind == Job.Kind.EXPORT_ANNOTATIONS:
        content, name, content_type = export_annotations_file(project=job.project, progress=progress)
        return {"lines": content.count(b"\n"), "bytes": len(content)}, (content, name, content_type)
    raise InvalidInput(f"Unknown job kind {job.kind!r}.")


def job_progress(job: Job) -> dict:
    """{"status", "percent", "message"}: from the job row when finished, else from the Celery backend."""
    if job.is_finished:
        return {"status": job.status, "percent": 100 if job.status == Job.Status.DONE else job.progress, "message": ""}
    percent, message = job.progress, job.message or ("Waiting for a worker…" if job.status == "pending" else "")
    if job.task_id and job.status == Job.Status.RUNNING:
        try:
            from celery.result import AsyncResult

            info = AsyncResult(job.task_id).info
        except Exception:  # the backend being away must not break the page
            info = None
        if isinstance(info, dict) and info.get("total"):
            percent = max(0, min(99, int(100 * info.get("done", 0) / info["total"])))
            message = str(info.get("message") or "")
    return {"status": job.status, "percent": percent, "message": message}
