"""Background jobs: create, enqueue, run once, report progress.

An app that runs work in the background creates a Job (an upload waits in the
database), sends its own Celery task once the transaction commits (`job_enqueue`),
and the task calls `job_execute` with the app's work function. While a job runs,
its work is one database transaction, so live progress travels through the Celery
result backend (Redis, or memory in eager mode); the Job row records the start,
the end, the report and any result file.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import contextmanager

from celery import current_app
from celery.result import AsyncResult
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import audit_record
from core.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound, error_naming_file
from core.models import Job, Project
from core.progress import Progress
from core.selectors import membership_require
from core.uploads import check_size, check_upload, request_size_limit

log = logging.getLogger(__name__)

# work(job, progress) -> (report, (content, name, content type) or None)
JobWork = Callable[[Job, Progress | None], tuple[dict, tuple | None]]


def job_create(
    *,
    project: Project,
    user,
    kind: str,
    params: dict | None = None,
    input_name: str = "",
    input_data: bytes | None = None,
    requires_input: bool = False,
    roles: tuple[str, ...] = ("lead",),
) -> Job:
    """A pending job of a project's lead (or of a member holding one of `roles`, for the few jobs others
    may start: a moderator's word list); an upload is checked for presence and size here, for readability
    by the app that creates the job."""
    membership_require(project=project, user=user, roles=roles)
    if kind not in Job.Kind.values:
        raise InvalidInput(f"Unknown job kind {kind!r}.", field="kind")
    if requires_input:
        if not input_data:
            raise InvalidInput("Choose a file to upload.", field="file")
        check_size(input_data, limit=request_size_limit())  # each kind's own limit was checked by its app
    job = Job.objects.create(
        project=project,
        kind=kind,
        params=dict(params or {}),
        input_name=input_name[:300],
        input_data=input_data,
        created_by=user,
    )
    if input_data:
        details = {"job": job.id, "kind": kind, "bytes": len(input_data)}
        audit_record(action="import.upload", project=project, target=input_name[:300], actor=user, details=details)
    return job


def job_input(job: Job) -> bytes:
    """The job's uploaded file (empty once it has been read and deleted)."""
    return bytes(job.input_data) if job.input_data is not None else b""


def job_user(job: Job):
    """Who started the job, to run its work as them; NotAllowed (failing the job) if their account is gone."""
    if job.created_by is None:
        raise NotAllowed("The member who uploaded this file no longer has an account; upload it again.")
    return job.created_by


def job_upload_start(
    *,
    project: Project,
    user,
    kind: str,
    filename: str,
    data: bytes,
    task,
    upload_kind: str | None,
    params: dict | None = None,
    roles: tuple[str, ...] = ("lead",),
) -> Job:
    """An upload stored in a pending job and sent to its Celery task once the transaction commits: the
    member's role, then (unless the caller did) the size, ZIP and CSV shape of `upload_kind`, are checked
    first; nothing parses the file in the request."""
    membership_require(project=project, user=user, roles=roles)
    if upload_kind is not None and data:
        check_upload(data, kind=upload_kind, name=filename)  # size, ZIP and CSV shape, without parsing
    job = job_create(
        project=project,
        user=user,
        roles=roles,
        kind=kind,
        params=params,
        input_name=filename,
        input_data=data,
        requires_input=True,
    )
    return job_enqueue(job=job, task=task)


@contextmanager
def job_reading(job: Job, progress: Progress | None = None, message: str = ""):
    """The work of a job that reads its upload: yields (the upload's bytes, the member who uploaded it, as
    whom the work runs; NotAllowed if their account is gone); a DomainError raised inside names the file."""
    try:
        if progress is not None and message:
            progress(0, 1, message)
        yield job_input(job), job_user(job)
    except DomainError as error:
        raise error_naming_file(error, job.input_name) from None


def job_get(*, project: Project, job_id: int) -> Job:
    job = Job.objects.filter(project=project, id=job_id).first()
    if job is None:
        raise NotFound("No such job in this project.")
    return job


