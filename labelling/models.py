"""Labels, rounds, round items, assignments and annotations.

The life of an artefact in a round is a RoundItem: two evaluators get an
Assignment each; each submits one Annotation (a label or a verdict). Equal
annotations decide the item; different ones record a disagreement and a third
evaluator is assigned automatically; without a majority the item becomes a
conflict for the moderators.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.text import MAX_LABEL_LENGTH, normalise_label


class Verdict(models.TextChoices):
    FALSE_POSITIVE = "false_positive", "False positive"
    GENERIC = "generic", "Generic"
    UNCLEAR = "unclear", "Unclear"


class Label(models.Model):
    """A free-text label, unique within a project after normalisation."""

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=MAX_LABEL_LENGTH)
    normalised = models.CharField(max_length=MAX_LABEL_LENGTH, editable=False)
    description = models.TextField(blank=True)
    examples = models.TextField(blank=True, help_text="Examples for the codebook (Markdown).")
    in_catalogue = models.BooleanField(default=False, help_text="Curated by a lead; offered to every evaluator.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "normalised"], name="label_unique_normalised")]
        ordering = ["normalised"]

    def save(self, *args, **kwargs):
        self.normalised = normalise_label(self.name)
        super().save(*args, **kwargs)

    def __str__(self):
        return self.name


class Round(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class Source(models.TextChoices):
        CONCORD = "concord", "Labelled in Concord"
        IMPORT = "import", "Imported"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CONCORD)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True, help_text="Seed of the random sample, if sampled.")
    instructions = models.TextField(blank=True, help_text="What evaluators should know in this round (Markdown).")
    evaluators = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="rounds_evaluated")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="round_unique_number")]
        ordering = ["project", "number"]

    def __str__(self):
        return self.name or f"Round {self.number}"


class RoundItem(models.Model):
    """One artefact's passage through one round, and its decision."""

    class Status(models.TextChoices):
        LABELLING = "labelling", "Being labelled"
        AGREED = "agreed", "Agreed"
        MAJORITY = "majority", "Decided by majority"
        CONFLICT = "conflict", "Conflict (moderators)"
        RESOLVED = "resolved", "Resolved by a moderator"

    DECIDED = (Status.AGREED, Status.MAJORITY, Status.RESOLVED)

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="items")
    artefact = models.ForeignKey("collection.Artefact", on_delete=models.CASCADE, related_name="round_items")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.LABELLING, db_index=True)
    had_disagreement = models.BooleanField(default=False, help_text="The first two annotations differed.")
    is_conflict = models.BooleanField(default=False, help_text="Reached the moderators (Table 1's conflicts).")
    conflict_reason = models.CharField(max_length=300, blank=True)
    final_label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="final_items")
    final_verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    taxonomy_label = models.ForeignKey(
        Label,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="taxonomy_items",
        help_text="Current taxonomy tag; set means the artefact is relevant.",
    )
    category_code = models.CharField(max_length=40, blank=True, help_text="Taxonomy category code from an import.")
    leaf = models.ForeignKey("taxonomy.Leaf", null=True, blank=True, on_delete=models.SET_NULL, related_name="items")
    history = models.JSONField(default=list, blank=True, help_text="Earlier values (`a -> b` in imports, renames).")
    decided_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    sent_back = models.BooleanField(
        default=False,
        help_text="A moderator sent the conflict back to evaluators: decided again once they all answered.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "artefact"], name="rounditem_unique_artefact"),
            models.CheckConstraint(
                condition=Q(final_label__isnull=True) | Q(final_verdict=""), name="rounditem_label_or_verdict"
            ),
        ]
        indexes = [models.Index(fields=["round", "status"])]
        ordering = ["round", "id"]

    @property
    def is_decided(self) -> bool:
        return self.status in self.DECIDED

    def __str__(self):
        return f"{self.artefact} in {self.round}"


