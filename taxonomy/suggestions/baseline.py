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
# Documents kept from each pass; ranking only needs the best few per target.
PASS_LIMIT = 100


def _sorted_tokens(key: str) -> str:
    return " ".join(sorted(key.split()))


def _token_sort(query: str, docs: list[str], sorted_docs: list[str], limit: int) -> list[tuple[int, float]]:
    """token_sort_ratio, as a plain ratio over token-sorted strings sorted once (several times faster)."""
    hits = process.extract(
        _sorted_tokens(query), sorted_docs, scorer=fuzz.ratio, limit=limit, score_cutoff=SCORE_CUTOFF
    )
    return [(i, score) for _, score, i in hits]


def _token_set(query: str, docs: list[str], sorted_docs: list[str], limit: int) -> list[tuple[int, float]]:
    hits = process.extract(query, docs, scorer=fuzz.token_set_ratio, limit=limit, score_cutoff=SCORE_CUTOFF)
    return [(i, score) for _, score, i in hits]


def _wratio(query: str, docs: list[str], sorted_docs: list[str], limit: int) -> list[tuple[int, float]]:
    hits = process.extract(query, docs, scorer=fuzz.WRatio, limit=limit, score_cutoff=SCORE_CUTOFF)
    return [(i, score) for _, score, i in hits]


# name -> passes; a document's similarity is the mean of the passes' scores (a document
# one pass did not keep is scored by that pass's function directly).
SCORERS = {
    "token_set": ((_token_set, fuzz.token_set_ratio),),
    "token_sort": ((_token_sort, fuzz.token_sort_ratio),),
    "wratio": ((_wratio, fuzz.WRatio),),
    # A subset match (token_set) alone rates "rate" as close to every "... rate ...";
    # averaging with the order-free full comparison keeps length differences in view.
    "mix": ((_token_set, fuzz.token_set_ratio), (_token_sort, fuzz.token_sort_ratio)),
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
        self.sorted_keys = [_sorted_tokens(k) for k in self.docs.keys]
        self.passes = SCORERS[scorer]
        self.vote_share = vote_share

    def similarities(self, text: str) -> list[tuple[int, float]]:
        """(document index, similarity 0..1) for the documents near `text`, best first."""
        query = normalise(text)
        if not query or not len(self.docs):
            return []
        found = [dict(search(query, self.docs.keys, self.sorted_keys, PASS_LIMIT)) for search, _ in self.passes]
        kept = set().union(*found)
        total = {}
        for index in kept:
            score = 0.0
            for hits, (_, direct) in zip(found, self.passes, strict=True):
                score += hits[index] if index in hits else direct(query, self.docs.keys[index])
            total[index] = score / (100.0 * len(self.passes))
        return sorted(total.items(), key=lambda pair: -pair[1])

    def suggest(self, text: str, *, top: int = 5, kinds: Sequence[str] = (LEAF,)) -> list[Suggestion]:
        return rank(self.docs, self.similarities(text), top=top, kinds=kinds, vote_share=self.vote_share)
