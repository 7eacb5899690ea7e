"""What both scorers share: the documents a target is known by, and how the
similarities of a query to those documents become a ranked list of targets."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from taxonomy.suggestions.model import CATEGORY, LEAF, Placement, Suggestion, Target, ancestors

# How much a document says about its target (a wording moderators placed there is
# as good as the target's own name).
NAME_WEIGHT = 1.0
EXAMPLE_WEIGHT = 1.0
DESCRIPTION_WEIGHT = 0.85
# A category inherits this share of its best leaf's score.
CATEGORY_DECAY = 0.9


class Documents:
    """Distinct texts (by `key`) and, for each, the targets it stands for with a weight."""

    def __init__(self, targets: Sequence[Target], history: Iterable[Placement], key: Callable[[str], str]):
        self.targets = {t.key: t for t in targets}
        self.texts: list[str] = []
        self.keys: list[str] = []
        self.owners: list[dict[str, float]] = []
        self._index: dict[str, int] = {}
        for t in targets:
            self._add(t.name, t.key, NAME_WEIGHT, key)
            for example in t.examples:
                self._add(example, t.key, EXAMPLE_WEIGHT, key)
            if t.description:
                self._add(t.description, t.key, DESCRIPTION_WEIGHT, key)
        for p in history:
            if p.target in self.targets:
                self._add(p.text, p.target, p.weight, key)

    def _add(self, text: str, target: str, weight: float, key: Callable[[str], str]) -> None:
        k = key(text)
        if not k:
            return
        i = self._index.get(k)
        if i is None:
            i = self._index[k] = len(self.keys)
            self.keys.append(k)
            self.texts.append(text)
            self.owners.append({})
        owners = self.owners[i]
        owners[target] = max(owners.get(target, 0.0), weight)

    def __len__(self) -> int:
        return len(self.keys)


def rank(
    docs: Documents,
    hits: Iterable[tuple[int, float]],
    *,
    top: int,
    kinds: Sequence[str] = (LEAF,),
    vote_share: float = 0.2,
    neighbours: int = 10,
) -> list[Suggestion]:
    """Targets ranked from (document index, similarity in 0..1) hits sorted best first.

    A target's score is its best document's weighted similarity, blended with
    the share of the `neighbours` nearest documents that vote for it."""
    best: dict[str, float] = defaultdict(float)
    votes: dict[str, float] = defaultdict(float)
    total_vote = 0.0
    for seen, (index, sim) in enumerate(hits):
        for target, weight in docs.owners[index].items():
            s = sim * weight
            if s > best[target]:
                best[target] = s
            if seen < neighbours:
                votes[target] += s
                total_vote += s
    scores = {
        t: (1 - vote_share) * b + vote_share * (votes.get(t, 0.0) / total_vote if total_vote else 0.0)
        for t, b in best.items()
    }
    if CATEGORY in kinds:
        _lift_categories(docs.targets, scores)
    ranked = sorted(
        (
            (score, t)
            for t, score in scores.items()
            if score > 0 and t in docs.targets and docs.targets[t].kind in kinds
        ),
        key=lambda pair: (-pair[0], docs.targets[pair[1]].path_text),
    )
    return [
        Suggestion(key=t, name=docs.targets[t].name, path=docs.targets[t].path_text, score=s, kind=docs.targets[t].kind)
        for s, t in ranked[:top]
    ]


def _lift_categories(targets: dict[str, Target], scores: dict[str, float]) -> None:
    for key, score in list(scores.items()):
        inherited = score
        for parent in ancestors(targets, key):
            inherited *= CATEGORY_DECAY
            if inherited > scores.get(parent, 0.0):
                scores[parent] = inherited
