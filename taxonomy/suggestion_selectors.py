"""Reads of the suggestions: the decided history, leaf suggestions for label
texts, and synonym-merge suggestions.

Blindness: the history holds DECIDED items only (agreed, majority, resolved; imported
rounds included): each evaluator's tag, the final tag and the taxonomy tag of an item,
placed under the item's leaf. Nothing an evaluator is still labelling, nor a conflict
waiting for the moderators, feeds a suggestion; the pages and API that show them are for
moderators and leads.

The scorer is chosen by measured recall (bench/suggestions.py): the rapidfuzz baseline,
unless settings.SUGGESTION_SCORER names "semantic" or "hybrid" and the optional extra is
installed (label vectors then come from the LabelVector table, computed in Celery).
"""

from __future__ import annotations

import time
from collections import OrderedDict, defaultdict
from collections.abc import Collection, Iterable

from django.conf import settings
from django.db.models import Count, F, Max

from core.models import Project
from core.text import normalise_label
from labelling.models import Annotation, Label, Round, RoundItem
from taxonomy.models import LabelMerge, LabelVector, Leaf, MergeRejection, Node, TaxonomyChange
from taxonomy.suggestions import BaselineScorer, LabelInfo, Placement, Target, suggest_merges, targets_from_tree
from taxonomy.suggestions.model import CATEGORY, LEAF
from taxonomy.suggestions.semantic import (
    MODEL_NAME,
    CachedEmbedder,
    HybridScorer,
    SemanticScorer,
    load_embedder,
    semantic_available,
    vector_from_bytes,
)

DEFAULT_TOP = 5
MAX_TOP = 50
SCORERS = ("baseline", "semantic", "hybrid")


def suggestion_scorer_name() -> str:
    """The configured scorer, falling back to the baseline without the optional extra."""
    name = getattr(settings, "SUGGESTION_SCORER", "baseline")
    if name not in SCORERS or (name != "baseline" and not semantic_available()):
        return "baseline"
    return name


def suggestion_targets(*, project: Project) -> list[Target]:
    """Every inner category and every leaf of the project's taxonomy, with its path."""
    nodes = [
        {"id": n["id"], "parent": n["parent_id"], "name": n["name"], "description": n["description"]}
        for n in Node.objects.filter(project=project).values("id", "parent_id", "name", "description")
    ]
    leaves = [
        {"id": row["id"], "node": row["node_id"], "name": row["label__name"], "description": row["label__description"]}
        for row in Leaf.objects.filter(node__project=project).values(
            "id", "node_id", "label__name", "label__description"
        )
    ]
    return targets_from_tree(nodes, leaves)


def decided_items(*, project: Project, rounds: Collection[int] | None = None):
    items = RoundItem.objects.filter(round__project=project, status__in=RoundItem.DECIDED)
    if rounds:
        items = items.filter(round__number__in=list(rounds))
    return items


def _item_leaves(items) -> dict[int, tuple[set[int], int]]:
    """item id -> (leaf ids, round number): the item's own leaf, else the leaves of its taxonomy label."""
    out: dict[int, tuple[set[int], int]] = {}
    for item_id, leaf_id, number in items.filter(leaf__isnull=False).values_list("id", "leaf_id", "round__number"):
        out[item_id] = ({leaf_id}, number)
    mapped = items.filter(leaf__isnull=True, taxonomy_label__leaves__isnull=False).values_list(
        "id", "taxonomy_label__leaves__id", "round__number"
    )
    for item_id, leaf_id, number in mapped:
        out.setdefault(item_id, (set(), number))[0].add(leaf_id)
    return out


def _item_texts(items) -> dict[int, set[tuple[int, str]]]:
    """item id -> (label id, name) of every evaluator's tag, the final tag and the taxonomy tag."""
    texts: dict[int, set[tuple[int, str]]] = defaultdict(set)
    for item_id, *pairs in items.values_list(
        "id", "final_label_id", "final_label__name", "taxonomy_label_id", "taxonomy_label__name"
    ):
        for label_id, name in (pairs[:2], pairs[2:]):
            if label_id is not None:
                texts[item_id].add((label_id, name))
    for item_id, label_id, name in Annotation.objects.filter(
        assignment__item__in=items.values("id"), label__isnull=False
    ).values_list("assignment__item_id", "label_id", "label__name"):
        texts[item_id].add((label_id, name))
    return texts


