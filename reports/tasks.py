"""Celery tasks of reports: thin wrappers that call selectors."""

from celery import shared_task


@shared_task
def round_stats_task(project_id: int) -> dict:
    """Table 1 of a project as JSON (see reports.table1)."""
    from reports import table1

    return table1.table1_for_project_id(project_id)
