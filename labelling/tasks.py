"""Celery tasks: thin wrappers that call services."""

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=1)
def item_escalate_task(self, item_id: int) -> str:
    """Assign another evaluator to a disagreed item (idempotent: safe to retry or run twice)."""
    return services.item_escalate(item_id=item_id)


# --- imports, exports and Table 1 (round spreadsheets) ------------------------------------


def _job_progress_reporter(task):
    """Progress of a running job, stored as the task's PROGRESS state for the page to poll."""

    def report(done: int, total: int, message: str = "") -> None:
        import contextlib

        # progress is a nicety; a missing result backend must not fail the job
        with contextlib.suppress(Exception):
            task.update_state(state="PROGRESS", meta={"done": done, "total": total, "message": message})

    return report


@shared_task(bind=True, acks_late=True)
def import_artefacts_task(self, job_id: int) -> str:
    """Run an artefact import job (idempotent: a job runs once)."""
    from .importers.services import job_run

    return job_run(job_id=job_id, progress=_job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def import_round_task(self, job_id: int) -> str:
    """Run a labelled-round import job (idempotent: a job runs once)."""
    from .importers.services import job_run

    return job_run(job_id=job_id, progress=_job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def export_round_task(self, job_id: int) -> str:
    """Write a round in the study's layout into the job's result."""
    from .importers.services import job_run

    return job_run(job_id=job_id, progress=_job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def export_annotations_task(self, job_id: int) -> str:
    """Write the project's annotations and decisions as JSON Lines into the job's result."""
    from .importers.services import job_run

    return job_run(job_id=job_id, progress=_job_progress_reporter(self))


@shared_task
def round_stats_task(project_id: int) -> dict:
    """Table 1 of a project as JSON (see labelling.stats)."""
    from .models import Project
    from .stats import table1

    return table1(Project.objects.get(id=project_id))


# --- relevance vocabulary ----------------------------------------------------------------


@shared_task(bind=True, acks_late=True)
def vocabulary_index_task(self, job_id: int) -> str:
    """Build the project's vocabulary index for a queued Job, storing progress on it (idempotent)."""
    from . import vocabulary_services

    return vocabulary_services.vocabulary_index_job_run(job_id=job_id)
