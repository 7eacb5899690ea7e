"""Projects, their members and roles, and background jobs with their progress.

Tables keep the names they had when these models lived in `labelling`."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    guidelines = models.TextField(
        blank=True, help_text="The codebook's guidelines for evaluators (Markdown, rendered sanitised)."
    )
    max_evaluators_per_artefact = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text="Cap on evaluators per artefact, third and later ones included (the reference study used up to 4).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "labelling_project"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A person's roles in a project; one person may hold several."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    is_lead = models.BooleanField(default=False)
    is_moderator = models.BooleanField(default=False)
    is_evaluator = models.BooleanField(default=False)
    is_active = models.BooleanField(
        default=True, help_text="Inactive members (e.g. evaluators of imported rounds) get no new work."
    )
    external_id = models.CharField(max_length=100, blank=True, help_text="Evaluator ID in imported spreadsheets (E1…).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "labelling_membership"
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")]
        ordering = ["project", "user__username"]

    def __str__(self):
        roles = [
            r
            for r, on in (("lead", self.is_lead), ("moderator", self.is_moderator), ("evaluator", self.is_evaluator))
            if on
        ]
        return f"{self.user} in {self.project} ({', '.join(roles) or 'no role'})"


class Job(models.Model):
    """A long import or export run as a Celery task; the page polls it for progress.

    The upload waits in `input_data` until the task reads it; an export's file
    lands in `result_data`. Live progress during the task's transaction travels
    through the Celery result backend (see core.jobs)."""

    class Kind(models.TextChoices):
        IMPORT_ARTEFACTS = "import_artefacts", "Import artefacts"
        IMPORT_ROUND = "import_round", "Import a labelled round"
        EXPORT_ROUND = "export_round", "Export a round"
        EXPORT_ANNOTATIONS = "export_annotations", "Export annotations"
        VOCABULARY_INDEX = "vocabulary_index", "Build the vocabulary index"
        MINE_GITHUB = "mine_github", "Mine GitHub"
        MINE_STACKOVERFLOW = "mine_stackoverflow", "Mine Stack Overflow"
        EXPORT_PROJECT = "export_project", "Back up the whole project"
        IMPORT_INTERVIEW = "import_interview", "Import an interview transcript"
        IMPORT_INTERVIEW_SHEET = "import_interview_sheet", "Import an interview coding sheet"
        IMPORT_TAXONOMY = "import_taxonomy", "Import a taxonomy"
        IMPORT_VOCABULARY = "import_vocabulary", "Import a word list"
        IMPORT_EXCHANGE = "import_exchange", "Import a Label Studio or doccano export"
        IMPORT_SURVEY = "import_survey", "Import survey responses"
        IMPORT_PARTICIPANTS = "import_participants", "Import participants"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    params = models.JSONField(default=dict, blank=True)
    input_name = models.CharField(max_length=300, blank=True)
    input_data = models.BinaryField(null=True, blank=True)
    result_name = models.CharField(max_length=300, blank=True)
    result_type = models.CharField(max_length=120, blank=True)
    result_data = models.BinaryField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done, as last stored.")
    message = models.CharField(max_length=300, blank=True)
    task_id = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its task was last sent (a column mapping may come long after the upload).",
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "labelling_job"
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "kind", "status"])]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def __str__(self):
        return f"{self.get_kind_display()} #{self.id} ({self.status})"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """Who did what, when, from where: sign-ins and failures, role changes, exports and downloads,
    imports, rounds opened and closed, conflict resolutions, label merges and renames, annotation edits.

    Append-only: rows are never updated or deleted (here, and on PostgreSQL by a trigger); people and
    projects are kept by id and name, so the record outlives them."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=60, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_name = models.CharField(max_length=150, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    project_slug = models.CharField(max_length=100, blank=True)
    target = models.CharField(max_length=300, blank=True)
    details = models.JSONField(default=dict, blank=True)
    address = models.CharField(max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["project_id", "-at"], name="audit_project_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_name or '-'} {self.action} {self.target}"

    @property
    def details_text(self) -> str:
        return "; ".join(f"{key}: {value}" for key, value in (self.details or {}).items())

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class Invitation(models.Model):
    """A single-use link that makes its holder a member with the given roles; it expires.

    Only the SHA-256 of the link's token is stored (core.invitations)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(blank=True)
    is_lead = models.BooleanField(default=False)
    is_moderator = models.BooleanField(default=False)
    is_evaluator = models.BooleanField(default=False)
    token_digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def roles(self) -> list[str]:
        return [r for r in ("lead", "moderator", "evaluator") if getattr(self, f"is_{r}")]

    def __str__(self):
        return f"invitation to {self.project} ({', '.join(self.roles)})"


class ApiToken(models.Model):
    """A named API token of a user; several per user, each revocable, with when it was last used."""

    PREFIX = "cc_"  # tells these keys from DRF's (40 hex digits) without a query

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.user})"


class Notification(models.Model):
    """Something for one user to see behind the bell: a tie-break, a conflict, an invitation, a round."""

    class Kind(models.TextChoices):
        TIE_BREAK = "tie_break", "Tie-break assigned to you"
        CONFLICT = "conflict", "Conflict waiting for moderators"
        INVITATION = "invitation", "Invitation"
        ROUND_OPENED = "round_opened", "Round opened"
        ROUND_CLOSED = "round_closed", "Round closed"
        DISCUSSION = "discussion", "New comment in a discussion"
        MEMBERSHIP = "membership", "Membership changed"
        SENT_BACK = "sent_back", "A conflict sent back to you"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return f"{self.user}: {self.text}"


class NotificationDigest(models.Model):
    """A user's choice of an e-mail digest of their unread notifications (off unless they opt in), and
    since when it covers them: notifications from `since` on, each e-mailed at most once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_digest")
    enabled = models.BooleanField(default=False)
    since = models.DateTimeField(help_text="Notifications from then on go into digests (set when opting in).")
    last_sent_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"digest of {self.user} ({'on' if self.enabled else 'off'})"
