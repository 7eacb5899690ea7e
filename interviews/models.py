"""Interview transcripts and their fragment coding.

An Interview holds the transcript as one plain text (`text`, paragraphs joined by
a blank line) split into Paragraphs that know their speaker. A lead names three
InterviewCoders per interview: one moderator and two evaluators (slots 1 and 2;
the moderator can never be an evaluator of the same interview — one row per user
and interview). Evaluators tag Fragments: [start, end) character offsets into
`Interview.text` with a free-text tag.

When both evaluators are done, their fragments are aligned by overlap into
Pieces — the "tagged pieces" of the study's coding sheet: an agreement, a conflict
(overlapping, different tags) or a one-sided fragment. The moderator keeps a
piece (with a moderator tag) or does not keep it. A kept piece has a FinalTag,
which a final review marks accepted or removed. Accepted final tags are the
interview instances of the taxonomy: a final tag joins the leaf whose label has
the same normalised text, or the leaf a lead placed it under (`FinalTag.leaf`).

Imported coding sheets create the same Pieces and FinalTags (one per sheet row),
without fragments: the sheet records the evaluators' tags, not where they are.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.text import MAX_LABEL_LENGTH, normalise_label


class Interview(models.Model):
    class Stage(models.TextChoices):
        NEW = "new", "Coders not named"
        CODING = "coding", "Coding"
        MODERATION = "moderation", "Moderation"
        REVIEW = "review", "Final review"
        DONE = "done", "Done"

    class Source(models.TextChoices):
        CONCORD = "concord", "Coded in Concord"
        IMPORT = "import", "Imported coding sheet"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="interviews")
    number = models.PositiveIntegerField(help_text="The interview's number in the study (Interview Num).")
    title = models.CharField(max_length=300, blank=True)
    interviewee_profile = models.TextField(blank=True, help_text="Role, experience, domain of the interviewee.")
    interviewers = models.CharField(max_length=500, blank=True, help_text="Names of the interviewers, as entered.")
    date = models.DateField(null=True, blank=True)
    duration = models.DurationField(null=True, blank=True)
    text = models.TextField(blank=True, help_text="The transcript as plain text; empty for a record without one.")
    transcript_filename = models.CharField(max_length=255, blank=True)
    transcript_format = models.CharField(max_length=10, blank=True)
    speakers = models.JSONField(default=list, blank=True, help_text='[{"name": …, "colour": "#RRGGBB"|null}, …]')
    metadata = models.JSONField(default=dict, blank=True, help_text="Legend, parser notes, file metadata.")
    coding_source = models.CharField(max_length=10, choices=Source.choices, default=Source.CONCORD)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.NEW, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="interview_unique_number")]
        ordering = ["project", "number"]

    @property
    def has_transcript(self) -> bool:
        return bool(self.text)

    @property
    def is_imported(self) -> bool:
        return self.coding_source == self.Source.IMPORT

    def __str__(self):
        return self.title or f"Interview {self.number}"


class Paragraph(models.Model):
    """A paragraph of the transcript, [start, end) in `Interview.text`, spoken by `speaker`."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="paragraphs")
    position = models.PositiveIntegerField()
    speaker = models.CharField(max_length=200, blank=True)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    start_time = models.FloatField(null=True, blank=True, help_text="Seconds from the start (subtitles).")
    speaker_note = models.CharField(max_length=300, blank=True, help_text="Why the speaker is uncertain, if it is.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["interview", "position"], name="paragraph_unique_position"),
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="paragraph_end_after_start"),
        ]
        ordering = ["interview", "position"]

    def __str__(self):
        return f"{self.interview} ¶{self.position} ({self.speaker or 'unknown speaker'})"


