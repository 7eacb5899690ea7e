"""The data the scorers work on."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PATH_SEPARATOR = " > "
LEAF = "leaf"
CATEGORY = "category"


@dataclass(frozen=True)
class Target:
    """Somewhere a label can go: a leaf, or an inner category.

    `path` holds the names from the top-level category down to this one (itself
    included); `parent` is the key of the enclosing category (None at the top)."""

    key: str
    name: str
    path: tuple[str, ...]
    kind: str = LEAF
    parent: str | None = None
    description: str = ""
    examples: tuple[str, ...] = ()

    @property
    def path_text(self) -> str:
        return PATH_SEPARATOR.join(self.path)


@dataclass(frozen=True)
class Placement:
    """A wording placed under a target by a decision (an evaluator's tag or a final
    tag on an artefact whose taxonomy leaf is decided)."""

    text: str
    target: str
    round: int | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class Suggestion:
    key: str
    name: str
    path: str
    score: float
    kind: str = LEAF
    evidence: tuple[str, ...] = field(default=(), compare=False)

    def as_json(self) -> dict:
        return {"name": self.name, "path": self.path, "score": round(self.score, 4), "kind": self.kind}


def targets_from_tree(nodes: Iterable[Mapping], leaves: Iterable[Mapping]) -> list[Target]:
    """Targets from plain rows: nodes {id, parent, name, description?, examples?} and
    leaves {id, node, name, description?}. Keys are "node:<id>" and "leaf:<id>"."""
    nodes = list(nodes)
    by_id = {n["id"]: n for n in nodes}
    paths: dict = {}

    def path_of(node_id) -> tuple[str, ...]:
        seen = []
        current = node_id
        while current is not None and current in by_id and current not in seen:
            seen.append(current)
            current = by_id[current].get("parent")
        return tuple(by_id[i]["name"] for i in reversed(seen))

    for n in nodes:
        paths[n["id"]] = path_of(n["id"])
    targets = [
        Target(
            key=f"node:{n['id']}",
            name=n["name"],
            path=paths[n["id"]],
            kind=CATEGORY,
            parent=f"node:{n['parent']}" if n.get("parent") is not None else None,
            description=n.get("description") or "",
            examples=tuple(n.get("examples") or ()),
        )
        for n in nodes
    ]
    targets += [
        Target(
            key=f"leaf:{leaf['id']}",
            name=leaf["name"],
            path=(*paths.get(leaf["node"], ()), leaf["name"]),
            kind=LEAF,
            parent=f"node:{leaf['node']}",
            description=leaf.get("description") or "",
            examples=tuple(leaf.get("examples") or ()),
        )
        for leaf in leaves
    ]
    return targets


def ancestors(targets: Mapping[str, Target], key: str) -> list[str]:
    """Keys of the categories above `key`, nearest first."""
    out = []
    current = targets[key].parent if key in targets else None
    while current is not None and current in targets and current not in out:
        out.append(current)
        current = targets[current].parent
    return out


def parse_rounds(text: str | None) -> list[int] | None:
    """Round numbers from "1-5", "1,3,6" or "2" (None for no restriction); ValueError when malformed."""
    if text is None or not str(text).strip():
        return None
    numbers: set[int] = set()
    for part in str(text).split(","):
        first, dash, last = part.strip().partition("-")
        if not first.strip().isdecimal() or (dash and not last.strip().isdecimal()):
            raise ValueError(f"not a round or a range of rounds: {part.strip()!r}")
        low, high = int(first), int(last) if dash else int(first)
        if low < 1 or high < low or high - low > 10_000:
            raise ValueError(f"not a range of rounds: {part.strip()!r}")
        numbers.update(range(low, high + 1))
    return sorted(numbers)
