"""Celery tasks of the taxonomy: thin wrappers that call services."""

from celery import shared_task

from core.jobs import job_progress_reporter


@shared_task(bind=True, acks_late=True)
def import_round_task(self, job_id: int) -> str:
    """Run a labelled-round import job (idempotent: a job runs once)."""
    from taxonomy import round_import

    return round_import.round_import_job_run(job_id=job_id, progress=job_progress_reporter(self))
