"""What the mining commands share: a prepared mining run's job, queued or run here."""

from django.core.management.base import CommandError

from collection.services import mining_job_create, mining_job_enqueue, mining_job_run
from core.cli import print_json, stderr_progress
from core.models import Job


def mining_job_start(*, run, queue: bool) -> Job:
    """The run's job, sent to Celery when `queue` (inside the command's transaction)."""
    job = mining_job_create(run=run)
    if queue:
        mining_job_enqueue(job=job)
    return job


def mining_job_finish(command, *, job: Job, run, queued: bool) -> None:
    """A queued job is reported; otherwise it runs here with progress on stderr and its report printed."""
    if queued:
        command.stderr.write(f"Queued job {job.pk} (mining run {run.pk}).")
        return
    mining_job_run(job_id=job.pk, progress=stderr_progress(command.stderr))
    job.refresh_from_db()
    if job.status != Job.Status.DONE:
        raise CommandError(job.error or "Mining failed.")
    print_json(command.stdout, job.report)