def job_for_member(*, project: Project, job_id: int, user, membership=None) -> Job:
    """A job as its page, its progress and its cancel button show it: any job of the project to a lead, to
    another member only a job they started themselves (NotAllowed otherwise, whether the job exists or not).
    Downloading a job's file stays the leads' (`job_get` after a lead check)."""
    membership = membership_require(project=project, user=user, membership=membership)
    if membership.is_lead:
        return job_get(project=project, job_id=job_id)
    job = Job.objects.filter(project=project, id=job_id, created_by_id=user.pk).first()
    if job is None:
        raise NotAllowed(f"This needs the lead role in {project}.")
    return job


def job_enqueue(*, job: Job, task) -> Job:
    """Send the job to its Celery task once the surrounding transaction commits (at once in eager mode)."""
    job.task_id, job.queued_at = str(uuid.uuid4()), timezone.now()
    job.save(update_fields=["task_id", "queued_at"])
    job_id, task_id = job.id, job.task_id
    transaction.on_commit(lambda: task.apply_async(args=[job_id], task_id=task_id))
    return job


def job_execute(*, job_id: int, work: JobWork, progress: Progress | None = None) -> str:
    """Run a pending job once (a retried or duplicated task finds it started and does nothing)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None or job.status != Job.Status.PENDING:
            return "noop"
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    try:
        report, result = work(job, progress)
    except DomainError as exc:  # the message names the file, row or field; the field goes in the report
        job.status, job.error = Job.Status.FAILED, exc.message
        job.report = {"error_field": exc.field} if exc.field else {}
    except Exception as exc:  # a bug must not leave the job running forever
        log.exception("job %s failed", job.id)
        job.status, job.error = Job.Status.FAILED, f"Unexpected error: {exc.__class__.__name__}."
    else:
        job.status, job.report, job.progress = Job.Status.DONE, report, 100
        if result is not None:
            job.result_data, job.result_name, job.result_type = result
    job.finished_at = timezone.now()
    job.input_data = None  # the upload is no longer needed, nor what its first step read of it
    job.params = _without_steps(job.params)
    # only a job still running is finished here: one cancelled (or failed by the sweeper) meanwhile stays so
    fields = ["status", "error", "report", "progress", "result_data", "result_name", "result_type", "params"]
    updated = Job.objects.filter(id=job.id, status=Job.Status.RUNNING).update(
        finished_at=job.finished_at, input_data=None, **{f: getattr(job, f) for f in fields}
    )
    return job.status if updated else "cancelled"


# the keys of job.params written by steps (job_step): read by the lead's next choice, dropped once the job ends
STEPS = "_steps"


def _without_steps(params: dict | None) -> dict:
    params = dict(params or {})
    for key in params.pop(STEPS, []):
        params.pop(key, None)
    return params


def job_step(*, job_id: int, key: str, work: Callable[[Job], dict], message: str = "") -> str:
    """Run a pending job's first step once (reading its upload for the lead's next choice, e.g. a column
    mapping): its JSON result is stored in `job.params[key]` and the job stays pending, waiting for that
    choice (its task id cleared, so the sweeper counts it as an upload waiting), and dropped when the job
    finishes or is cancelled. A DomainError fails the job with its message (naming the file), an
    unexpected error too; either way its upload is deleted."""
    job = Job.objects.filter(id=job_id, status=Job.Status.PENDING).first()
    if job is None or key in (job.params or {}):
        return "noop"
    if message:
        Job.objects.filter(id=job.id, status=Job.Status.PENDING).update(message=message[:300])
    try:
        result = work(job)
    except DomainError as exc:
        error, report = exc.message, ({"error_field": exc.field} if exc.field else {})
    except Exception as exc:  # a bug must not leave the upload waiting for a step that never ends
        log.exception("job %s: step %s failed", job.id, key)
        error, report = f"Unexpected error: {exc.__class__.__name__}.", {}
    else:
        params = {**(job.params or {}), key: result, STEPS: [*(job.params or {}).get(STEPS, []), key]}
        updated = Job.objects.filter(id=job.id, status=Job.Status.PENDING).update(params=params, task_id="", message="")
        return Job.Status.PENDING if updated else "cancelled"
    updated = Job.objects.filter(id=job.id, status=Job.Status.PENDING).update(
        status=Job.Status.FAILED, error=error, report=report, message="", finished_at=timezone.now(), input_data=None
    )
    return Job.Status.FAILED if updated else "cancelled"


WORKER_LOST = (
    "The worker running this job stopped before it finished (restarted or killed); nothing more will "
    "happen to it. Start it again."
)
NEVER_STARTED = "No worker picked this job up in time. Start it again."
ABANDONED_UPLOAD = "The upload waited too long for its next step and was removed. Upload it again."


def jobs_sweep(*, now=None) -> dict:
    """Close jobs that can no longer finish (the Celery beat sweeper runs this):
    running longer than any task may run (its worker died), enqueued that long ago but never started, and
    uploads left pending (never given their column mapping) past their time to live, from the upload; their
    uploaded files are deleted."""
    now = now or timezone.now()
    running_limit = settings.CONCORD_JOB_STALE_AFTER
    closing = {"status": Job.Status.FAILED, "finished_at": now, "input_data": None}
    lost = Job.objects.filter(status=Job.Status.RUNNING, started_at__lt=now - running_limit).update(
        error=WORKER_LOST, **closing
    )
    # measured from when its task was sent: a lead may map an upload's columns long after uploading it
    sent_long_ago = Q(queued_at__lt=now - running_limit) | Q(queued_at__isnull=True, created_at__lt=now - running_limit)
    never_started = (
        Job.objects.filter(sent_long_ago, status=Job.Status.PENDING)
        .exclude(task_id="")
        .update(error=NEVER_STARTED, **closing)
    )
    waiting = Job.objects.filter(
        status=Job.Status.PENDING, task_id="", created_at__lt=now - settings.CONCORD_UPLOAD_PENDING_TTL
    )
    abandoned = 0
    for job_id, params in waiting.values_list("id", "params"):  # few: each upload left in a day
        abandoned += waiting.filter(id=job_id).update(error=ABANDONED_UPLOAD, params=_without_steps(params), **closing)
    return {"worker_lost": lost, "never_started": never_started, "abandoned_uploads": abandoned}


def job_cancel(*, job: Job, user) -> Job:
    """A lead (or the member who started the job) stops a pending or running job: it is marked failed
    ("Cancelled by …"), its upload deleted, and its Celery task revoked (a task that starts anyway finds it
    finished and does nothing)."""
    job_for_member(project=job.project, job_id=job.id, user=user)
    with transaction.atomic():
        job = Job.objects.select_for_update().get(id=job.id)
        if job.is_finished:
            raise Conflict("This job has finished already.")
        job.status, job.error = Job.Status.FAILED, f"Cancelled by {user.get_username()}."
        job.finished_at, job.input_data, job.params = timezone.now(), None, _without_steps(job.params)
        job.save(update_fields=["status", "error", "finished_at", "input_data", "params"])
        audit_record(action="job.cancel", project=job.project, target=f"job {job.id}", actor=user)
    if job.task_id:
        task_id = job.task_id
        transaction.on_commit(lambda: _revoke(task_id))
    return job


def _revoke(task_id: str) -> None:
    try:
        current_app.control.revoke(task_id, terminate=True)
    except Exception as exc:  # the broker being away: the task finds the job finished when it runs
        log.warning("could not revoke task %s: %s", task_id, exc)


def job_progress_reporter(task) -> Progress:
    """Progress of a running job, stored as the Celery task's PROGRESS state for the page to poll."""

    def report(done: int, total: int, message: str = "") -> None:
        try:
            task.update_state(state="PROGRESS", meta={"done": done, "total": total, "message": message})
        except Exception:  # progress is a nicety; a missing result backend must not fail the job
            log.debug("progress of task %s not stored", task.request.id)

    return report


def job_progress(job: Job) -> dict:
    """{"status", "percent", "message"}: from the job row when finished, else from the Celery backend."""
    if job.is_finished:
        return {"status": job.status, "percent": 100 if job.status == Job.Status.DONE else job.progress, "message": ""}
    percent, message = job.progress, job.message or ("Waiting for a worker…" if job.status == "pending" else "")
    if job.task_id and job.status == Job.Status.RUNNING:
        try:
            info = AsyncResult(job.task_id).info
        except Exception:  # the backend being away must not break the page
            info = None
        if isinstance(info, dict) and info.get("total"):
            percent = max(0, min(99, int(100 * info.get("done", 0) / info["total"])))
            message = str(info.get("message") or "")
    return {"status": job.status, "percent": percent, "message": message}
