"""Whole-project backup and restore: the services behind the commands, the lead's page and the API.

The archive and its checks are reports.backup.archive; which tables and how they are
restored, reports.backup.engine. A backup from a page or the API runs as a job (progress
polled, the zip stored as the job's result); a backup job's own result is never part of a
later backup (it would nest every earlier backup).
"""

from __future__ import annotations

import io
from typing import BinaryIO

from django.utils import timezone

from core.errors import InvalidInput
from core.jobs import job_create, job_enqueue, job_execute
from core.models import Job, Project
from core.progress import Progress
from reports import tasks
from reports.backup.archive import ArchiveError
from reports.backup.engine import RestoreError, project_export, project_restore

CONCORD_VERSION = "0.1.0"


def concord_version() -> str:
    return CONCORD_VERSION


def project_backup(*, project: Project, target: str | BinaryIO, progress: Progress | None = None) -> dict:
    """Write the project's backup archive to `target` (a path or a binary file); returns the manifest."""
    return project_export(project=project, target=target, concord_version=concord_version(), progress=progress)


def project_backup_restore(
    *, source: str | BinaryIO, slug: str | None = None, map_users: str = "create", progress: Progress | None = None
) -> dict:
    """Recreate the project of an archive in one transaction; a damaged archive or a clash is an InvalidInput."""
    try:
        return project_restore(source=source, slug=slug, map_users=map_users, progress=progress)
    except (ArchiveError, RestoreError) as exc:
        raise InvalidInput(str(exc), field="file") from exc


def backup_filename(project: Project) -> str:
    return f"{project.slug}-backup-{timezone.now():%Y%m%d-%H%M%S}.zip"


def project_backup_job_create(*, project: Project, user) -> Job:
    """A lead's backup as a background job (the archive lands in the job's result)."""
    job = job_create(project=project, user=user, kind=Job.Kind.EXPORT_PROJECT)
    return job_enqueue(job=job, task=tasks.export_project_task)


def _backup_work(job: Job, progress: Progress | None) -> tuple[dict, tuple]:
    buffer = io.BytesIO()
    manifest = project_backup(project=job.project, target=buffer, progress=progress)
    report = {"counts": manifest["counts"], "bytes": buffer.tell(), "format_version": manifest["format_version"]}
    return report, (buffer.getvalue(), backup_filename(job.project), "application/zip")


def project_backup_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_backup_work, progress=progress)