def suggestion_history(*, project: Project, rounds: Collection[int] | None = None) -> list[Placement]:
    """Wordings placed under leaves by decided items (of `rounds` only, when given)."""
    items = decided_items(project=project, rounds=rounds)
    leaves = _item_leaves(items)
    texts = _item_texts(items.filter(id__in=list(leaves)))
    return [
        Placement(text=name, target=f"leaf:{leaf_id}", round=number)
        for item_id, (leaf_ids, number) in leaves.items()
        for _, name in texts.get(item_id, ())
        for leaf_id in leaf_ids
    ]


class _VectorStore(dict):
    """text -> float32 bytes of the project's label vectors (LabelVector), read once."""

    def __init__(self, project: Project):
        super().__init__(
            LabelVector.objects.filter(label__project=project, model=MODEL_NAME).values_list("text", "vector")
        )


def _state(project: Project) -> tuple:
    """Changes whenever the history or the taxonomy a scorer was built from may have changed."""
    items = RoundItem.objects.filter(round__project=project).aggregate(n=Count("id"), u=Max("updated_at"))
    leaves = Leaf.objects.filter(node__project=project).aggregate(n=Count("id"), m=Max("id"))
    nodes = Node.objects.filter(project=project).aggregate(n=Count("id"), m=Max("id"))
    changes = TaxonomyChange.objects.filter(project=project).aggregate(m=Max("id"), u=Max("undone_at"))
    merges = LabelMerge.objects.filter(project=project).aggregate(m=Max("id"), u=Max("undone_at"))
    labels = Label.objects.filter(project=project).aggregate(n=Count("id"), m=Max("id"))
    return tuple(tuple(d.values()) for d in (items, leaves, nodes, changes, merges, labels))


_CACHE: OrderedDict = OrderedDict()
CACHE_SIZE = 8
CACHE_SECONDS = 300


def suggestion_scorer(*, project: Project, rounds: Collection[int] | None = None, name: str | None = None):
    """The scorer over the project's taxonomy and decided history; kept in this process while
    nothing it was built from changed (a few minutes at most)."""
    name = name or suggestion_scorer_name()
    key = (project.pk, project.created_at, tuple(rounds or ()), name)
    state = _state(project)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] == state and time.monotonic() - cached[1] < CACHE_SECONDS:
        _CACHE.move_to_end(key)
        return cached[2]
    scorer = _build_scorer(project, rounds, name)
    _CACHE[key] = (state, time.monotonic(), scorer)
    while len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return scorer


def _build_scorer(project: Project, rounds: Collection[int] | None, name: str):
    targets = suggestion_targets(project=project)
    history = suggestion_history(project=project, rounds=rounds)
    baseline = BaselineScorer(targets, history)
    if name == "baseline":
        return baseline
    embedder = CachedEmbedder(load_embedder(), _VectorStore(project))
    semantic = SemanticScorer(targets, history, embedder=embedder)
    return semantic if name == "semantic" else HybridScorer(baseline, semantic)


def leaf_suggestions(
    *,
    project: Project,
    texts: Iterable[str],
    top: int = DEFAULT_TOP,
    rounds: Collection[int] | None = None,
    categories: bool = False,
    scorer=None,
) -> list[dict]:
    """[{"text", "leaves": [{"name", "path", "score", "kind", "key"}, …]}, …] for each text."""
    scorer = scorer or suggestion_scorer(project=project, rounds=rounds)
    kinds = (LEAF, CATEGORY) if categories else (LEAF,)
    targets = getattr(scorer, "baseline", scorer).docs.targets
    out = []
    for text in texts:
        suggestions = scorer.suggest(text, top=max(1, min(top, MAX_TOP)), kinds=kinds)
        out.append(
            {
                "text": text,
                "leaves": [{**s.as_json(), "key": s.key, "node": _node_of(targets, s.key)} for s in suggestions],
            }
        )
    return out


def _node_of(targets: dict[str, Target], key: str) -> int | None:
    """The inner node a suggestion attaches to: a category itself, or a leaf's node."""
    node_key = key if key.startswith("node:") else targets[key].parent
    return int(node_key.partition(":")[2]) if node_key else None


def unmapped_label_suggestions(*, project: Project, unmapped, top: int = 3) -> dict[int, list[dict]]:
    """label id -> its suggestions, for the taxonomy builder's unmapped labels."""
    entries = [u for u in unmapped if u.label_id is not None]
    if not entries:
        return {}
    results = leaf_suggestions(project=project, texts=[u.name for u in entries], top=top, categories=True)
    return {u.label_id: r["leaves"] for u, r in zip(entries, results, strict=True)}


