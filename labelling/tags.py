"""Reading the study's spreadsheet cells: tags with their history, verdicts, category codes, flags, counts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

from collection.importers.headers import distance
from collection.importers.reading import cell_text
from collection.importers.values import is_none, split_history
from labelling.models import Verdict

VERDICT_SPELLINGS: dict[str, str] = {
    "false positive": Verdict.FALSE_POSITIVE,
    "falsepositive": Verdict.FALSE_POSITIVE,
    "false positives": Verdict.FALSE_POSITIVE,
    "fp": Verdict.FALSE_POSITIVE,
    "false pos": Verdict.FALSE_POSITIVE,
    "generic": Verdict.GENERIC,
    "general": Verdict.GENERIC,
    "too generic": Verdict.GENERIC,
    "unclear": Verdict.UNCLEAR,
    "not clear": Verdict.UNCLEAR,
    "too unclear": Verdict.UNCLEAR,
}


_CANONICAL = {"false positive": Verdict.FALSE_POSITIVE, "generic": Verdict.GENERIC, "unclear": Verdict.UNCLEAR}


_SEPARATORS = re.compile(r"\s*(?::|;|,|\s[-–—]\s|/|\|)\s*")


_BRACKETED = re.compile(r"^(?P<head>[^()\[\]]*?)\s*[(\[](?P<note>.*)[)\]]\s*[.!]*$", re.S)


def _key(text: str) -> str:
    text = re.sub(r"[-_/.|]+", " ", text.casefold())
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", "", text)).strip()


def _single_verdict(key: str) -> str | None:
    if not key:
        return None
    if key in VERDICT_SPELLINGS:
        return VERDICT_SPELLINGS[key]
    squashed = key.replace(" ", "")
    for spelling, verdict in _CANONICAL.items():
        target = spelling.replace(" ", "")
        if len(target) >= 10:
            if distance(squashed, target, 2) <= 2:
                return verdict
        elif (
            distance(squashed, target, 1) <= 1
            and squashed[:1] == target[:1]
            and (len(squashed) != len(target) or sorted(squashed) == sorted(target))
        ):
            # short words: a missing, extra or swapped letter, not another word (unclean ≠ unclear)
            return verdict
    return None


def _verdict_of(text: str) -> tuple[str, str] | None:
    """(verdict, rest) when `text` is a verdict, possibly doubled or followed by a second verdict."""
    key = _key(text)
    verdict = _single_verdict(key)
    if verdict:
        return verdict, ""
    words = key.split()
    for k in range(1, len(words)):
        first = _single_verdict(" ".join(words[:k]))
        if not first:
            continue
        second = _single_verdict(" ".join(words[k:]))
        if second == first:
            return first, ""
        if second:
            return first, " ".join(words[k:])
    return None


def recognise_verdict(text: str) -> tuple[str, str] | None:
    """(verdict, qualifier note) if `text` is a verdict, else None."""
    text = text.strip()
    if not text:
        return None
    found = _verdict_of(text)
    if found:
        return found
    m = _BRACKETED.match(text)
    if m and m.group("head").strip():
        found = _verdict_of(m.group("head"))
        if found:
            verdict, rest = found
            note = m.group("note").strip()
            again = _verdict_of(note) if note else None
            if again and again[0] == verdict and not again[1]:
                note = ""
            return verdict, "; ".join(x for x in (rest, note) if x)
    parts = _SEPARATORS.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0].strip():
        found = _verdict_of(parts[0])
        if found:
            verdict, rest = found
            note = parts[1].strip()
            again = _verdict_of(note) if note else None
            if again and again[0] == verdict and not again[1]:
                note = ""
            return verdict, "; ".join(x for x in (rest, note) if x)
    return None


@dataclass
class Tag:
    """One tag cell: nothing, a label, or a verdict; with note and earlier values."""

    label: str = ""
    verdict: str = ""
    note: str = ""
    history: list[str] = field(default_factory=list)
    raw: str = ""

    @property
    def is_none(self) -> bool:
        return not self.label and not self.verdict

    def key(self, normalise) -> str:
        """Equal keys mean equal answers (labels compared after normalisation)."""
        if self.verdict:
            return f"verdict:{self.verdict}"
        if self.label:
            return f"label:{normalise(self.label)}"
        return ""


def parse_tag(value) -> Tag:
    raw = cell_text(value)
    label, verdict, note, history = _parse_tag_text(raw)
    return Tag(label=label, verdict=verdict, note=note, history=list(history), raw=raw)


@lru_cache(maxsize=65536)
def _parse_tag_text(raw: str) -> tuple[str, str, str, tuple[str, ...]]:
    """(label, verdict, note, history) of a tag cell's text; cached, as the same tags recur in every round."""
    if is_none(raw):
        return "", "", "", ()
    current, history = split_history(raw)
    if not current:
        return "", "", "", tuple(history)
    verdict = recognise_verdict(current)
    if verdict:
        return "", str(verdict[0]), verdict[1], tuple(history)
    return current, "", "", tuple(history)


_CODE = re.compile(r"^\w+(?:\.\w+)*$")


def parse_code(value) -> tuple[str, str | None]:
    """(category code, problem) of a cell; ('', None) when empty.

    Numbers: 3 → "3", 4.0 → "4", 4.1 → "4.1" (as Excel stores it; a cell formatted
    0.00 was already read as the text "4.10"). Text: kept, spaces and a trailing dot
    dropped. Dates (Excel's autocorrection of "1.2") cannot be trusted: a problem."""
    if value is None or isinstance(value, bool):
        return "", None
    if isinstance(value, datetime | date):
        return "", f"category code {value.isoformat()} looks like a date Excel made of a code; type it as text"
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        return cell_text(value), None
    text = cell_text(value)
    current, _ = split_history(text)
    text = re.sub(r"\s+", "", current).rstrip(".")
    if is_none(text):
        return "", None
    if not _CODE.match(text) or len(text) > 40:
        return "", f"category code {current!r} is not like 4 or 4.2.1"
    return text, None


TRUE_WORDS = {"1", "yes", "y", "true", "t", "x", "conflict", "ja", "si", "oui"}


FALSE_WORDS = {"0", "no", "n", "false", "f", "", "-", "none"}


def parse_flag(value) -> bool | None:
    """A yes/no cell (Conflict): True, False, or None when unreadable."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    text = cell_text(value).casefold()
    if is_none(text) or text in FALSE_WORDS:
        return False
    if text in TRUE_WORDS:
        return True
    try:
        return float(text.replace(",", ".")) != 0
    except ValueError:
        return None


def parse_count(value) -> int | None:
    """A count cell as a whole number; None when unreadable (text, NaN, infinite)."""
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        value = cell_text(value)
    try:
        return int(float(value)) if not isinstance(value, int) else value
    except (ValueError, OverflowError):  # "abc", NaN; "inf", 1e999
        return None
