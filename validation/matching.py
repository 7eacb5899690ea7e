"""Match an export's category column groups to the survey's (or taxonomy's) categories by name.

Exports shorten and decorate names; a group matches a category when, in this order of trust:

1. `exact`: the names are equal;
2. `normalised`: they are equal ignoring case, spacing and punctuation, with "&", "/" and "+"
   read as "and", camelCase split (`OptimiserProblems`), "-ize" read as "-ise", a parenthesised
   remark and a trailing "Problems" / "Faults" / "Issues" dropped;
3. `shortened`: the group is the category missing one trailing word (connectives such as "and"
   do not count: `Model Type` -> `Model Type & Properties`).

A tier that finds several categories leaves the group unmatched and lists them (ambiguous). Two
groups never share a category: the better tier (then the earlier group) keeps it, the other is
reported. An explicit mapping (`GROUP=CATEGORY`, category by name or code, tolerantly too) wins over
every tier; `GROUP=` (nothing after "=") ignores the group.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

DECORATIONS = {"problem", "problems", "fault", "faults", "issue", "issues", "category", "bugs", "bug"}
CONNECTIVES = {"and", "or", "of", "the", "a", "an", "in", "to", "for", "with"}
TIERS = ("mapped", "exact", "normalised", "shortened")


class MappingError(ValueError):
    """A --map entry that is not `GROUP=CATEGORY` or names no category / no group."""


def words(name: str) -> list[str]:
    """The words of a name as compared: lowercase, "&" "/" "+" as "and", camelCase split."""
    text = re.sub(r"\([^)]*\)", " ", name or "")
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)  # OptimiserProblems, GPUUsage
    text = re.sub(r"[&/+]", " and ", text.lower())
    tokens = re.findall(r"[a-z0-9]+", text)
    tokens = [re.sub(r"iz(e|es|ed|er|ers|ing|ation|ations)$", r"is\1", t) for t in tokens]
    while len(tokens) > 1 and tokens[-1] in DECORATIONS:
        tokens.pop()
    return tokens


def key(name: str) -> str:
    return " ".join(words(name))


def squashed(name: str) -> str:
    """Letters and digits only, lowercase: "optimiserproblems" names the group `OptimiserProblems`."""
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def _content(tokens: Sequence[str]) -> list[str]:
    return [t for t in tokens if t not in CONNECTIVES]


def shortened(group: Sequence[str], category: Sequence[str]) -> bool:
    """The group is the category without one trailing word (connectives do not count)."""
    if not group or len(group) >= len(category) or list(category[: len(group)]) != list(group):
        return False
    return len(_content(category[len(group) :])) == 1


def _name(category) -> str:
    return category if isinstance(category, str) else category.name


def _code(category) -> str:
    return "" if isinstance(category, str) else str(getattr(category, "code", "") or "")


@dataclass
class Match:
    """Where each group went. Categories are returned as given (strings or objects with .name)."""

    matched: dict[str, object] = field(default_factory=dict)  # group -> category
    how: dict[str, str] = field(default_factory=dict)  # group -> tier
    unmatched: list[str] = field(default_factory=list)
    ambiguous: dict[str, list] = field(default_factory=dict)  # group -> candidate categories
    taken: dict[str, str] = field(default_factory=dict)  # group -> the group that kept its category
    ignored: list[str] = field(default_factory=list)  # mapped to nothing on purpose

    def unused(self, categories: Iterable) -> list:
        used = {id(c) for c in self.matched.values()}
        return [c for c in categories if id(c) not in used]

    def rows(self, groups: Sequence[str]) -> list[dict]:
        """One row per group for a preview: group, category name (or ""), how, note."""
        out = []
        for group in groups:
            category = self.matched.get(group)
            note = ""
            if group in self.ambiguous:
                note = "matches several: " + ", ".join(_name(c) for c in self.ambiguous[group])
            elif group in self.taken:
                note = f"its category is already matched by {self.taken[group]!r}"
            elif group in self.ignored:
                note = "ignored"
            elif category is None:
                note = "no category of that name"
            out.append(
                {
                    "group": group,
                    "category": _name(category) if category is not None else "",
                    "code": _code(category) if category is not None else "",
                    "how": self.how.get(group, ""),
                    "note": note,
                }
            )
        return out


def parse_mapping(entries: Iterable[str]) -> dict[str, str]:
    """["Model Type=Model Type & Properties", "Other="] -> {group: category name or code ("" = ignore)}."""
    mapping = {}
    for entry in entries:
        group, sep, category = str(entry).partition("=")
        if not sep or not group.strip():
            raise MappingError(f"Not GROUP=CATEGORY: {entry!r}.")
        mapping[group.strip()] = category.strip()
    return mapping


def _same_key(a: str, b: str) -> bool:
    return key(a) == key(b)


def _same_squashed(a: str, b: str) -> bool:
    return squashed(a) == squashed(b)


def find_category(target: str, categories: Sequence) -> object:
    """A category named `target` (by code, exact name, or tolerant name); MappingError if none or several."""
    for test in (
        lambda c: _code(c) and _code(c) == target,
        lambda c: _name(c) == target,
        lambda c: key(_name(c)) == key(target),
        lambda c: squashed(_name(c)) == squashed(target),
    ):
        found = [c for c in categories if test(c)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise MappingError(f"{target!r} names several categories: " + ", ".join(_name(c) for c in found) + ".")
    raise MappingError(f"No category {target!r}.")


def _candidates(group: str, categories: Sequence) -> tuple[str, list]:
    tokens = words(group)
    for tier, test in (
        ("exact", lambda c: _name(c) == group),
        ("normalised", lambda c: words(_name(c)) == tokens),
        ("shortened", lambda c: shortened(tokens, words(_name(c)))),
    ):
        found = [c for c in categories if test(c)]
        if found:
            return tier, found
    return "", []


def match_groups(groups: Sequence[str], categories: Sequence, mapping: dict[str, str] | None = None) -> Match:
    """Match every group (file order) to at most one category and every category to at most one group."""
    result = Match()
    mapping = dict(mapping or {})
    mapped_groups = {}
    for given, target in mapping.items():
        tests = (str.__eq__, _same_key, _same_squashed)
        group = next((g for test in tests for g in groups if test(g, given)), None)
        if group is None:
            raise MappingError(f"No column group {given!r} in the file.")
        mapped_groups[group] = target
    proposals: list[tuple[int, int, str, object]] = []  # (tier rank, order, group, category)
    for order, group in enumerate(groups):
        if group in mapped_groups:
            target = mapped_groups[group]
            if not target:
                result.ignored.append(group)
                continue
            proposals.append((0, order, group, find_category(target, categories)))
            continue
        tier, found = _candidates(group, categories)
        if len(found) > 1:
            result.ambiguous[group] = found
        elif found:
            proposals.append((TIERS.index(tier), order, group, found[0]))
    owner: dict[Hashable, str] = {}
    for rank, _, group, category in sorted(proposals, key=lambda p: (p[0], p[1])):
        if id(category) in owner:
            result.taken[group] = owner[id(category)]
            continue
        owner[id(category)] = group
        result.matched[group] = category
        result.how[group] = TIERS[rank]
    result.matched = {g: result.matched[g] for g in groups if g in result.matched}
    result.unmatched = [g for g in groups if g not in result.matched and g not in result.ignored]
    return result
