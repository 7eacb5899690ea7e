"""Celery tasks of the interviews: thin wrappers that call services."""

from celery import shared_task

from core.jobs import job_progress_reporter


@shared_task(bind=True, acks_late=True)
def import_transcript_task(self, job_id: int) -> str:
    """Parse and store an uploaded transcript for a queued Job (idempotent: a job runs once)."""
    from interviews import services

    return services.interview_upload_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def import_coding_sheet_task(self, job_id: int) -> str:
    """Import an uploaded coding sheet for a queued Job (idempotent: a job runs once)."""
    from interviews import services

    return services.coding_sheet_import_job_run(job_id=job_id, progress=job_progress_reporter(self))
