"""Celery tasks of core: thin wrappers that call services."""

from celery import shared_task


@shared_task(acks_late=True)
def jobs_sweep_task() -> dict:
    """Celery beat: fail jobs whose worker died, jobs never started, and expire abandoned uploads."""
    from core import jobs

    return jobs.jobs_sweep()


@shared_task(acks_late=True)
def notification_digest_task() -> dict:
    """Celery beat: e-mail each opted-in user the digest of their new unread notifications."""
    from core import services

    return services.notification_digests_send()
