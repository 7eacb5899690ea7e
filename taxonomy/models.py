"""The taxonomy: inner nodes (is-a hierarchy) and leaves (labels placed under a node).

A label may be a leaf under several nodes. Artefact instances point at a leaf
through `labelling.RoundItem.leaf`; interview instances through the interview
app's final tags.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Node(models.Model):
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="taxonomy_nodes")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=200, help_text="Stored exactly as entered; escaped when rendered.")
    code = models.CharField(max_length=40, blank=True, help_text="Category code such as 4.2.1.")
    description = models.TextField(blank=True)
    examples = models.TextField(blank=True, help_text="Examples for the codebook (Markdown).")
    position = models.PositiveIntegerField(default=0)
    round_created = models.ForeignKey(
        "labelling.Round", null=True, blank=True, on_delete=models.SET_NULL, related_name="new_nodes"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "parent", "name"], name="node_unique_sibling_name"),
            models.UniqueConstraint(
                fields=["project", "name"], condition=Q(parent__isnull=True), name="node_unique_root_name"
            ),
            models.UniqueConstraint(fields=["project", "code"], condition=~Q(code=""), name="node_unique_code"),
        ]
        ordering = ["project", "position", "code", "name"]

    def __str__(self):
        return f"{self.code} {self.name}".strip()


class Leaf(models.Model):
    """A label placed under an inner node."""

    node = models.ForeignKey(Node, on_delete=models.PROTECT, related_name="leaves")
    label = models.ForeignKey("labelling.Label", on_delete=models.PROTECT, related_name="leaves")
    round_created = models.ForeignKey(
        "labelling.Round", null=True, blank=True, on_delete=models.SET_NULL, related_name="new_leaves"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["node", "label"], name="leaf_unique_label")]
        ordering = ["node", "label__normalised"]

    def __str__(self):
        return f"{self.label} (under {self.node})"


class TaxonomyChange(models.Model):
    """One edit of a project's taxonomy: who, what, when, and what it replaced.

    `snapshot` holds the state of every object the change touched, as it was
    before the change (`nodes`, `leaves`, `items` = [item id, old leaf id]),
    plus the ids the change created (`created_nodes`, `created_leaves`), so the
    latest change can be undone exactly."""

    class Action(models.TextChoices):
        NODE_CREATE = "node_create", "Created a category"
        NODE_UPDATE = "node_update", "Edited a category"
        NODE_MOVE = "node_move", "Moved a category"
        NODE_MERGE = "node_merge", "Merged categories"
        NODE_DELETE = "node_delete", "Deleted a category"
        LEAF_ATTACH = "leaf_attach", "Attached labels"
        LEAF_MOVE = "leaf_move", "Moved a leaf"
        LEAF_DETACH = "leaf_detach", "Detached a leaf"
        IMPORT = "import", "Imported a taxonomy"
        ROUNDS = "rounds", "Recomputed rounds"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="taxonomy_changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    summary = models.CharField(max_length=1000)
    snapshot = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["project", "undone_at"])]

    def __str__(self):
        return self.summary


class Comparison(models.Model):
    """Another taxonomy's classes, or a list of mutation operators, mapped onto this project's tree."""

    class Kind(models.TextChoices):
        TAXONOMY = "taxonomy", "Another taxonomy"
        MUTATION_OPERATORS = "mutation_operators", "Mutation operators"

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="taxonomy_comparisons")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TAXONOMY)
    description = models.TextField(blank=True, help_text="Source, citation, notes.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="comparison_unique_name")]
        ordering = ["project", "name"]

    def __str__(self):
        return self.name


class ComparisonClass(models.Model):
    """A class of the other taxonomy (or one mutation operator). Maps onto any number of
    nodes or leaves; several classes may map onto the same node; an unmapped class is allowed."""

    comparison = models.ForeignKey(Comparison, on_delete=models.CASCADE, related_name="classes")
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    nodes = models.ManyToManyField(Node, blank=True, related_name="comparison_classes")
    leaves = models.ManyToManyField(Leaf, blank=True, related_name="comparison_classes")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comparison", "name"], name="comparisonclass_unique_name")]
        ordering = ["comparison", "position", "id"]

    def __str__(self):
        return self.name


# --- suggestions: label vectors, merges and rejected pairs --------------------------------------


class LabelVector(models.Model):
    """A label's sentence embedding for the semantic suggestions, computed once (in Celery) and
    recomputed when the label's name changes. float32 bytes, `dimensions` long."""

    label = models.OneToOneField("labelling.Label", on_delete=models.CASCADE, related_name="suggestion_vector")
    model = models.CharField(max_length=100, help_text="The embedding model, e.g. all-MiniLM-L6-v2.")
    text = models.CharField(max_length=200, help_text="The text the vector was computed from.")
    dimensions = models.PositiveSmallIntegerField()
    vector = models.BinaryField()
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.model} vector of {self.text}"


class MergeRejection(models.Model):
    """Two labels a moderator said are not synonyms: never suggested for a merge again. Kept by
    normalised name (`name_a` < `name_b`), so it survives merges, renames back and undos."""

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="merge_rejections")
    name_a = models.CharField(max_length=200)
    name_b = models.CharField(max_length=200)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "name_a", "name_b"], name="mergerejection_unique_pair"),
            models.CheckConstraint(condition=Q(name_a__lt=models.F("name_b")), name="mergerejection_ordered"),
        ]
        ordering = ["project", "name_a", "name_b"]

    def __str__(self):
        return f"{self.name_a} ≠ {self.name_b}"


class LabelMerge(models.Model):
    """An accepted merge suggestion: the history entry, and what undoing it needs. `snapshot`
    holds, per merged label (newest last), the label's row and every row the merge changed."""

    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="label_merges")
    target = models.ForeignKey(
        "labelling.Label", null=True, blank=True, on_delete=models.SET_NULL, related_name="merges_into"
    )
    summary = models.CharField(max_length=1000)
    evidence = models.JSONField(default=list, blank=True)
    snapshot = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return self.summary
