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