def round_review(*, project: Project, round: Round, top: int = DEFAULT_TOP) -> list[dict]:
    """After a round closes: its labels that no leaf carries, with suggestions from the other
    decided rounds (the round's own decisions included: the round is closed)."""
    labels = (
        Label.objects.filter(project=project, annotations__assignment__item__round=round, leaves__isnull=True)
        .distinct()
        .order_by("normalised")
        .values_list("id", "name")
    )
    rows = list(labels)
    results = leaf_suggestions(project=project, texts=[name for _, name in rows], top=top, categories=True)
    return [{"label_id": label_id, **r} for (label_id, _), r in zip(rows, results, strict=True)]


# --- merges -------------------------------------------------------------------------------


def rejected_pairs(*, project: Project) -> set[tuple[str, str]]:
    return set(MergeRejection.objects.filter(project=project).values_list("name_a", "name_b"))


def _labels_with_counts(project: Project) -> list[LabelInfo]:
    counts = defaultdict(int)
    for label_id in Annotation.objects.filter(label__project=project).values_list("label_id", flat=True):
        counts[label_id] += 1
    leaves = set(Leaf.objects.filter(node__project=project).values_list("label_id", flat=True))
    return [
        LabelInfo(key=label_id, text=name, count=counts.get(label_id, 0), rank=int(label_id in leaves))
        for label_id, name in Label.objects.filter(project=project).values_list("id", "name").order_by("id")
    ]


def _merge_evidence(project: Project) -> tuple[dict[int, set], list[set[int]]]:
    """label id -> leaves its decided items went to (and its own leaves); the labels of each decided artefact."""
    items = decided_items(project=project)
    leaves = _item_leaves(items)
    texts = _item_texts(items)
    placements: dict[int, set] = defaultdict(set)
    for item_id, (leaf_ids, _) in leaves.items():
        for label_id, _ in texts.get(item_id, ()):
            placements[label_id].update(leaf_ids)
    for leaf_id, label_id in Leaf.objects.filter(node__project=project).values_list("id", "label_id"):
        placements[label_id].add(leaf_id)
    artefacts = [{label_id for label_id, _ in pairs} for pairs in texts.values()]
    return placements, artefacts


def _label_vectors(project: Project) -> dict[int, object] | None:
    if suggestion_scorer_name() == "baseline":
        return None
    rows = LabelVector.objects.filter(label__project=project, model=MODEL_NAME).values_list("label_id", "vector")
    return {label_id: vector_from_bytes(data) for label_id, data in rows} or None


def merge_suggestions(*, project: Project, limit: int | None = None) -> list[dict]:
    """Clusters of labels likely to name one fault: {"labels": [names], "label_ids", "score", "evidence"}.
    The first label is the one kept on accepting: a taxonomy leaf's own label, else the most used."""
    labels = _labels_with_counts(project)
    names = {label.key: label.text for label in labels}
    by_normalised = {normalise_label(label.text): label.key for label in labels}
    rejected = [
        (by_normalised[a], by_normalised[b])
        for a, b in rejected_pairs(project=project)
        if a in by_normalised and b in by_normalised
    ]
    placements, artefacts = _merge_evidence(project)
    leaf_names = dict(Leaf.objects.filter(node__project=project).values_list("id", "label__name"))
    clusters = suggest_merges(
        labels,
        placements=placements,
        artefacts=artefacts,
        rejected=rejected,
        vectors=_label_vectors(project),
    )
    out = []
    for cluster in clusters[:limit]:
        shown = cluster.as_json(names)
        for evidence in shown["evidence"]:
            evidence["shared_leaves"] = sorted({leaf_names.get(int(k), k) for k in evidence["shared_leaves"]})
        out.append({**shown, "label_ids": list(cluster.labels)})
    return out


def label_vectors_missing(*, project: Project) -> int:
    """Labels of the project without a current vector (0 when the baseline scorer is in use)."""
    if suggestion_scorer_name() == "baseline":
        return 0
    fresh = LabelVector.objects.filter(label__project=project, model=MODEL_NAME, text=F("label__name"))
    return Label.objects.filter(project=project).count() - fresh.count()


def label_merges(*, project: Project, limit: int = 20):
    return LabelMerge.objects.filter(project=project).select_related("user", "undone_by")[:limit]


def merge_last_undoable(*, project: Project) -> LabelMerge | None:
    return LabelMerge.objects.filter(project=project, undone_at__isnull=True).order_by("-id").first()
