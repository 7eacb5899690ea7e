"""Celery tasks: thin wrappers that call services."""

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=1)
def item_escalate_task(self, item_id: int) -> str:
    """Assign another evaluator to a disagreed item (idempotent: safe to retry or run twice)."""
    return services.item_escalate(item_id=item_id)
