"""Writes of the suggestions: accept a merge suggestion (the label merge service
of labelling, a history entry, undo), reject one (stored, never suggested again), and the
label vectors of the semantic scorer (computed in Celery).

Undo restores exactly what each merge changed: `label_merge` deletes the merged label and
repoints its annotations, decisions, taxonomy tags, leaves and other references, so the
snapshot taken just before it records the label's row and every row pointing at it."""

from __future__ import annotations

from itertools import combinations

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import Conflict, InvalidInput, NotFound
from core.models import Project
from core.selectors import membership_require
from core.text import normalise_label
from labelling.models import Annotation, Label, RoundItem
from labelling.services import ITEM_DECISION_FIELDS, label_merge
from taxonomy import tasks
from taxonomy.models import LabelMerge, LabelVector, Leaf, MergeRejection
from taxonomy.suggestion_selectors import suggestion_scorer_name
from taxonomy.suggestions.semantic import MODEL_NAME, load_embedder, semantic_available, vector_to_bytes

MAX_CLUSTER = 50
ROLES = ("lead", "moderator")
# Rows label_merge repoints itself; other references are found through the label's reverse relations.
_HANDLED = {("labelling.annotation", "label"), ("labelling.rounditem", "final_label")}
_HANDLED |= {("labelling.rounditem", "taxonomy_label"), ("taxonomy.leaf", "label"), ("taxonomy.labelvector", "label")}
_UNDECIDED_FIELDS = [f for f in ITEM_DECISION_FIELDS if f not in ("final_label", "taxonomy_label", "updated_at")]
_UNDECIDED_FIELDS += ["final_label_id", "taxonomy_label_id", "history"]


def _label_ids(project: Project, label_ids) -> list[Label]:
    try:
        ids = list(dict.fromkeys(int(i) for i in label_ids))
    except (TypeError, ValueError) as exc:
        raise InvalidInput("Label ids must be whole numbers.", field="labels") from exc
    if len(ids) < 2:
        raise InvalidInput("Name at least two labels.", field="labels")
    if len(ids) > MAX_CLUSTER:
        raise InvalidInput(f"At most {MAX_CLUSTER} labels at once.", field="labels")
    labels = {label.id: label for label in Label.objects.filter(project=project, id__in=ids)}
    missing = [i for i in ids if i not in labels]
    if missing:
        raise NotFound(f"No label {missing[0]} in this project.", field="labels")
    return [labels[i] for i in ids]


def _reverse_references(obj, handled: set) -> list[dict]:
    """Rows of other models whose foreign key points at `obj`, as [{model, field, ids}]."""
    out = []
    for rel in type(obj)._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        model, field = rel.related_model, rel.field.name
        if (model._meta.label_lower, field) in handled:
            continue
        ids = list(model._base_manager.filter(**{field: obj}).values_list("pk", flat=True))
        if ids:
            out.append({"model": model._meta.label_lower, "field": field, "ids": ids})
    return out


