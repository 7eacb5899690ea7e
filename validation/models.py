"""The validation survey of a taxonomy (the paper's Table 2).

A lead builds a Survey from the project's current taxonomy. Each asked category is
copied into a SurveyCategory (its path, code and description as they were), so later
edits of the taxonomy never change what respondents saw. Respondents need no account:
the survey's `token` is the shareable link; each Response gets its own `token`, so a
respondent can return to finish. A Response is final once `submitted_at` is set.

Per category a respondent says whether they ever encountered the fault (Answer.encountered)
and, only if so, rates its severity and the effort to diagnose and fix it, each on the survey's
ordinal scale (`severity_scale`, `effort_scale`: the labels in order; an answer stores the
1-based position). New surveys ask the study's scales (Minor/Major/Critical, Low/Medium/High);
surveys made before scales existed keep the numeric 1–5 scale their answers were given on.
Any question may be skipped: no Answer row for a category left unanswered, null for a rating.

Responses also come from files collected elsewhere (Qualtrics, ...): `external_id` is the
respondent id in that file (unique per survey, so importing a file twice adds nothing) and
`background` keeps the background answers as written (question -> answer).

Participants (interviewees and survey respondents) are described for the paper's participants table.
"""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.text import MAX_LABEL_LENGTH

SCALE_MIN, SCALE_MAX = 1, 5  # a scale has 2 to 5 levels; positions are 1..5
STUDY_SEVERITY = ["Minor", "Major", "Critical"]
STUDY_EFFORT = ["Low", "Medium", "High"]
NUMERIC = ["1", "2", "3", "4", "5"]


def study_severity_scale() -> list[str]:
    return list(STUDY_SEVERITY)


def study_effort_scale() -> list[str]:
    return list(STUDY_EFFORT)


def numeric_scale() -> list[str]:
    return list(NUMERIC)


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
    ask_severity = models.BooleanField(default=True, help_text="Severity when encountered.")
    ask_effort = models.BooleanField(default=True, help_text="Effort to diagnose and fix when encountered.")
    severity_scale = models.JSONField(default=study_severity_scale, help_text="Severity levels, lowest first.")
    effort_scale = models.JSONField(default=study_effort_scale, help_text="Effort levels, lowest first.")
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

    def scale(self, question: str) -> list[str]:
        """The labels of "severity" or "effort", lowest first."""
        return list(self.severity_scale if question == "severity" else self.effort_scale)

    def label(self, question: str, position: int | None) -> str:
        labels = self.scale(question)
        return labels[position - 1] if position and 0 < position <= len(labels) else ""

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
    external_id = models.CharField(max_length=100, blank=True, help_text="Respondent id in an imported file.")
    background = models.JSONField(default=dict, blank=True, help_text="Imported background answers (question: answer).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["survey", "submitted_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "external_id"], condition=~Q(external_id=""), name="response_unique_external_id"
            )
        ]
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


class Participant(models.Model):
    """An interviewee or a survey respondent as the paper's participants table describes them."""

    class Kind(models.TextChoices):
        INTERVIEWEE = "interviewee", "Interviewee"
        RESPONDENT = "respondent", "Survey respondent"

    class Role(models.TextChoices):
        RESEARCHER = "researcher", "Researcher"
        PRACTITIONER = "practitioner", "Practitioner"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="participants")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    external_id = models.CharField(max_length=100, help_text="Id in the study's files (P1, R_abc, interview 3).")
    role = models.CharField(max_length=12, choices=Role.choices, blank=True)
    role_text = models.CharField(max_length=200, blank=True, help_text="The role as written.")
    experience_years = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    dl_experience_years = models.FloatField(null=True, blank=True, validators=[MinValueValidator(0)])
    frameworks = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "kind", "external_id"], name="participant_unique_id"),
        ]
        ordering = ["project", "kind", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.external_id}"
