"""The validation survey of a taxonomy (the paper's Table 2).

A lead builds a Survey from the project's current taxonomy. Each asked category is
copied into a SurveyCategory (its path, code and description as they were), so later
edits of the taxonomy never change what respondents saw. Respondents need no account:
the survey's `token` is the shareable link; each Response gets its own `token`, so a
respondent can return to finish. A Response is final once `submitted_at` is set.

Per category a respondent says whether they ever encountered the fault (Answer.encountered)
and, only if so, rates its severity and the effort to diagnose and fix it (1..5).
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.text import MAX_LABEL_LENGTH

SCALE_MIN, SCALE_MAX = 1, 5
TOKEN_BYTES = 24  # secrets.token_urlsafe(24): 32 characters, 192 random bits


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _scale_check(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": SCALE_MIN, f"{field}__lte": SCALE_MAX}),
        name=name,
    )


class Survey(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="Shown to respondents above the questions (plain text).")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    ask_severity = models.BooleanField(default=True, help_text="Severity 1–5 when encountered.")
    ask_effort = models.BooleanField(default=True, help_text="Effort to diagnose and fix 1–5 when encountered.")
    ask_comment = models.BooleanField(default=True, help_text="An optional comment per category.")
    ask_background = models.BooleanField(default=True, help_text="Role, years of experience, frameworks used.")
    ask_missing = models.BooleanField(default=True, help_text="Free text: faults the taxonomy misses.")
    selection = models.JSONField(default=dict, blank=True, help_text="How the categories were chosen.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "title"], name="survey_unique_title")]
        ordering = ["project", "-created_at", "-id"]

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def __str__(self):
        return self.title


class SurveyCategory(models.Model):
    """A category asked about, as it was when the survey was created."""

    class Kind(models.TextChoices):
        NODE = "node", "Inner category"
        LEAF = "leaf", "Leaf"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="categories")
    position = models.PositiveIntegerField(help_text="Taxonomy order at creation.")
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.NODE)
    # Plain ids, not foreign keys: the snapshot stands alone, and the taxonomy's own rules
    # (deleting, merging, undoing) never see or block on survey rows.
    source_id = models.BigIntegerField(null=True, blank=True, help_text="Id of the Node or Leaf it was copied from.")
    code = models.CharField(max_length=40, blank=True)
    name = models.CharField(max_length=max(MAX_LABEL_LENGTH, 200))
    path = models.JSONField(default=list, help_text="Names from the top-level category down to this one.")
    level = models.PositiveSmallIntegerField(default=1, help_text="Depth in the taxonomy (1 = top level).")
    description = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["survey", "position"], name="surveycategory_unique_position"),
            models.UniqueConstraint(
                fields=["survey", "kind", "source_id"],
                condition=Q(source_id__isnull=False),
                name="surveycategory_unique_source",
            ),
        ]
        ordering = ["survey", "position"]

    @property
    def path_text(self) -> str:
        return " › ".join(self.path or [self.name])

    @property
    def display_name(self) -> str:
        return f"{self.code} {self.name}".strip()

    def __str__(self):
        return self.display_name


class Response(models.Model):
    """One respondent's answers; editable until submitted, then final."""

    class Role(models.TextChoices):
        DEVELOPER = "developer", "Developer / engineer in industry"
        RESEARCHER = "researcher", "Researcher"
        STUDENT = "student", "Student"
        OTHER = "other", "Other"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    experience_years = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(70)], help_text="Years of experience with deep learning."
    )
    missing_faults = models.TextField(blank=True, help_text="Faults the respondent missed in the taxonomy.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["survey", "submitted_at"])]
        ordering = ["survey", "id"]

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    def __str__(self):
        return f"Response {self.id} to {self.survey}"


class ResponseFramework(models.Model):
    """A framework the respondent has used (one row each, so they can be counted in SQL)."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="frameworks")
    name = models.CharField(max_length=60)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["response", "name"], name="responseframework_unique_name")]
        ordering = ["response", "name"]

    def __str__(self):
        return self.name


class Answer(models.Model):
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    category = models.ForeignKey(SurveyCategory, on_delete=models.CASCADE, related_name="answers")
    encountered = models.BooleanField()
    severity = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(SCALE_MIN), MaxValueValidator(SCALE_MAX)]
    )
    effort = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(SCALE_MIN), MaxValueValidator(SCALE_MAX)]
    )
    comment = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "category"], name="answer_unique_category"),
            _scale_check("severity", "answer_severity_range"),
            _scale_check("effort", "answer_effort_range"),
            models.CheckConstraint(
                condition=Q(encountered=True) | (Q(severity__isnull=True) & Q(effort__isnull=True)),
                name="answer_ratings_only_when_encountered",
            ),
        ]
        indexes = [models.Index(fields=["category", "encountered"])]
        ordering = ["response", "category__position"]

    def __str__(self):
        return f"{self.category}: {'yes' if self.encountered else 'no'}"
