"""Celery tasks of the collect step: thin wrappers that call services."""

from celery import shared_task

from core.jobs import job_progress_reporter


@shared_task(bind=True, acks_late=True)
def import_artefacts_task(self, job_id: int) -> str:
    """Run an artefact import job (idempotent: a job runs once)."""
    from collection import services

    return services.artefacts_import_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def vocabulary_index_task(self, job_id: int) -> str:
    """Build the project's vocabulary index for a queued Job, storing progress on it (idempotent)."""
    from collection import services

    return services.vocabulary_index_job_run(job_id=job_id)


@shared_task(bind=True, acks_late=True)
def mining_task(self, job_id: int) -> str:
    """Mine GitHub or Stack Overflow for a queued Job; the run's stored cursors make a rerun resume."""
    from collection import services

    return services.mining_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def preview_artefacts_task(self, job_id: int) -> str:
    """Read an uploaded artefact file once for its mapping page (the job then waits for the lead's mapping)."""
    from collection import services

    return services.artefacts_import_preview_job_run(job_id=job_id)


@shared_task(bind=True, acks_late=True)
def import_vocabulary_task(self, job_id: int) -> str:
    """Import an uploaded word list for a queued Job (idempotent: a job runs once)."""
    from collection import services

    return services.vocabulary_words_import_job_run(job_id=job_id, progress=job_progress_reporter(self))
