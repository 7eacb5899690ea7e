"""Matching the headers of real working files to the fields we know.

A header is cut into words (spaces, underscores, camelCase, digits), each word
is singularised, mapped through a table of synonyms (Label/Lable → tag,
Cat → category, URL → link, Rater → evaluator …) and, failing that, matched to
the nearest known word within one or two typing errors. The resulting words
decide the field: "Final Lable" → final_tag, "Taxonomy Cat" → category,
"NumberOfEvaluators" → n_evaluators, "evaluator_3" → evaluator3, "Labels 2" → tag2.

Unknown headers map to nothing; callers report them as ignored columns. When
two columns map to the same field the first one wins and the other is reported.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# canonical word -> spellings (singular, lower case) that mean it
SYNONYMS: dict[str, tuple[str, ...]] = {
    "entity": ("entity", "entitie", "artefact", "artifact", "item", "source"),
    "type": ("type", "kind"),
    "link": ("link", "url", "uri", "href", "address", "permalink", "hyperlink", "weblink"),
    "conflict": ("conflict", "conflicting", "conflicted", "meeting"),
    "number": ("number", "num", "nr", "no", "count", "amount", "total", "n"),
    "evaluator": (
        "evaluator",
        "evaluater",
        "evaluatior",
        "rater",
        "annotator",
        "annotater",
        "coder",
        "reviewer",
        "assessor",
        "judge",
        "labeller",
        "labeler",
        "eval",
    ),
    "tag": ("tag", "label", "lable", "labl", "lbl", "annotation", "answer"),
    "final": ("final", "agreed", "decided", "resolved", "consensus"),
    "taxonomy": ("taxonomy", "taxonomic", "taxo", "taxon"),
    "category": ("category", "cat", "catagory", "categ", "categorie", "class", "branch"),
    "code": ("code",),
    "initial": ("initial", "original", "first"),
    "title": ("title", "subject", "headline", "summary", "name"),
    "body": ("body", "text", "content", "description", "question", "detail", "message"),
    "framework": ("framework", "library", "lib", "topic"),
    "keyword": ("keyword",),
    "metadata": ("metadata", "meta"),
}
STOPWORDS = {"of", "the", "a", "an", "is", "in", "per", "by", "for", "and", "to"}

_WORD_OF: dict[str, str] = {spelling: canon for canon, spellings in SYNONYMS.items() for spelling in spellings}


def distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, stopping early past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2 = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def typo_limit(word: str) -> int:
    return 0 if len(word) < 5 else 1 if len(word) < 9 else 2


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@lru_cache(maxsize=4096)
def canonical_word(word: str) -> str | None:
    for candidate in (word, _singular(word)):
        if candidate in _WORD_OF:
            return _WORD_OF[candidate]
    limit = typo_limit(word)
    if not limit:
        return None
    best, best_distance = None, limit + 1
    for spelling, canon in _WORD_OF.items():
        if len(spelling) < 4:
            continue
        d = min(distance(word, spelling, limit), distance(_singular(word), spelling, limit))
        if d < best_distance:
            best, best_distance = canon, d
    return best


def _exact_word(piece: str) -> str | None:
    if piece in STOPWORDS:
        return ""
    for candidate in (piece, _singular(piece)):
        if candidate in _WORD_OF:
            return _WORD_OF[candidate]
    return None


@lru_cache(maxsize=4096)
def segment(token: str, fuzzy: bool = False) -> tuple[str, ...] | None:
    """Canonical words of a run-together token ("numberofevaluators" → number, evaluator), fewest pieces."""
    best: list[tuple[str, ...] | None] = [None] * (len(token) + 1)
    best[0] = ()
    for end in range(1, len(token) + 1):
        for start in range(end):
            if best[start] is None:
                continue
            piece = token[start:end]
            if len(piece) < 2:
                continue
            word = _exact_word(piece)
            if word is None and fuzzy and len(piece) >= 5:
                word = canonical_word(piece)
            if word is None:
                continue
            candidate = best[start] + ((word,) if word else ())
            if best[end] is None or len(candidate) < len(best[end]):
                best[end] = candidate
    return best[-1] if best[-1] else None


def header_words(header: str) -> list[str]:
    """Canonical words and numbers of a header; unknown words are kept as '?word'."""
    text = unicodedata.normalize("NFKC", str(header or ""))
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Za-z])(\d)", r"\1 \2", text)
    text = re.sub(r"(\d)([A-Za-z])", r"\1 \2", text)
    words = []
    for token in re.findall(r"[^\W\d_]+|\d+|#", text.casefold()):
        if token == "#":
            words.append("number")
        elif token.isdigit():
            words.append(str(int(token)))
        elif token in STOPWORDS:
            continue
        else:
            canon = _exact_word(token) or canonical_word(token)
            if canon:
                words.append(canon)
                continue
            pieces = segment(token) or segment(token, fuzzy=True)
            words.extend(pieces if pieces else [f"?{token}"])
    return words


def _split(words: list[str]) -> tuple[set[str], int | None, set[str]]:
    known = {w for w in words if not w.isdigit() and not w.startswith("?")}
    unknown = {w for w in words if w.startswith("?")}
    numbers = [int(w) for w in words if w.isdigit()]
    return known, (numbers[0] if numbers else None), unknown


# --- the round layout ----------------------------------------------------------------

ROUND_FIELDS = (
    "entity_type",
    "link",
    "conflict",
    "n_evaluators",
    "final_tag",
    "taxonomy_tag",
    "category",
    "initial_tag",
)


def round_field(header: str) -> str | None:
    """The round-layout field of a header: link, entity_type, conflict, n_evaluators,
    evaluatorN, tagN, final_tag, taxonomy_tag, category, initial_tag; None if unknown."""
    words = header_words(header)
    known, number, _ = _split(words)
    if not known:
        return None
    if number is not None:
        if "tag" in known:
            return f"tag{number}"
        if "evaluator" in known and not ({"number"} & known):
            return f"evaluator{number}"
        return None
    if "link" in known:
        return "link"
    if "conflict" in known:
        return "conflict"
    if "evaluator" in known:
        if "tag" not in known and ("number" in known or _plural(header)):
            return "n_evaluators"
        return None
    if "final" in known:
        return "final_tag"
    if "category" in known or ("taxonomy" in known and "code" in known) or known == {"code"}:
        return "category"
    if "taxonomy" in known:
        return "taxonomy_tag"
    if "initial" in known and "tag" in known:
        return "initial_tag"
    if known <= {"entity", "type"} and known:
        return "entity_type"
    return None


def match_round_headers(header: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """({field: column index}, ignored headers, duplicate headers) for a round sheet."""
    columns: dict[str, int] = {}
    ignored, duplicates = [], []
    for index, text in enumerate(header):
        if not text:
            continue
        name = round_field(text)
        if name is None:
            ignored.append(text)
        elif name in columns:
            duplicates.append(text)
        else:
            columns[name] = index
    return columns, ignored, duplicates


def round_header_score(cells: list[str]) -> int:
    return sum(1 for c in cells if c and round_field(c))


# --- artefact files ---------------------------------------------------------------------

ARTEFACT_FIELDS = ("url", "kind", "framework", "tags", "title", "body", "metadata")
MAPPING_CHOICES = ARTEFACT_FIELDS + ("ignore",)


def artefact_field(header: str) -> str | None:
    """The artefact field a header most likely holds; None when unknown or a labelling column.

    Labelling columns (tags of evaluators, final and taxonomy tags, conflicts) are never
    guessed into artefact fields: artefact text is shown to evaluators, who must not see
    one another's labels."""
    words = header_words(header)
    known, number, _ = _split(words)
    if not known:
        return None
    if known & {"evaluator", "final", "taxonomy", "conflict", "category", "initial"} or number is not None:
        return None
    if "link" in known:
        return "url"
    if known <= {"entity", "type"}:
        return "kind"
    if "framework" in known:
        return "framework"
    if "keyword" in known or known == {"tag"}:
        return "tags"
    if "title" in known:
        return "title"
    if "body" in known:
        return "body"
    if "metadata" in known:
        return "metadata"
    return None


def _plural(header: str) -> bool:
    return str(header).strip().casefold().endswith("s")


def guess_artefact_mapping(header: list[str]) -> dict[int, str]:
    """{column index: field} for the first column that matches each field."""
    mapping: dict[int, str] = {}
    taken = set()
    for index, text in enumerate(header):
        name = artefact_field(text) if text else None
        if name and name not in taken:
            mapping[index] = name
            taken.add(name)
    return mapping


def artefact_header_score(cells: list[str]) -> int:
    return sum(1 for c in cells if c and artefact_field(c))


def header_key(text: str) -> str:
    """A loose key to find a column by name (`--map "Question Title=title"`)."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", str(text)).casefold())
