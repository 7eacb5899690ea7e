"""Aligning two evaluators' fragments into tagged pieces, by overlap (pure; no database).

Two fragments of different evaluators overlap when their [start, end) spans share at
least one character. Within each group of fragments connected by such overlaps:

- a tag (normalised) both evaluators used is an **agreement**: one piece holding all
  the group's fragments with that tag;
- the remaining fragments that still overlap a remaining fragment of the other
  evaluator form a **conflict** (overlapping fragments with different tags);
- anything else is **one-sided**: tagged by one evaluator only, one piece per fragment.

Every fragment ends up in exactly one piece; pieces come out in text order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class Span(Protocol):
    start: int
    end: int
    normalised: str


AGREEMENT, CONFLICT, ONE_SIDED = "agreement", "conflict", "one_sided"


@dataclass
class Group:
    kind: str
    first: list = field(default_factory=list)  # evaluator 1's fragments
    second: list = field(default_factory=list)  # evaluator 2's fragments

    @property
    def fragments(self) -> list:
        return [*self.first, *self.second]

    @property
    def start(self) -> int:
        return min(f.start for f in self.fragments)

    @property
    def end(self) -> int:
        return max(f.end for f in self.fragments)


def overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _components(first: list, second: list) -> list[tuple[list, list]]:
    """Groups connected by overlaps between the two lists (never within one list)."""
    items = [(1, f) for f in first] + [(2, f) for f in second]
    parent = list(range(len(items)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Sweep by start: each fragment is compared only with the other side's fragments still open.
    order = sorted(range(len(items)), key=lambda i: (items[i][1].start, items[i][1].end))
    active: list[int] = []
    for i in order:
        side, frag = items[i]
        active = [j for j in active if items[j][1].end > frag.start]
        for j in active:
            if items[j][0] != side and overlaps(items[j][1], frag):
                parent[find(i)] = find(j)
        active.append(i)
    groups: dict[int, tuple[list, list]] = {}
    for i in order:
        side, frag = items[i]
        pair = groups.setdefault(find(i), ([], []))
        pair[side - 1].append(frag)
    return list(groups.values())


def align(first: list, second: list) -> list[Group]:
    """Pieces from evaluator 1's and evaluator 2's fragments (objects with start, end, normalised)."""
    pieces: list[Group] = []
    for ones, twos in _components(first, second):
        if not ones or not twos:
            pieces.extend(Group(ONE_SIDED, first=[f] if ones else [], second=[f] if twos else []) for f in ones + twos)
            continue
        shared = {f.normalised for f in ones} & {f.normalised for f in twos}
        for tag in sorted(shared, key=lambda t: min(f.start for f in ones + twos if f.normalised == t)):
            pieces.append(
                Group(
                    AGREEMENT,
                    first=[f for f in ones if f.normalised == tag],
                    second=[f for f in twos if f.normalised == tag],
                )
            )
        rest_ones = [f for f in ones if f.normalised not in shared]
        rest_twos = [f for f in twos if f.normalised not in shared]
        for r1, r2 in _components(rest_ones, rest_twos):
            if r1 and r2:
                pieces.append(Group(CONFLICT, first=r1, second=r2))
            else:
                pieces.extend(Group(ONE_SIDED, first=[f] if r1 else [], second=[f] if r2 else []) for f in r1 + r2)
    pieces.sort(key=lambda g: (g.start, g.end))
    return pieces
