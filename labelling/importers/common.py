"""Pieces shared by the importers: the report, progress, projects and labels in bulk."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from labelling.errors import InvalidInput
from labelling.models import Label, Membership, Project
from labelling.text import MAX_LABEL_LENGTH, clean_label, normalise_label

Progress = Callable[[int, int, str], None]


def no_progress(done: int, total: int, message: str = "") -> None:
    return None


class Throttled:
    """Calls `progress` at most every `interval` seconds (and always for the last step)."""

    def __init__(self, progress: Progress | None, interval: float = 0.5):
        self.progress = progress or no_progress
        self.interval = interval
        self.last = 0.0

    def __call__(self, done: int, total: int, message: str = "") -> None:
        now = time.monotonic()
        if done >= total or now - self.last >= self.interval:
            self.last = now
            self.progress(done, total, message)


@dataclass
class Problems:
    """Rows skipped (not imported) and warnings (imported, with a remark), each with its row number."""

    skipped: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)

    @staticmethod
    def _entry(row, reason, sheet):
        entry = {"row": row, "reason": reason}
        if sheet:
            entry["sheet"] = sheet
        return entry

    def skip(self, row: int, reason: str, sheet: str | None = None) -> None:
        self.skipped.append(self._entry(row, reason, sheet))

    def warn(self, row: int | None, reason: str, sheet: str | None = None) -> None:
        self.warnings.append(self._entry(row, reason, sheet))


def project_ensure(
    *, slug: str, lead_username: str | None = None, name: str | None = None
) -> tuple[Project, list[str]]:
    """The project with this slug, created when missing with `lead_username` as lead.

    A lead who has no account yet gets one without a password (set it with
    `manage.py changepassword`). Returns the project and notes for the operator."""
    notes: list[str] = []
    slug = (slug or "").strip()
    if not slug or slugify(slug) != slug:
        raise InvalidInput(f"{slug!r} is not a project slug (lower-case letters, digits and dashes).", field="project")
    project = Project.objects.filter(slug=slug).first()
    if project is not None:
        if (
            lead_username
            and not Membership.objects.filter(project=project, user__username=lead_username, is_lead=True).exists()
        ):
            notes.append(f"{lead_username} is not a lead of the existing project {slug}; --lead ignored.")
        return project, notes
    with transaction.atomic():
        project = Project.objects.create(slug=slug, name=name or slug.replace("-", " ").title())
        if lead_username:
            User = get_user_model()
            user = User.objects.filter(username=lead_username).first()
            if user is None:
                user = User(username=lead_username)
                user.set_unusable_password()
                user.save()
                notes.append(
                    f"Created user {lead_username} without a password; set one with "
                    f"`manage.py changepassword {lead_username}`."
                )
            Membership.objects.create(project=project, user=user, is_lead=True)
        else:
            notes.append(f"Created project {slug} without a lead; give --lead USERNAME or add one in the admin.")
    notes.append(f"Created project {slug}.")
    return project, notes


def label_name(text: str) -> tuple[str, bool]:
    """The label's display name as imported and whether it had to be shortened to fit the column.

    Imports keep history as it was: the core's length limit does not reject imported
    tags, but the column holds MAX_LABEL_LENGTH characters, so longer tags are cut
    (with an ellipsis) and the importer keeps the full text in the annotation's note."""
    name = clean_label(text)
    if len(name) <= MAX_LABEL_LENGTH:
        return name, False
    return name[: MAX_LABEL_LENGTH - 1].rstrip() + "…", True


def labels_bulk(*, project: Project, names: list[str], user=None) -> tuple[dict[str, int], int]:
    """{normalised name: label id} for `names` (display names), creating missing labels in bulk.

    Returns the mapping and how many labels were created."""
    wanted: dict[str, str] = {}
    for name in names:
        key = normalise_label(name)
        if key and key not in wanted:
            wanted[key] = name
    ids: dict[str, int] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        ids.update(Label.objects.filter(project=project, normalised__in=chunk).values_list("normalised", "id"))
    missing = [Label(project=project, name=wanted[k], normalised=k, created_by=user) for k in keys if k not in ids]
    if missing:
        Label.objects.bulk_create(missing, batch_size=500, ignore_conflicts=True)
        created_keys = [label.normalised for label in missing]
        for start in range(0, len(created_keys), 500):
            chunk = created_keys[start : start + 500]
            ids.update(Label.objects.filter(project=project, normalised__in=chunk).values_list("normalised", "id"))
    return ids, len(missing)