class InterviewCoder(models.Model):
    """A person's part in coding one interview: the moderator, or evaluator 1 or 2."""

    class Role(models.TextChoices):
        MODERATOR = "moderator", "Moderator"
        EVALUATOR = "evaluator", "Evaluator"

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="coders")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="interview_coding")
    role = models.CharField(max_length=10, choices=Role.choices)
    slot = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1 or 2 for evaluators.")
    done_at = models.DateTimeField(null=True, blank=True, help_text="When the evaluator marked the interview done.")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One row per person and interview: the moderator cannot also be an evaluator.
            models.UniqueConstraint(fields=["interview", "user"], name="interviewcoder_unique_user"),
            models.UniqueConstraint(
                fields=["interview", "slot"], condition=Q(slot__isnull=False), name="interviewcoder_unique_slot"
            ),
            models.UniqueConstraint(
                fields=["interview"], condition=Q(role="moderator"), name="interviewcoder_one_moderator"
            ),
            models.CheckConstraint(
                condition=(Q(role="moderator") & Q(slot__isnull=True)) | (Q(role="evaluator") & Q(slot__in=[1, 2])),
                name="interviewcoder_role_slot",
            ),
        ]
        ordering = ["interview", "role", "slot"]

    def __str__(self):
        what = "moderator" if self.role == self.Role.MODERATOR else f"evaluator {self.slot}"
        return f"{self.user} as {what} of {self.interview}"


class Piece(models.Model):
    """One tagged piece (a row of the coding sheet) and the moderator's decision on it."""

    class Kind(models.TextChoices):
        AGREEMENT = "agreement", "Agreement"
        CONFLICT = "conflict", "Conflict"
        ONE_SIDED = "one_sided", "One-sided"
        IMPORTED = "imported", "Imported"

    class Decision(models.TextChoices):
        PENDING = "pending", "Not moderated yet"
        KEPT = "kept", "Kept"
        NOT_KEPT = "not_kept", "Not kept"

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="pieces")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    evaluator1_tag = models.TextField(blank=True, help_text="Evaluator 1's tag(s) on this piece, as recorded.")
    evaluator2_tag = models.TextField(blank=True, help_text="Evaluator 2's tag(s) on this piece, as recorded.")
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING, db_index=True)
    moderator_tag = models.TextField(blank=True)
    moderator_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    source_row = models.PositiveIntegerField(null=True, blank=True, help_text="Row of the imported coding sheet.")
    history = models.JSONField(default=list, blank=True, help_text="Earlier decisions, oldest first.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["interview", "position"], name="piece_unique_position")]
        ordering = ["interview", "position"]

    def __str__(self):
        return f"{self.interview} piece {self.position} ({self.get_kind_display()})"


class Fragment(models.Model):
    """An evaluator's tag on [start, end) of the transcript text."""

    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="fragments")
    coder = models.ForeignKey(InterviewCoder, on_delete=models.PROTECT, related_name="fragments")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    quote = models.TextField(help_text="The tagged text when tagged.")
    tag = models.CharField(max_length=MAX_LABEL_LENGTH)
    normalised = models.CharField(max_length=MAX_LABEL_LENGTH, editable=False)
    note = models.TextField(blank=True)
    piece = models.ForeignKey(Piece, null=True, blank=True, on_delete=models.SET_NULL, related_name="fragments")
    history = models.JSONField(default=list, blank=True, help_text="Earlier tags and spans, oldest first.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="fragment_end_after_start")]
        indexes = [models.Index(fields=["interview", "coder", "start"])]
        ordering = ["interview", "start", "end", "id"]

    def __str__(self):
        return f"{self.tag} [{self.start}:{self.end}]"


class FinalTag(models.Model):
    """The outcome of a kept piece: its final tag and the final review (accepted or removed)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting review"
        ACCEPTED = "accepted", "Accepted"
        REMOVED = "removed", "Removed"

    piece = models.OneToOneField(Piece, on_delete=models.CASCADE, related_name="final_tag")
    interview = models.ForeignKey(Interview, on_delete=models.CASCADE, related_name="final_tags")
    text = models.TextField(help_text="Stored as entered; may be long and span lines.")
    normalised = models.TextField(db_index=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    leaf = models.ForeignKey(
        "taxonomy.Leaf",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interview_tags",
        help_text="Placed by a lead; otherwise the leaf whose label has the same normalised text.",
    )
    history = models.JSONField(default=list, blank=True, help_text="Earlier texts and statuses, oldest first.")
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["interview", "status"])]
        ordering = ["interview", "piece__position"]

    def save(self, *args, **kwargs):

        self.normalised = normalise_label(self.text)
        super().save(*args, **kwargs)

    def __str__(self):
        return self.text
