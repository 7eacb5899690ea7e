"""Celery tasks of reports: thin wrappers that call selectors."""

from celery import shared_task


@shared_task
def round_stats_task(project_id: int) -> dict:
    """Table 1 of a project as JSON (see reports.table1)."""
    from reports import table1

    return table1.table1_for_project_id(project_id)


@shared_task(bind=True, acks_late=True)
def export_project_task(self, job_id: int) -> str:
    """Write the whole project's backup archive into the job's result."""
    from core.jobs import job_progress_reporter
    from reports.backup import services

    return services.project_backup_job_run(job_id=job_id, progress=job_progress_reporter(self))
