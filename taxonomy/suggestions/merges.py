"""Synonym-merge suggestions: clusters of labels likely to name the same fault,
each with its evidence (shared leaf, wording similarity, co-occurrence on the
same artefact, optionally embedding similarity). Pairs a moderator rejected are
never suggested again, and never end up in one cluster."""

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from rapidfuzz import fuzz, process

from taxonomy.suggestions.semantic import np
from taxonomy.suggestions.text import normalise, stem_tokens

# Weights of the evidence in a pair's score (0..1).
WORDING_WEIGHT = 0.55
LEAF_WEIGHT = 0.3
CO_OCCURRENCE_WEIGHT = 0.15
# Both labels placed, under no common leaf: moderators kept them apart.
DIFFERENT_LEAVES_PENALTY = 0.3
# Candidate pairs by wording: at least this similar (0..100), at most this many per label.
WORDING_CUTOFF = 60
WORDING_NEIGHBOURS = 10
MIN_SCORE = 0.55
# Candidate pairs by meaning (with vectors): cosine at least this, at most this many per label.
SEMANTIC_CUTOFF = 0.7
SEMANTIC_NEIGHBOURS = 5
# Qualifiers that make two otherwise equal wordings different faults (as stems).
OPPOSITE_STEMS = [
    ("high", "low"),
    ("larg", "small"),
    ("big", "small"),
    ("mani", "few"),
    ("more", "less"),
    ("increas", "decreas"),
    ("over", "under"),
    ("miss", "redund"),
    ("miss", "extra"),
    ("befor", "after"),
    ("min", "max"),
]
OPPOSITES_PENALTY = 0.4


@dataclass(frozen=True)
class LabelInfo:
    """A label; in a cluster the labels are listed by `rank` (e.g. 1 for a taxonomy leaf's
    own label), then by `count` (uses): the first is the one to keep."""

    key: Hashable
    text: str
    count: int = 0
    rank: int = 0


@dataclass
class Pair:
    a: Hashable
    b: Hashable
    score: float
    evidence: dict


@dataclass
class Cluster:
    labels: list[Hashable]
    score: float
    evidence: list[dict] = field(default_factory=list)

    def as_json(self, names: Mapping[Hashable, str] | None = None) -> dict:
        show = (lambda k: names.get(k, str(k))) if names else (lambda k: k)
        return {
            "labels": [show(k) for k in self.labels],
            "score": round(self.score, 4),
            "evidence": [{**e, "pair": [show(k) for k in e["pair"]]} for e in self.evidence],
        }


def pair_key(a: Hashable, b: Hashable) -> frozenset:
    return frozenset((a, b))


def wording_similarity(a: str, b: str) -> float:
    """0..1 on stemmed text: the mean of the order-free and the subset comparisons."""
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return 0.0
    return (fuzz.token_set_ratio(na, nb) + fuzz.token_sort_ratio(na, nb)) / 200.0


def _candidates(
    labels: Sequence[LabelInfo],
    placements: Mapping[Hashable, set],
    artefacts: Iterable[Iterable[Hashable]],
) -> tuple[set[frozenset], dict[frozenset, int]]:
    keys = [normalise(label.text) for label in labels]
    pairs: set[frozenset] = set()
    for i, key in enumerate(keys):
        if not key:
            continue
        for _, _, j in process.extract(
            key,
            keys,
            scorer=fuzz.token_sort_ratio,
            limit=WORDING_NEIGHBOURS + 1,
            score_cutoff=WORDING_CUTOFF,
        ):
            if j != i:
                pairs.add(pair_key(labels[i].key, labels[j].key))
    by_leaf: dict = defaultdict(list)
    for label in labels:
        for leaf in placements.get(label.key, ()):
            by_leaf[leaf].append(label.key)
    for members in by_leaf.values():
        pairs.update(pair_key(a, b) for a, b in combinations(members, 2))
    known = {label.key for label in labels}
    co: dict[frozenset, int] = defaultdict(int)
    for given in artefacts:
        present = sorted({k for k in given if k in known}, key=str)
        for a, b in combinations(present, 2):
            co[pair_key(a, b)] += 1
    pairs.update(co)
    return pairs, co


def opposites(a: str, b: str) -> list[str]:
    """Opposite qualifiers between two wordings ("too high" / "too low"), as stems."""
    ta, tb = set(stem_tokens(a)), set(stem_tokens(b))
    found = []
    for x, y in OPPOSITE_STEMS:
        if (x in ta - tb and y in tb - ta) or (y in ta - tb and x in tb - ta):
            found.append(f"{x}/{y}")
    return found


