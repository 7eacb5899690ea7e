"""Artefacts (what is labelled) and the relevance vocabulary that filters them.

Tables keep the names they had when these models lived in `labelling`."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Artefact(models.Model):
    class Kind(models.TextChoices):
        SO_QUESTION = "so_question", "Stack Overflow question"
        GH_ISSUE = "gh_issue", "GitHub issue"
        GH_PULL = "gh_pull", "GitHub pull request"
        GH_COMMIT = "gh_commit", "GitHub commit"
        OTHER = "other", "Other"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="artefacts")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OTHER)
    framework = models.CharField(max_length=60, blank=True, help_text="Framework or topic, e.g. keras, tensorflow.")
    tags = models.JSONField(default=list, blank=True, help_text="Further topic tags.")
    url = models.URLField(max_length=2000)
    title = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True, help_text="Untrusted scraped text; rendered sanitised.")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "labelling_artefact"
        constraints = [models.UniqueConstraint(fields=["project", "url"], name="artefact_unique_url")]
        indexes = [models.Index(fields=["project", "kind", "framework"])]
        ordering = ["id"]

    def __str__(self):
        return self.title or self.url


class VocabularyTerm(models.Model):
    """A stem occurring in the project's artefacts, with a sample word and how many artefacts contain it.

    Members flag terms relevant or irrelevant (TermFlag); a term's status is the
    majority of its flags, a tie (or no flag) leaves it undecided. `artefact_count`
    is refreshed by each index build (collection.services.vocabulary_index)."""

    class Status(models.TextChoices):
        UNDECIDED = "undecided", "Undecided"
        RELEVANT = "relevant", "Relevant"
        IRRELEVANT = "irrelevant", "Irrelevant"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="vocabulary_terms")
    stem = models.CharField(max_length=40)
    example = models.CharField(max_length=40, help_text="A surface form of the stem, as found in the artefacts.")
    artefact_count = models.PositiveIntegerField(default=0, help_text="Artefacts containing the stem (last index).")
    batch = models.ForeignKey(
        "collection.VocabularyBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="terms"
    )
    final = models.CharField(
        max_length=12,
        blank=True,
        choices=[("relevant", "Relevant"), ("irrelevant", "Irrelevant")],
        help_text="The moderators' decision in the meeting (the final vocabulary is the relevant ones).",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "labelling_vocabularyterm"
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
        db_table = "labelling_artefactterm"
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
        db_table = "labelling_termflag"
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

    class Meta:
        db_table = "labelling_artefactindexstate"

    def __str__(self):
        return f"index state of {self.artefact_id}"


class CollectionSettings(models.Model):
    """A project's collect-step settings: repository rules (overrides of the study's defaults) and vocabulary."""

    project = models.OneToOneField(
        "core.Project", on_delete=models.CASCADE, primary_key=True, related_name="collection_settings"
    )
    repository_rules = models.JSONField(
        default=dict, blank=True, help_text="Overrides of the study's rules (collection.mining.rules.RepositoryRules)."
    )
    keep_stop_words = models.BooleanField(
        default=False,
        help_text="Keep stop words in the vocabulary (the study kept them; Concord drops them by default).",
    )
    long_tail_min = models.PositiveIntegerField(
        default=10, help_text="Words in fewer artefacts than this are cut from batches and the meeting."
    )

    def __str__(self):
        return f"settings of {self.project_id}"


class Repository(models.Model):
    """A GitHub repository considered for mining, with the attributes the selection rules read."""

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="repositories")
    url = models.URLField(max_length=500)
    framework = models.CharField(max_length=60, blank=True)
    is_fork = models.BooleanField(default=False)
    has_open_issues = models.BooleanField(null=True, blank=True, help_text="The study's has_issues column.")
    open_issues = models.PositiveIntegerField(null=True, blank=True)
    contributors = models.PositiveIntegerField(null=True, blank=True)
    commits = models.PositiveIntegerField(null=True, blank=True)
    stars = models.PositiveIntegerField(null=True, blank=True)
    forks = models.PositiveIntegerField(null=True, blank=True)
    top_contributor = models.CharField(max_length=200, blank=True)
    selected = models.BooleanField(default=True, help_text="Kept by the rules (or included by hand).")
    exclusion_reason = models.CharField(
        max_length=300, blank=True, help_text="The rule that excluded it, or a person's reason."
    )
    excluded_by_hand = models.BooleanField(default=False)
    included_by_hand = models.BooleanField(default=False)
    comment = models.CharField(max_length=500, blank=True)
    relevant_issues = models.PositiveIntegerField(null=True, blank=True)
    relevant_commits = models.PositiveIntegerField(null=True, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "url"], name="repository_unique_url")]
        indexes = [models.Index(fields=["project", "framework", "selected"])]
        ordering = ["project", "url"]

    def __str__(self):
        return self.url


class MiningRun(models.Model):
    """One mining of GitHub or Stack Overflow: its parameters and its resumable cursor state."""

    class Source(models.TextChoices):
        GITHUB = "github", "GitHub"
        STACKOVERFLOW = "stackoverflow", "Stack Overflow"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="mining_runs")
    source = models.CharField(max_length=20, choices=Source.choices)
    framework = models.CharField(max_length=60, blank=True)
    params = models.JSONField(default=dict, blank=True)
    state = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    finished = models.BooleanField(default=False)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.source} mining #{self.pk}"


class VocabularyBatch(models.Model):
    """One member's share of the vocabulary to flag (the study split its words in five equal batches)."""

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="vocabulary_batches")
    number = models.PositiveIntegerField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="vocabulary_batches"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="vocabularybatch_unique_number")]
        ordering = ["project", "number"]

    def __str__(self):
        return f"batch {self.number}"