def _merge_snapshot(source: Label, target: Label) -> dict:
    """What `label_merge(source → target)` is about to change."""
    leaves = []
    for leaf in Leaf.objects.filter(label=source).order_by("id"):
        twin = Leaf.objects.filter(node_id=leaf.node_id, label=target).values_list("id", flat=True).first()
        leaves.append(
            {
                "id": leaf.id,
                "node_id": leaf.node_id,
                "round_created_id": leaf.round_created_id,
                "created_at": leaf.created_at.isoformat(),
                "twin": twin,
                "items": list(RoundItem.objects.filter(leaf=leaf).values_list("id", flat=True)) if twin else [],
                "references": _reverse_references(leaf, {("labelling.rounditem", "leaf")}) if twin else [],
            }
        )
    undecided = RoundItem.objects.filter(
        status__in=[RoundItem.Status.LABELLING, RoundItem.Status.CONFLICT],
        id__in=Annotation.objects.filter(label=source).values("assignment__item_id"),
    )
    return {
        "label": {
            "id": source.id,
            "name": source.name,
            "description": source.description,
            "in_catalogue": source.in_catalogue,
            "created_by_id": source.created_by_id,
            "created_at": source.created_at.isoformat(),
        },
        "target": {"id": target.id, "in_catalogue": target.in_catalogue, "description": target.description},
        "annotations": list(Annotation.objects.filter(label=source).values_list("id", flat=True)),
        "final_items": list(RoundItem.objects.filter(final_label=source).values_list("id", flat=True)),
        "taxonomy_items": list(RoundItem.objects.filter(taxonomy_label=source).values_list("id", flat=True)),
        "leaves": leaves,
        "undecided": [
            {**row, "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None}
            for row in undecided.values("id", *_UNDECIDED_FIELDS)
        ],
        "references": _reverse_references(source, _HANDLED),
    }


def merge_suggestion_accept(*, project: Project, user, label_ids, evidence=None) -> LabelMerge:
    """Merge every label of a suggested cluster into its first label (the label merge service:
    annotations, decisions, taxonomy tags and leaves follow; Table 1 with them), and record it."""
    membership_require(project=project, user=user, roles=ROLES)
    with transaction.atomic():
        labels = _label_ids(project, label_ids)
        target, sources = labels[0], labels[1:]
        snapshots = []
        for source in sources:
            LabelVector.objects.filter(label=source).delete()  # a cache; the target keeps its own
            snapshots.append(_merge_snapshot(source, target))
            label_merge(source_id=source.id, target_id=target.id, user=user, roles=ROLES)
        record = LabelMerge.objects.create(
            project=project,
            target=target,
            user=user,
            summary=f"Merged {', '.join(repr(s.name) for s in sources)} into {target.name!r}"[:1000],
            evidence=evidence if isinstance(evidence, list) else [],
            snapshot={"merges": snapshots},
        )
    label_vectors_refresh(project=project)
    return record


def _restore_references(references: list[dict], obj) -> None:
    for ref in references:
        model = _model(ref["model"])
        model._base_manager.filter(pk__in=ref["ids"]).update(**{ref["field"]: obj})


def _model(label_lower: str):
    app_label, _, model_name = label_lower.partition(".")
    return Label._meta.apps.get_model(app_label, model_name)


def _drop_merge_entry(rows, name: str) -> list:
    """Rows with the newest history entry of merging `name` removed."""
    for row in rows:
        history = list(row.history or [])
        for i in range(len(history) - 1, -1, -1):
            entry = history[i]
            if isinstance(entry, dict) and entry.get("event") == "merge" and entry.get("from") == name:
                del history[i]
                break
        row.history = history
    return rows


def _merge_restore(project: Project, snap: dict) -> None:
    data = snap["label"]
    clash = Label.objects.filter(project=project, normalised=normalise_label(data["name"])).first()
    if clash is not None or Label.objects.filter(id=data["id"]).exists():
        raise Conflict(f"A label {data['name']!r} exists again; undo is not possible.", field="merge")
    source = Label(project=project, **{k: v for k, v in data.items() if k != "created_at"})
    source.save(force_insert=True)
    Label.objects.filter(id=source.id).update(created_at=parse_datetime(data["created_at"]))
    target = snap["target"]
    Label.objects.filter(id=target["id"]).update(in_catalogue=target["in_catalogue"], description=target["description"])
    annotations = _drop_merge_entry(Annotation.objects.filter(id__in=snap["annotations"]), data["name"])
    for row in annotations:
        row.label = source
    Annotation.objects.bulk_update(annotations, ["label", "history"])
    items = _drop_merge_entry(RoundItem.objects.filter(id__in=snap["final_items"]), data["name"])
    for row in items:
        row.final_label = source
    RoundItem.objects.bulk_update(items, ["final_label", "history"])
    RoundItem.objects.filter(id__in=snap["taxonomy_items"]).update(taxonomy_label=source)
    for leaf in snap["leaves"]:
        if leaf["twin"] is None:
            Leaf.objects.filter(id=leaf["id"]).update(label=source)
            continue
        restored = Leaf(id=leaf["id"], node_id=leaf["node_id"], label=source, round_created_id=leaf["round_created_id"])
        restored.save(force_insert=True)
        Leaf.objects.filter(id=restored.id).update(created_at=parse_datetime(leaf["created_at"]))
        RoundItem.objects.filter(id__in=leaf["items"]).update(leaf=restored)
        _restore_references(leaf["references"], restored)
    for row in snap["undecided"]:
        values = {k: v for k, v in row.items() if k != "id"}
        values["decided_at"] = parse_datetime(values["decided_at"]) if values["decided_at"] else None
        RoundItem.objects.filter(id=row["id"]).update(**values)
    _restore_references(snap["references"], source)


def label_merge_undo(*, project: Project, user, merge_id=None) -> LabelMerge:
    """Undo the latest accepted merge (or `merge_id`, which must be the latest): the merged labels,
    their annotations, decisions, leaves and counts come back as they were (moderators and leads)."""
    membership_require(project=project, user=user, roles=ROLES)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        record = (
            LabelMerge.objects.select_for_update()
            .filter(project=project, undone_at__isnull=True)
            .order_by("-id")
            .first()
        )
        if record is None:
            raise NotFound("No merge to undo.", field="merge")
        if merge_id is not None and str(record.id) != str(merge_id):
            raise Conflict("Only the latest merge can be undone; undo the later ones first.", field="merge")
        for snap in reversed(record.snapshot.get("merges", [])):
            _merge_restore(project, snap)
        record.undone_at = timezone.now()
        record.undone_by = user
        record.save(update_fields=["undone_at", "undone_by"])
    label_vectors_refresh(project=project)
    return record


def merge_suggestion_reject(*, project: Project, user, label_ids) -> int:
    """Store every pair of the cluster as not synonyms; returns the number of new pairs."""
    membership_require(project=project, user=user, roles=ROLES)
    labels = _label_ids(project, label_ids)
    created = 0
    with transaction.atomic():
        for a, b in combinations(sorted({label.normalised for label in labels}), 2):
            _, new = MergeRejection.objects.get_or_create(
                project=project, name_a=a, name_b=b, defaults={"rejected_by": user}
            )
            created += new
    return created


# --- label vectors (semantic scorer) ---------------------------------------------------------


def label_vectors_compute(*, project: Project, embedder=None, batch: int = 256) -> int:
    """Vectors of the project's labels that have none (or one of an older name); returns how many."""
    if embedder is None:
        if not semantic_available():
            return 0
        embedder = load_embedder()
    model = getattr(embedder, "name", MODEL_NAME)
    current = dict(LabelVector.objects.filter(label__project=project, model=model).values_list("label_id", "text"))
    todo = [
        (label_id, name)
        for label_id, name in Label.objects.filter(project=project).values_list("id", "name").order_by("id")
        if current.get(label_id) != name
    ]
    for start in range(0, len(todo), batch):
        chunk = todo[start : start + batch]
        vectors = embedder.encode([name for _, name in chunk])
        for (label_id, name), vector in zip(chunk, vectors, strict=True):
            LabelVector.objects.update_or_create(
                label_id=label_id,
                defaults={"model": model, "text": name, "dimensions": len(vector), "vector": vector_to_bytes(vector)},
            )
    return len(todo)


def label_vectors_refresh(*, project: Project) -> bool:
    """Queue the computation of missing label vectors (after commit) when the semantic scorer is in use."""
    if suggestion_scorer_name() == "baseline":
        return False
    transaction.on_commit(lambda: tasks.label_vectors_task.delay(project.id))
    return True
