"""API serializers. Input serializers check the shape only; the services enforce the rules.

Blindness: while an item is undecided an evaluator sees only their own annotation on
it. No serializer here nests other people's annotations except `ConflictSerializer`,
which only moderators reach and only for items every annotation of which is in.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from collection.models import Artefact
from core.api.serializers import UserBriefSerializer
from core.text import sanitise_html
from labelling.models import Annotation, Assignment, Label, Round, RoundItem, Verdict

# Shape guards only (the services give the precise limits and messages).
MAX_TEXT_INPUT = 20_000
MAX_IDS = 200_000
MAX_ID = 2**63 - 1  # larger ids would overflow SQLite's integers (a 500) before any rule is checked


# --- fast output for the labelling loop --------------------------------------------------------
# The serializers of the hot path (an assignment with its artefact and my annotation) build their
# output directly instead of through DRF's per-instance field machinery, which cost more than the
# queries. Their declared fields still document the schema; tests check both agree.


def iso(value):
    """A datetime as DRF renders it (ISO 8601, `Z` for UTC)."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def decision(item) -> dict:
    """The decision of an item, shown only once it is decided (never a label still being argued)."""
    decided = item.status in RoundItem.DECIDED
    return {
        "final_label": item.final_label.name if decided and item.final_label_id else None,
        "final_verdict": (item.final_verdict or None) if decided else None,
    }


def artefact_data(artefact) -> dict:
    return {
        "id": artefact.id,
        "kind": artefact.kind,
        "framework": artefact.framework,
        "tags": artefact.tags,
        "url": artefact.url,
        "title": artefact.title,
        "body": artefact.body,
        "body_html": sanitise_html(artefact.body),
        "metadata": artefact.metadata,
    }


def annotation_data(annotation) -> dict:
    return {
        "id": annotation.id,
        "label": annotation.label.name if annotation.label_id else None,
        "verdict": annotation.verdict or None,
        "note": annotation.note,
        "history": annotation.history,
        "created_at": iso(annotation.created_at),
        "updated_at": iso(annotation.updated_at),
    }


def item_data(item) -> dict:
    return {"item_id": item.id, "status": item.status, "decided": item.status in RoundItem.DECIDED, **decision(item)}


def own_annotation(assignment):
    try:
        return assignment.annotation
    except Annotation.DoesNotExist:
        return None


def assignment_data(assignment, *, with_artefact: bool = True) -> dict:
    """One of the requester's assignments: its item's state, the artefact and the requester's own annotation."""
    annotation = own_annotation(assignment)
    data = {
        "id": assignment.id,
        "round": assignment.round.number,
        "order": assignment.order,
        "is_extra": assignment.order > 2,
        "created_at": iso(assignment.created_at),
        "completed_at": iso(assignment.completed_at),
        "sent_back_at": iso(assignment.sent_back_at),
        "sent_back_reason": assignment.sent_back_reason,
        "item": item_data(assignment.item),
    }
    if with_artefact:
        data["artefact"] = artefact_data(assignment.item.artefact)
    data["annotation"] = annotation_data(annotation) if annotation is not None else None
    return data


class ArtefactBriefSerializer(serializers.ModelSerializer):
    body_html = serializers.SerializerMethodField(help_text="The body sanitised for rendering (scripts etc. removed).")

    class Meta:
        model = Artefact
        fields = ["id", "kind", "framework", "tags", "url", "title", "body", "body_html", "metadata"]

    def get_body_html(self, obj) -> str:
        return sanitise_html(obj.body)

    def to_representation(self, instance):
        return artefact_data(instance)


class DecisionMixin:
    decision = staticmethod(decision)


class ArtefactRoundSerializer(DecisionMixin, serializers.Serializer):
    """An artefact's passage through a round: status and (once decided) the decision."""

    item_id = serializers.IntegerField(source="id", read_only=True)
    round = serializers.IntegerField(source="round.number", read_only=True)
    status = serializers.ChoiceField(choices=RoundItem.Status.choices, read_only=True)
    decided = serializers.BooleanField(source="is_decided", read_only=True)
    final_label = serializers.SerializerMethodField()
    final_verdict = serializers.SerializerMethodField()

    def get_final_label(self, obj) -> str | None:
        return self.decision(obj)["final_label"]

    @extend_schema_field(serializers.ChoiceField(choices=Verdict.choices, allow_null=True))
    def get_final_verdict(self, obj):
        return self.decision(obj)["final_verdict"]


class ArtefactSerializer(ArtefactBriefSerializer):
    rounds = ArtefactRoundSerializer(source="round_items", many=True, read_only=True)

    class Meta(ArtefactBriefSerializer.Meta):
        fields = [*ArtefactBriefSerializer.Meta.fields, "created_at", "rounds"]

    def to_representation(self, instance):
        return serializers.ModelSerializer.to_representation(self, instance)


