"""The baseline scorer: string similarity (rapidfuzz) on normalised, stemmed text
between a label and every wording the history placed under a target, plus the
targets' names, descriptions and examples. Always available."""

from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process

from taxonomy.suggestions.model import LEAF, Placement, Suggestion, Target
from taxonomy.suggestions.ranking import Documents, rank
from taxonomy.suggestions.text import normalise

# Ignore documents less similar than this (0..100) to keep ranking cheap.
SCORE_CUTOFF = 30

SCORERS = {
    "token_set": (fuzz.token_set_ratio,),
    "token_sort": (fuzz.token_sort_ratio,),
    "wratio": (fuzz.WRatio,),
    # A subset match (token_set) alone rates "rate" as close to every "... rate ...";
    # averaging with the order-free full comparison keeps length differences in view.
    "mix": (fuzz.token_set_ratio, fuzz.token_sort_ratio),
}


class BaselineScorer:
    name = "baseline"

    def __init__(
        self,
        targets: Sequence[Target],
        history: Iterable[Placement] = (),
        *,
        scorer: str = "mix",
        vote_share: float = 0.2,
    ):
        self.docs = Documents(targets, history, normalise)
        self.scorers = SCORERS[scorer]
        self.vote_share = vote_share

    def similarities(self, text: str) -> list[tuple[int, float]]:
        """(document index, similarity 0..1) for the documents near `text`, best first."""
        query = normalise(text)
        if not query or not len(self.docs):
            return []
        total: dict[int, float] = {}
        for scorer in self.scorers:
            for _, score, index in process.extract(
                query, self.docs.keys, scorer=scorer, limit=None, score_cutoff=SCORE_CUTOFF
            ):
                total[index] = total.get(index, 0.0) + score
        n = 100.0 * len(self.scorers)
        return sorted(((i, s / n) for i, s in total.items()), key=lambda pair: -pair[1])

    def suggest(self, text: str, *, top: int = 5, kinds: Sequence[str] = (LEAF,)) -> list[Suggestion]:
        return rank(self.docs, self.similarities(text), top=top, kinds=kinds, vote_share=self.vote_share)