class Assignment(models.Model):
    """An evaluator's place on a round item; `order` is their position (1, 2, then extra evaluators)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="assignments")
    item = models.ForeignKey(RoundItem, on_delete=models.CASCADE, related_name="assignments")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    order = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # A moderator sent the item (a conflict) back to this evaluator: the assignment reopened until they answer.
    sent_back_at = models.DateTimeField(null=True, blank=True)
    sent_back_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_back_reason = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "evaluator"], name="assignment_unique_evaluator"),
            models.UniqueConstraint(fields=["item", "order"], name="assignment_unique_order"),
        ]
        indexes = [
            models.Index(fields=["evaluator", "round", "completed_at"]),
            # An evaluator's open work in a round, in queue order: `next` reads one row of it.
            models.Index(
                fields=["evaluator", "round", "id"],
                condition=Q(completed_at__isnull=True),
                name="assignment_open_queue",
            ),
            # What comes first in that queue (sent back, tie-breaks): a handful of rows per evaluator.
            models.Index(
                fields=["evaluator", "round", "id"],
                condition=Q(completed_at__isnull=True, sent_back_at__isnull=False),
                name="assignment_open_sent_back",
            ),
            models.Index(
                fields=["evaluator", "round", "id"],
                condition=Q(completed_at__isnull=True, order__gt=2),
                name="assignment_open_tie_break",
            ),
        ]
        ordering = ["round", "item", "order"]

    @property
    def is_extra(self) -> bool:
        return self.order > 2

    @property
    def is_sent_back(self) -> bool:
        """Sent back by a moderator and not answered again yet."""
        return self.sent_back_at is not None and self.completed_at is None

    def __str__(self):
        return f"{self.evaluator} #{self.order} on {self.item}"


class Annotation(models.Model):
    """One evaluator's answer for one assignment: a label or a verdict, and a note."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="annotation")
    label = models.ForeignKey(Label, null=True, blank=True, on_delete=models.PROTECT, related_name="annotations")
    verdict = models.CharField(max_length=20, choices=Verdict.choices, blank=True)
    note = models.TextField(blank=True)
    history = models.JSONField(default=list, blank=True, help_text="Earlier values, oldest first.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(label__isnull=False) & Q(verdict="")) | (Q(label__isnull=True) & ~Q(verdict="")),
                name="annotation_label_xor_verdict",
            )
        ]

    @property
    def value_key(self) -> str:
        """Equal keys mean equal answers (labels are already normalised by identity)."""
        return f"label:{self.label_id}" if self.label_id else f"verdict:{self.verdict}"

    def __str__(self):
        return str(self.label) if self.label_id else self.get_verdict_display()


# --- imported rounds -------------------------------------------------------------------------


class RoundImport(models.Model):
    """How an imported round was read: the file, and which Table 1 figures it recorded.

    A spreadsheet without a second tag (or without any taxonomy tag) never
    recorded disagreements (or relevance): Table 1 shows those figures as null,
    not 0. Written only when something changed, so re-importing the same file
    changes nothing."""

    round = models.OneToOneField(Round, on_delete=models.CASCADE, related_name="import_record")
    filename = models.CharField(max_length=300, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    recorded = models.JSONField(
        default=dict, blank=True, help_text='Figures the file recorded, e.g. {"disagreements": false}.'
    )
    report = models.JSONField(default=dict, blank=True, help_text="Summary of the last import that changed something.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.round} from {self.filename or 'a file'}"


class EscalationOutbox(models.Model):
    """An escalation owed to a disagreed item, written in the same transaction as the annotation that
    caused it (the transactional outbox). It is sent to Celery after commit; a broker that is down
    delays it (the sweeper sends it again) but never loses it. The escalation removes its rows."""

    item = models.ForeignKey(RoundItem, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [models.Index(fields=["dispatched_at", "created_at"], name="escalation_outbox_due")]

    def __str__(self) -> str:
        return f"escalation of item {self.item_id}"


class Comment(models.Model):
    """One message in the discussion of a conflict (the study's resolution meeting, written down).

    Moderators and the evaluators on the item write and read it, only once the item left blind
    labelling (a conflict, resolved or not)."""

    item = models.ForeignKey(RoundItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "created_at", "id"]

    def __str__(self):
        return f"{self.author} on {self.item_id}"
