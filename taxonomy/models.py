"""The taxonomy: inner nodes (is-a hierarchy) and leaves (labels placed under a node).

A label may be a leaf under several nodes. Artefact instances point at a leaf
through `labelling.RoundItem.leaf`; interview instances through the interview
app's final tags.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Node(models.Model):
    project = models.ForeignKey("labelling.Project", on_delete=models.CASCADE, related_name="taxonomy_nodes")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(max_length=200, help_text="Stored exactly as entered; escaped when rendered.")
    code = models.CharField(max_length=40, blank=True, help_text="Category code such as 4.2.1.")
    description = models.TextField(blank=True)
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