def score_pair(
    a: LabelInfo,
    b: LabelInfo,
    *,
    leaves_a: set,
    leaves_b: set,
    co_occurrences: int,
    semantic: float | None = None,
) -> Pair:
    """A pair's score in 0..1 from its evidence. The leaf term counts only when both
    labels are placed (else the score is renormalised over the evidence there is)."""
    wording = wording_similarity(a.text, b.text)
    closeness = wording if semantic is None else max(wording, semantic)
    shared = sorted(leaves_a & leaves_b, key=str)
    opposed = opposites(a.text, b.text)
    score = WORDING_WEIGHT * closeness + CO_OCCURRENCE_WEIGHT * min(1.0, co_occurrences / 2)
    if leaves_a and leaves_b:
        score += LEAF_WEIGHT if shared else -DIFFERENT_LEAVES_PENALTY
    else:
        score /= 1 - LEAF_WEIGHT
    if opposed:
        score -= OPPOSITES_PENALTY
    evidence = {
        "pair": [a.key, b.key],
        "wording": round(wording, 4),
        "shared_leaves": [str(x) for x in shared],
        "co_occurrences": co_occurrences,
    }
    if opposed:
        evidence["opposites"] = opposed
    if semantic is not None:
        evidence["semantic"] = round(float(semantic), 4)
    return Pair(a.key, b.key, max(0.0, min(1.0, score)), evidence)


def suggest_merges(
    labels: Sequence[LabelInfo],
    *,
    placements: Mapping[Hashable, set] | None = None,
    artefacts: Iterable[Iterable[Hashable]] = (),
    rejected: Iterable[Iterable[Hashable]] = (),
    vectors: Mapping[Hashable, object] | None = None,
    min_score: float = MIN_SCORE,
) -> list[Cluster]:
    """Clusters of labels to merge, best first.

    `placements`: label key -> keys of the leaves its decided items went to;
    `artefacts`: for each artefact, the label keys given to it (co-occurrence);
    `rejected`: pairs a moderator rejected; `vectors`: label key -> unit embedding
    (optional extra), which adds the nearest labels by meaning as candidates and
    their cosine as evidence."""
    placements = placements or {}
    rejected_pairs = {pair_key(*p) for p in rejected}
    by_key = {label.key: label for label in labels}
    candidates, co = _candidates(labels, placements, artefacts)
    semantic = _semantic_neighbours(labels, vectors, candidates) if vectors else {}
    pairs = []
    for candidate in candidates - rejected_pairs:
        a, b = sorted(candidate, key=str)
        la, lb = by_key[a], by_key[b]
        pair = score_pair(
            la,
            lb,
            leaves_a=set(placements.get(a, ())),
            leaves_b=set(placements.get(b, ())),
            co_occurrences=co.get(candidate, 0),
            semantic=semantic.get(candidate) if vectors else None,
        )
        if pair.score >= min_score:
            pairs.append(pair)
    return _clusters(pairs, rejected_pairs, by_key)


def _semantic_neighbours(labels: Sequence[LabelInfo], vectors: Mapping, candidates: set[frozenset]) -> dict:
    """Cosine of every candidate pair, and the nearest labels by meaning added as candidates."""
    keys = [label.key for label in labels if label.key in vectors]
    if len(keys) < 2:
        return {}
    matrix = np.vstack([np.asarray(vectors[k], dtype=np.float32) for k in keys])
    sims = matrix @ matrix.T
    position = {k: i for i, k in enumerate(keys)}
    for i in range(len(keys)):
        nearest = np.argsort(-sims[i])[: SEMANTIC_NEIGHBOURS + 1]
        candidates.update(pair_key(keys[i], keys[j]) for j in nearest if j != i and sims[i, j] >= SEMANTIC_CUTOFF)
    out = {}
    for candidate in candidates:
        a, b = tuple(candidate)
        if a in position and b in position:
            out[candidate] = float(sims[position[a], position[b]])
    return out


def _clusters(pairs: list[Pair], rejected: set[frozenset], by_key: Mapping[Hashable, LabelInfo]) -> list[Cluster]:
    """Single-link clusters from the best pairs down, never joining two groups that
    hold a rejected pair between them."""
    group: dict[Hashable, set] = {}
    edges: dict[int, list[Pair]] = defaultdict(list)
    for pair in sorted(pairs, key=lambda p: (-p.score, str(p.a), str(p.b))):
        ga = group.get(pair.a, {pair.a})
        gb = group.get(pair.b, {pair.b})
        if ga is gb:
            continue
        if any(pair_key(x, y) in rejected for x in ga for y in gb):
            continue
        joined = ga | gb
        collected = edges.pop(id(ga), []) + edges.pop(id(gb), []) + [pair]
        for member in joined:
            group[member] = joined
        edges[id(joined)] = collected
    clusters = []
    seen: set[int] = set()
    for members in group.values():
        if id(members) in seen:
            continue
        seen.add(id(members))
        used = edges[id(members)]
        ordered = sorted(members, key=lambda k: (-by_key[k].rank, -by_key[k].count, by_key[k].text.casefold(), str(k)))
        clusters.append(
            Cluster(
                labels=ordered,
                score=sum(p.score for p in used) / len(used),
                evidence=[p.evidence for p in used],
            )
        )
    clusters.sort(key=lambda c: (-c.score, str(c.labels[0])))
    return clusters
