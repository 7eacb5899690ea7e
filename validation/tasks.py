"""Celery tasks of the validation survey: thin wrappers that call services."""

from celery import shared_task

from core.jobs import job_progress_reporter


@shared_task(bind=True, acks_late=True)
def import_participants_task(self, job_id: int) -> str:
    """Read and import an uploaded participant sheet for a queued Job (idempotent: a job runs once)."""
    from validation import services

    return services.participants_import_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def preview_survey_import_task(self, job_id: int) -> str:
    """Read an uploaded survey export once for its preview page (the job then waits for the lead's choice)."""
    from validation import services

    return services.survey_import_preview_job_run(job_id=job_id)


@shared_task(bind=True, acks_late=True)
def import_survey_task(self, job_id: int) -> str:
    """Import the respondents of an uploaded survey export for a queued Job (idempotent: a job runs once)."""
    from validation import services

    return services.survey_import_job_run(job_id=job_id, progress=job_progress_reporter(self))
