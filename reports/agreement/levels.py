"""Taxonomy levels: a rating's value seen at a depth of the tree.

`paths` maps a label to the chain of taxonomy nodes from the top-level category (depth 1)
down to the node the label is placed in. At level

- ``leaf``: the value itself (the label, or the verdict);
- ``k`` (1, 2, …): the label's ancestor at depth k, path[k − 1]; a label placed above
  depth k keeps its own node, path[−1];

a value that is not in `paths` (a label not placed in the tree, a verdict) is its own
value at every level. Nodes must be values distinct from labels and verdicts (e.g. their
path as text); the caller chooses them.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

LEAF = "leaf"


@dataclass(frozen=True, order=True)
class Category:
    """A value that is not a label: a verdict or a taxonomy node. Equal only to the same kind
    and key, so a node or verdict never coincides with a label of the same name; shown by name."""

    kind: str
    name: str
    key: Hashable = None

    def __str__(self) -> str:
        return self.name


def parse_level(text: str | int) -> str:
    """ "leaf" or a depth ≥ 1, as the text used in reports ("leaf", "1", "2", …)."""
    value = str(text).strip().lower()
    if value == LEAF:
        return LEAF
    if value.isdigit() and int(value) >= 1:
        return str(int(value))
    raise ValueError(f"level must be 'leaf' or a depth 1, 2, …; got {text!r}")


def levels_of(paths: Mapping[Hashable, Sequence[Hashable]]) -> list[str]:
    """All levels of a tree: leaf, then 1 … its deepest placement."""
    depth = max((len(p) for p in paths.values()), default=0)
    return [LEAF] + [str(k) for k in range(1, depth + 1)]


def level_value(value: Hashable, level: str, paths: Mapping[Hashable, Sequence[Hashable]]) -> Hashable:
    """The value of one rating at `level` (see the module docstring)."""
    return _at_depth(value, _depth(parse_level(level)), paths)


def _depth(level: str) -> int | None:
    return None if level == LEAF else int(level)


def _at_depth(value, depth: int | None, paths):
    path = paths.get(value)
    if depth is None or not path:
        return value
    return path[min(depth, len(path)) - 1]


def level_table(
    value_names: Sequence[Hashable], level: str, paths: Mapping[Hashable, Sequence[Hashable]]
) -> tuple[np.ndarray, list]:
    """For value codes 0..V−1 (naming `value_names`), the code of each at `level` and the
    names of the new codes (sorted, as Ratings.from_triples codes them)."""
    depth = _depth(parse_level(level))
    mapped = [_at_depth(v, depth, paths) for v in value_names]
    names = sorted(set(mapped), key=lambda v: (type(v).__name__, v))  # as measures.sort_key
    code = {v: i for i, v in enumerate(names)}
    return np.fromiter((code[v] for v in mapped), np.int64, len(mapped)), names
