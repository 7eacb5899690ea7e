"""Tokenising and stemming for the relevance vocabulary (workflow step 1, "Collect").

The reference study kept only mined artefacts whose text matched a vocabulary of
deep-learning fault terms, built by flagging frequent words as relevant or not.
Here a text becomes a set of Snowball (English) stems; each stem keeps a sample
surface form so that people flag words they recognise ("training"), not stems
("train").

Rules, in order: HTML tags are dropped and entities decoded (artefact bodies are
scraped HTML); text is lower-cased; a token is a run of ASCII letters and digits
starting with a letter (so `conv2d` and `float32` survive, `batch_size` splits in
two, `3.14` is dropped); stop words, tokens shorter than MIN_LENGTH and longer than
MAX_LENGTH (hashes, base64) are dropped; what is left is stemmed.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

TOKENISER_VERSION = 1  # bump when the rules below change: every artefact is then read again
MIN_LENGTH = 2
MAX_LENGTH = 40  # also the stem column's length: a longer token is noise (a hash, base64, a URL piece)

# English stop words (the usual Snowball/NLTK list) plus contraction halves left by the tokeniser.
_STOP_WORDS_TEXT = """
    a about above after again against all am an and any are aren as at be because been before being below
    between both but by can cannot could couldn did didn do does doesn doing don down during each few for from
    further had hadn has hasn have haven having he her here hers herself him himself his how i if in into is isn
    it its itself just ll me more most mustn my myself needn no nor not now of off on once only or other ought
    our ours ourselves out over own re same shan she should shouldn so some such than that the their theirs them
    themselves then there these they this those through to too under until up ve very was wasn we were weren
    what when where which while who whom why will with won would wouldn you your yours yourself yourselves
    also get got may might must shall us let etc via
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())

_TAG = re.compile(r"<[^>]*>")
_TOKEN = re.compile(r"[a-z][a-z0-9]*")
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-case word (cached: corpora repeat their words)."""
    return _stemmer.stemWord(word)


def plain_text(text: str) -> str:
    """Text without HTML tags and with entities decoded (tags become spaces so words never glue)."""
    if not text:
        return ""
    if "<" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return text


def tokenise(text: str) -> list[str]:
    """The words of `text` that can carry meaning, lower-cased, in order (stop words dropped)."""
    return [
        word
        for word in _TOKEN.findall(plain_text(text).lower())
        if MIN_LENGTH <= len(word) <= MAX_LENGTH and word not in STOP_WORDS
    ]


def stemmed_words(text: str) -> list[tuple[str, str, int]]:
    """(stem, word, occurrences) for each distinct word of `text` (each word is stemmed once)."""
    found = []
    for word, n in Counter(tokenise(text)).items():
        s = stem(word)
        if s in STOP_WORDS or len(s) < MIN_LENGTH:
            continue
        found.append((s, word, n))
    return found


def stem_forms(text: str) -> dict[str, Counter]:
    """Each stem of `text` with how often each surface form occurred, e.g. {"train": {"training": 2, "trained": 1}}."""
    forms: dict[str, Counter] = {}
    for s, word, n in stemmed_words(text):
        forms.setdefault(s, Counter())[word] += n
    return forms


def stems(text: str) -> set[str]:
    """The distinct stems of `text`."""
    return set(stem_forms(text))


def example_word(forms: Counter) -> str:
    """The surface form to show for a stem: the most frequent, ties to the shortest, then alphabetical."""
    return min(forms.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0]


def normalise_query(text: str) -> str:
    """A search box's text as a stem prefix: "Training" finds the stem "train" (and "trainer")."""
    words = tokenise(text)
    if not words:
        return (text or "").strip().lower()[:MAX_LENGTH]
    return stem(words[0])


def artefact_text(title: str, body: str) -> str:
    return f"{title or ''}\n{body or ''}"


def text_digest(title: str, body: str) -> str:
    """A fingerprint of what the index reads of an artefact (and of the rules it reads it with)."""
    text = f"{TOKENISER_VERSION}\n{artefact_text(title, body)}"
    return hashlib.md5(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def merge_forms(into: dict[str, Counter], forms: Iterable[tuple[str, Counter]]) -> None:
    for s, counter in forms:
        into.setdefault(s, Counter()).update(counter)
