"""Text normalisation for matching label wordings: case-folded, history (`a -> b`)
reduced to its last value, punctuation dropped, stop words dropped, stemmed."""

import re
from functools import lru_cache

import snowballstemmer

_STEMMER = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[a-z0-9]+")
_ARROW = re.compile(r"\s*(?:->|→|=>)\s*")

# Function words carry no meaning for a fault's name; negations and quantities
# ("no", "not", "too", "missing") do and are kept.
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "by",
        "with",
        "from",
        "into",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "and",
        "or",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "their",
        "there",
        "which",
        "when",
        "while",
        "during",
        "upon",
        "via",
        "s",
    ]
)


def last_value(text: str) -> str:
    """`old -> new` history in a cell: the newest value."""
    parts = _ARROW.split(text or "")
    return parts[-1] if parts else ""


@lru_cache(maxsize=65536)
def stem_tokens(text: str) -> tuple[str, ...]:
    """The stemmed content words of `text`, in order."""
    words = _WORD.findall(last_value(text).casefold().replace("_", " "))
    return tuple(_STEMMER.stemWord(w) for w in words if w not in STOP_WORDS)


def normalise(text: str) -> str:
    """The matching key of a wording: stemmed content words joined by one space."""
    return " ".join(stem_tokens(text))
