"""Tokenising and stemming for the relevance vocabulary (workflow step 1, "Collect").

The reference study kept only mined artefacts whose text matched a vocabulary of
deep-learning fault terms, built by flagging frequent words as relevant or not.
Here a text becomes a set of Snowball (English) stems; each stem keeps a sample
surface form so that people flag words they recognise ("training"), not stems
("train").

Rules, in order: a field is read as HTML only where it is HTML (an artefact's body,
unless its metadata says `body_format` is "markdown" or "text"), with a real parser
(html.parser: tags become spaces, entities are decoded), never with a `<...>` regex that
would eat `<tf.Tensor 'batch:0' ...>` in a plain-text title or "loss < 0.5 and accuracy > 0.9";
titles are plain text (entities decoded); text is lower-cased; a token is a run of ASCII letters and digits
starting with a letter (so `conv2d` and `float32` survive, `batch_size` splits in
two, `3.14` is dropped); stop words (unless the project keeps them, as the study did), tokens shorter than
MIN_LENGTH and longer than MAX_LENGTH (hashes, base64) are dropped; what is left is stemmed.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

from collection.mining.htmltext import field_text

TOKENISER_VERSION = 2  # bump when the rules below change: every artefact is then read again
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

_TOKEN = re.compile(r"[a-z][a-z0-9]*")
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-case word (cached: corpora repeat their words)."""
    return _stemmer.stemWord(word)


def plain_text(text: str) -> str:
    """The text of an HTML fragment, read with a real parser (tags become spaces so words never glue)."""
    return field_text(text, is_html=True)


def tokenise(text: str, *, keep_stop_words: bool = False) -> list[str]:
    """The words of plain `text` that can carry meaning, lower-cased, in order (stop words dropped unless kept)."""
    return [
        word
        for word in _TOKEN.findall((text or "").lower())
        if MIN_LENGTH <= len(word) <= MAX_LENGTH and (keep_stop_words or word not in STOP_WORDS)
    ]


def stemmed_words(text: str, *, keep_stop_words: bool = False) -> list[tuple[str, str, int]]:
    """(stem, word, occurrences) for each distinct word of plain `text` (each word is stemmed once)."""
    found = []
    for word, n in Counter(tokenise(text, keep_stop_words=keep_stop_words)).items():
        s = stem(word)
        if (s in STOP_WORDS and not keep_stop_words) or len(s) < MIN_LENGTH:
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


def artefact_text(title: str, body: str, body_format: str | None = "html") -> str:
    """The plain text the index reads of an artefact: its title as text, its body parsed when it is HTML."""
    body_is_html = (body_format or "html") == "html"
    return f"{field_text(title, is_html=False)}\n{field_text(body, is_html=body_is_html)}"


def text_digest(title: str, body: str, body_format: str | None = "html", keep_stop_words: bool = False) -> str:
    """A fingerprint of what the index reads of an artefact (and of the rules it reads it with)."""
    text = f"{TOKENISER_VERSION}\n{body_format or 'html'}\n{int(keep_stop_words)}\n{title or ''}\n{body or ''}"
    return hashlib.md5(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def merge_forms(into: dict[str, Counter], forms: Iterable[tuple[str, Counter]]) -> None:
    for s, counter in forms:
        into.setdefault(s, Counter()).update(counter)