class AnnotationSerializer(serializers.ModelSerializer):
    """The requester's own annotation."""

    label = serializers.CharField(source="label.name", read_only=True, allow_null=True, default=None)
    verdict = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = ["id", "label", "verdict", "note", "history", "created_at", "updated_at"]

    @extend_schema_field(serializers.ChoiceField(choices=Verdict.choices, allow_null=True))
    def get_verdict(self, obj):
        return obj.verdict or None

    def to_representation(self, instance):
        return annotation_data(instance)


class AssignmentItemSerializer(ArtefactRoundSerializer):
    round = None  # the assignment names its round already

    class Meta:
        fields = ["item_id", "status", "decided", "final_label", "final_verdict"]

    def to_representation(self, instance):
        return item_data(instance)


class AssignmentSerializer(serializers.ModelSerializer):
    """One of the requester's assignments, with the artefact and the requester's own annotation only."""

    round = serializers.IntegerField(source="round.number", read_only=True)
    artefact = ArtefactBriefSerializer(source="item.artefact", read_only=True)
    item = AssignmentItemSerializer(read_only=True)
    annotation = serializers.SerializerMethodField()
    is_extra = serializers.BooleanField(read_only=True, help_text="A third (or later) evaluator after a disagreement.")
    sent_back_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When a moderator sent the conflict back to the requester."
    )
    sent_back_reason = serializers.CharField(read_only=True, help_text="The moderator's reason (empty if never).")

    class Meta:
        model = Assignment
        fields = [
            *("id", "round", "order", "is_extra", "created_at", "completed_at", "sent_back_at", "sent_back_reason"),
            *("item", "artefact", "annotation"),
        ]

    @extend_schema_field(AnnotationSerializer(allow_null=True))
    def get_annotation(self, obj):
        annotation = own_annotation(obj)
        return annotation_data(annotation) if annotation is not None else None

    def to_representation(self, instance):
        return assignment_data(instance)


class AnnotationInputSerializer(serializers.Serializer):
    label = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=MAX_TEXT_INPUT,
        help_text="Free-text label (at most 200 characters after trimming). Give a label or a verdict.",
    )
    verdict = serializers.ChoiceField(choices=Verdict.choices, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_INPUT)


class AssignmentDoneSerializer(AssignmentSerializer):
    """The assignment just annotated: the annotation and the item's state, without the artefact again."""

    class Meta(AssignmentSerializer.Meta):
        fields = [f for f in AssignmentSerializer.Meta.fields if f != "artefact"]

    def to_representation(self, instance):
        return assignment_data(instance, with_artefact=False)


class SubmitResultSerializer(serializers.Serializer):
    assignment = AssignmentDoneSerializer(help_text="The assignment just annotated, with the annotation.")
    next = AssignmentSerializer(allow_null=True, help_text="The requester's next open assignment, if any.")


class RoundSerializer(serializers.ModelSerializer):
    evaluators = UserBriefSerializer(many=True, read_only=True)
    items_total = serializers.IntegerField(read_only=True)
    items_decided = serializers.IntegerField(read_only=True)
    items_conflict = serializers.IntegerField(read_only=True, help_text="Open conflicts (with the moderators).")
    items_disagreed = serializers.IntegerField(read_only=True, help_text="Items whose first two labels differed.")
    assignments_total = serializers.IntegerField(read_only=True)
    assignments_done = serializers.IntegerField(read_only=True)

    class Meta:
        model = Round
        fields = [
            "number",
            "name",
            "status",
            "source",
            "starts_on",
            "ends_on",
            "closed_at",
            "seed",
            "created_at",
            "evaluators",
            "items_total",
            "items_decided",
            "items_conflict",
            "items_disagreed",
            "assignments_total",
            "assignments_done",
        ]


