"""Celery tasks of labelling: thin wrappers that call services."""

from celery import shared_task

from core.jobs import job_progress_reporter


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=1)
def item_escalate_task(self, item_id: int) -> str:
    """Assign another evaluator to a disagreed item (idempotent: safe to retry or run twice)."""
    from labelling import services

    return services.item_escalate(item_id=item_id)


@shared_task(bind=True, acks_late=True)
def export_round_task(self, job_id: int) -> str:
    """Write a round in the study's layout into the job's result."""
    from labelling import exports

    return exports.export_round_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(bind=True, acks_late=True)
def export_annotations_task(self, job_id: int) -> str:
    """Write the project's annotations and decisions as JSON Lines into the job's result."""
    from labelling import exports

    return exports.export_annotations_job_run(job_id=job_id, progress=job_progress_reporter(self))


@shared_task(acks_late=True)
def escalations_sweep_task() -> dict:
    """Celery beat: escalate every item owed an escalation that did not happen (broker down, worker killed)."""
    from labelling import services

    return services.escalations_sweep()
