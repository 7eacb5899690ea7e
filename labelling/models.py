"""Projects, members, artefacts, labels, rounds, assignments and annotations.

The life of an artefact in a round is a RoundItem: two evaluators get an
Assignment each; each submits one Annotation (a label or a verdict). Equal
annotations decide the item; different ones record a disagreement and a third
evaluator is assigned automatically; without a majority the item becomes a
conflict for the moderators.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .text import MAX_LABEL_LENGTH


class Verdict(models.TextChoices):
    FALSE_POSITIVE = "false_positive", "False positive"
    GENERIC = "generic", "Generic"
    UNCLEAR = "unclear", "Unclear"


class Project(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    max_evaluators_per_artefact = models.PositiveSmallIntegerField(
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text="Cap on evaluators per artefact, third and later ones included (the reference study used up to 4).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user")]
        ordering = ["project", "user__username"]

    def __str__(self):
        roles = [
            r
            for r, on in (("lead", self.is_lead), ("moderator", self.is_moderator), ("evaluator", self.is_evaluator))
            if on
        ]
        return f"{self.user} in {self.project} ({', '.join(roles) or 'no role'})"


class Artefact(models.Model):
    class Kind(models.TextChoices):
        SO_QUESTION = "so_question", "Stack Overflow question"
        GH_ISSUE = "gh_issue", "GitHub issue"
        GH_PULL = "gh_pull", "GitHub pull request"
        GH_COMMIT = "gh_commit", "GitHub commit"
        OTHER = "other", "Other"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="artefacts")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    framework = models.CharField(max_length=60, blank=True, help_text="Framework or topic, e.g. keras, tensorflow.")
    tags = models.JSONField(default=list, blank=True, help_text="Further topic tags.")
    url = models.URLField(max_length=2000)
    title = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True, help_text="Untrusted scraped text; rendered sanitised.")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "url"], name="artefact_unique_url")]
        indexes = [models.Index(fields=["project", "kind", "framework"])]
        ordering = ["id"]

    def __str__(self):
        return self.title or self.url


class Label(models.Model):
    """A free-text label, unique within a project after normalisation."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=MAX_LABEL_LENGTH)
    normalised = models.CharField(max_length=MAX_LABEL_LENGTH, editable=False)
    description = models.TextField(blank=True)
    in_catalogue = models.BooleanField(default=False, help_text="Curated by a lead; offered to every evaluator.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "normalised"], name="label_unique_normalised")]
        ordering = ["normalised"]

    def save(self, *args, **kwargs):
        from .text import normalise_label

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

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.CONCORD)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    seed = models.BigIntegerField(null=True, blank=True, help_text="Seed of the random sample, if sampled.")
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
    artefact = models.ForeignKey(Artefact, on_delete=models.CASCADE, related_name="round_items")
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
        ]
        ordering = ["round", "item", "order"]

    @property
    def is_extra(self) -> bool:
        return self.order > 2

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


# --- imports, exports and their progress (round spreadsheets issue) ----------------------


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


class Job(models.Model):
    """A long import or export run as a Celery task; the page polls it for progress.

    The upload waits in `input_data` until the task reads it; an export's file
    lands in `result_data`. Live progress during the task's transaction travels
    through the Celery result backend (see labelling.importers.jobs)."""

    class Kind(models.TextChoices):
        IMPORT_ARTEFACTS = "import_artefacts", "Import artefacts"
        IMPORT_ROUND = "import_round", "Import a labelled round"
        EXPORT_ROUND = "export_round", "Export a round"
        EXPORT_ANNOTATIONS = "export_annotations", "Export annotations"
        VOCABULARY_INDEX = "vocabulary_index", "Build the vocabulary index"

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
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "kind", "status"])]

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    def __str__(self):
        return f"{self.get_kind_display()} #{self.id} ({self.status})"


# --- relevance vocabulary (collect step: filter mined artefacts by flagged words) -------------


class VocabularyTerm(models.Model):
    """A stem occurring in the project's artefacts, with a sample word and how many artefacts contain it.

    Members flag terms relevant or irrelevant (TermFlag); a term's status is the
    majority of its flags, a tie (or no flag) leaves it undecided. `artefact_count`
    is refreshed by each index build (labelling.vocabulary_services.vocabulary_index)."""

    class Status(models.TextChoices):
        UNDECIDED = "undecided", "Undecided"
        RELEVANT = "relevant", "Relevant"
        IRRELEVANT = "irrelevant", "Irrelevant"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="vocabulary_terms")
    stem = models.CharField(max_length=40)
    example = models.CharField(max_length=40, help_text="A surface form of the stem, as found in the artefacts.")
    artefact_count = models.PositiveIntegerField(default=0, help_text="Artefacts containing the stem (last index).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "stem"], name="vocabularyterm_unique_stem")]
        indexes = [models.Index(fields=["project", "artefact_count"])]
        ordering = ["project", "-artefact_count", "stem"]

    def __str__(self):
        return f"{self.example} ({self.stem})"


class ArtefactTerm(models.Model):
    """Index row: the artefact's title or body contains the term's stem."""

    artefact = models.ForeignKey(Artefact, on_delete=models.CASCADE, related_name="vocabulary_rows", db_index=False)
    term = models.ForeignKey(VocabularyTerm, on_delete=models.CASCADE, related_name="artefact_rows", db_index=False)

    class Meta:
        # (artefact, term) serves an artefact's rows; (term, artefact) answers "which artefacts hold
        # these terms" from the index alone (the matching selector).
        constraints = [models.UniqueConstraint(fields=["artefact", "term"], name="artefactterm_unique_term")]
        indexes = [models.Index(fields=["term", "artefact"], name="artefactterm_term_artefact")]

    def __str__(self):
        return f"{self.term_id} in {self.artefact_id}"


class TermFlag(models.Model):
    """One member's verdict on a vocabulary term; one per member and term."""

    class Verdict(models.TextChoices):
        RELEVANT = "relevant", "Relevant"
        IRRELEVANT = "irrelevant", "Irrelevant"

    term = models.ForeignKey(VocabularyTerm, on_delete=models.CASCADE, related_name="flags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vocabulary_flags")
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["term", "user"], name="termflag_unique_user"),
            models.CheckConstraint(condition=Q(verdict__in=["relevant", "irrelevant"]), name="termflag_verdict_valid"),
        ]

    def __str__(self):
        return f"{self.user} flags {self.term_id} {self.verdict}"


class ArtefactIndexState(models.Model):
    """What the vocabulary index last read of an artefact: a digest of its title and body.

    A refresh re-reads only artefacts whose digest changed (or that have none yet)."""

    artefact = models.OneToOneField(
        Artefact, on_delete=models.CASCADE, primary_key=True, related_name="vocabulary_state"
    )
    digest = models.CharField(max_length=32, help_text="MD5 of the tokeniser version, title and body.")
    indexed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"index state of {self.artefact_id}"