class RoundCreateSerializer(serializers.Serializer):
    """Either `artefact_ids` (a selection) or `sample_size` (a seeded random sample, filtered by kinds/frameworks)."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    number = serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    evaluator_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=1000
    )
    artefact_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, max_length=MAX_IDS
    )
    sample_size = serializers.IntegerField(required=False)
    seed = serializers.IntegerField(required=False, min_value=0, max_value=2**63 - 1)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=Artefact.Kind.choices), required=False, max_length=10
    )
    frameworks = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=1000)
    vocabulary_only = serializers.BooleanField(
        required=False, default=False, help_text="Sample only artefacts matching the (final) relevance vocabulary."
    )


class EvaluatorProgressSerializer(serializers.Serializer):
    evaluator_id = serializers.IntegerField()
    username = serializers.CharField(source="evaluator__username")
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    extra = serializers.IntegerField(help_text="Assignments as third (or later) evaluator.")
    percent = serializers.FloatField()


class RoundProgressSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    status = serializers.CharField()
    items = serializers.IntegerField(source="total")
    labelling = serializers.IntegerField()
    agreed = serializers.IntegerField()
    majority = serializers.IntegerField()
    conflict = serializers.IntegerField(help_text="Open conflicts.")
    resolved = serializers.IntegerField()
    decided = serializers.IntegerField()
    disagreements = serializers.IntegerField(help_text="Items whose first two labels differed.")
    open_disagreements = serializers.IntegerField()
    conflicts = serializers.IntegerField(help_text="Items that reached the moderators (Table 1's conflicts).")
    assignments = serializers.IntegerField()
    assignments_done = serializers.IntegerField()
    compared = serializers.IntegerField(help_text="Items whose first two annotations are in.")
    percent_agreement = serializers.FloatField(allow_null=True, help_text="agreed / compared × 100, so far.")
    evaluators = EvaluatorProgressSerializer(many=True)


class ConflictAnnotationSerializer(serializers.Serializer):
    annotation_id = serializers.IntegerField(source="annotation.id")
    assignment_id = serializers.IntegerField(source="id")
    order = serializers.IntegerField()
    evaluator = UserBriefSerializer()
    label = serializers.CharField(source="annotation.label.name", allow_null=True, default=None)
    verdict = serializers.SerializerMethodField()
    note = serializers.CharField(source="annotation.note")
    updated_at = serializers.DateTimeField(source="annotation.updated_at")

    @extend_schema_field(serializers.ChoiceField(choices=Verdict.choices, allow_null=True))
    def get_verdict(self, obj):
        return obj.annotation.verdict or None


class ConflictSerializer(DecisionMixin, serializers.ModelSerializer):
    """An item that reached the moderators, with every annotation, its author and note side by side."""

    round = serializers.IntegerField(source="round.number", read_only=True)
    artefact = ArtefactBriefSerializer(read_only=True)
    annotations = serializers.SerializerMethodField()
    final_label = serializers.SerializerMethodField()
    final_verdict = serializers.SerializerMethodField()
    resolved_by = UserBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = RoundItem
        fields = [
            "id",
            "round",
            "status",
            "had_disagreement",
            "is_conflict",
            "conflict_reason",
            "artefact",
            "annotations",
            "final_label",
            "final_verdict",
            "resolved_by",
            "resolved_at",
            "resolution_note",
            "sent_back",
        ]

    @extend_schema_field(ConflictAnnotationSerializer(many=True))
    def get_annotations(self, obj):
        done = [a for a in obj.assignments.all() if _has_annotation(a)]
        return ConflictAnnotationSerializer(done, many=True, context=self.context).data

    def get_final_label(self, obj) -> str | None:
        return self.decision(obj)["final_label"]

    @extend_schema_field(serializers.ChoiceField(choices=Verdict.choices, allow_null=True))
    def get_final_verdict(self, obj):
        return self.decision(obj)["final_verdict"]


def _has_annotation(assignment) -> bool:
    try:
        return assignment.annotation is not None
    except Annotation.DoesNotExist:
        return False


class ResolveInputSerializer(serializers.Serializer):
    """Exactly one of `annotation_id` (pick an evaluator's answer), `label` (a new label) or `verdict`."""

    annotation_id = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    label = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_INPUT)
    verdict = serializers.ChoiceField(choices=Verdict.choices, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_INPUT)


class SendBackInputSerializer(serializers.Serializer):
    """Send a conflict back to some of the evaluators who labelled it, with the reason they will read."""

    evaluator_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=True, max_length=100
    )
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_INPUT)


class LabelSerializer(serializers.ModelSerializer):
    """A label of the catalogue, for leads: usage over all annotations and decided items."""

    annotation_count = serializers.IntegerField(read_only=True)
    decided_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Label
        fields = [
            "id",
            "name",
            "normalised",
            "description",
            "examples",
            "in_catalogue",
            "annotation_count",
            "decided_count",
        ]
        read_only_fields = ["normalised"]


class LabelWriteSerializer(serializers.Serializer):
    """Create (name required) or update a label; a new `name` renames it."""

    # Blank reaches the service, which names the problem (a blank form field would otherwise be skipped).
    name = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_INPUT)
    description = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT_INPUT)
    examples = serializers.CharField(required=False, allow_blank=True, max_length=MAX_TEXT_INPUT)
    in_catalogue = serializers.BooleanField(required=False)


class LabelCreateSerializer(LabelWriteSerializer):
    name = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=MAX_TEXT_INPUT)
    in_catalogue = serializers.BooleanField(required=False, default=True)


class LabelMergeSerializer(serializers.Serializer):
    target_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, help_text="The label that remains; this label is merged into it."
    )


class LabelSuggestionSerializer(serializers.ModelSerializer):
    """A label an evaluator may see: catalogue, decisions of decided items, or their own."""

    count = serializers.SerializerMethodField(help_text="Decided items with this label plus the requester's own uses.")
    decided_count = serializers.IntegerField(read_only=True)
    my_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Label
        fields = ["id", "name", "in_catalogue", "count", "decided_count", "my_count"]

    def get_count(self, obj) -> int:
        return obj.decided_count + obj.my_count
