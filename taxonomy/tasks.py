"""Celery tasks of the taxonomy: thin wrappers that call services."""

from celery import shared_task

from core.jobs import job_progress_reporter


@shared_task(bind=True, acks_late=True)
def import_round_task(self, job_id: int) -> str:
    """Run a labelled-round import job (idempotent: a job runs once)."""
    from taxonomy import round_import

    return round_import.round_import_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def import_exchange_task(self, job_id: int) -> str:
    """Run an import of a Label Studio or doccano export (idempotent: a job runs once)."""
    from taxonomy import round_import

    return round_import.exchange_import_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def import_taxonomy_task(self, job_id: int) -> str:
    """Read and import an uploaded taxonomy file for a queued Job (idempotent: a job runs once)."""
    from taxonomy import services

    return services.taxonomy_import_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(acks_late=True)
def label_vectors_task(project_id: int) -> int:
    """Compute the sentence vectors of a project's labels that have none (semantic suggestions)."""
    from core.models import Project
    from taxonomy import suggestion_services

    project = Project.objects.filter(pk=project_id).first()
    return suggestion_services.label_vectors_compute(project=project) if project else 0
