"""Inner taxonomy nodes keyed by category code, and the outline (`code,name` CSV) that names them.

- Nodes that come from imports carry a dotted code (`4`, `4.2`, `4.2.1`). A node's
  parent is its nearest ancestor by dotted prefix that exists: 4.2.1 goes under
  4.2 if there is one, else under 4, else it is a root.
- The outline names the nodes. A code the outline lacks (met in a round import)
  becomes a node named by its code; a later outline gives it its proper name.
  A node someone renamed in Concord keeps its name (reported as kept).
- Importing the same outline again changes nothing.
- An imported node's round is the first round in which a relevant artefact falls
  in its subtree (`rounds_recompute`); leaves likewise. Only nodes with a code
  (and their leaves) are recomputed: nodes built in Concord keep what the
  taxonomy builder set.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import Min

from collection.importers.headers import header_words
from collection.importers.reading import Row, read_table
from core.errors import InvalidInput
from labelling.models import Round
from labelling.tags import parse_code
from taxonomy.models import Leaf, Node

_CODE = re.compile(r"^\w+(?:\.\w+)*$")


def code_parts(code: str) -> list[str]:
    return [p for p in str(code).split(".") if p]


def code_ancestors(code: str) -> list[str]:
    """Proper ancestors by dotted prefix, nearest first: 4.2.1 → [4.2, 4]."""
    parts = code_parts(code)
    return [".".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def code_position(code: str) -> int:
    last = code_parts(code)[-1] if code_parts(code) else ""
    return int(last) if last.isdecimal() and int(last) < 2**31 else 0


def code_sort_key(code: str) -> tuple:
    return tuple((0, int(p), "") if p.isdecimal() else (1, 0, p) for p in code_parts(code))


class NodeIndex:
    """The project's coded nodes by code, creating placeholders on demand (inside a transaction)."""

    def __init__(self, project, user=None):
        self.project = project
        self.user = user
        self.by_code: dict[str, Node] = {n.code: n for n in Node.objects.filter(project=project).exclude(code="")}
        self.created: list[str] = []
        self.reparented: list[str] = []

    def nearest_ancestor(self, code: str) -> Node | None:
        for prefix in code_ancestors(code):
            if prefix in self.by_code:
                return self.by_code[prefix]
        return None

    def _free_name(self, parent: Node | None, name: str, code: str) -> str:
        siblings = Node.objects.filter(project=self.project, parent=parent)
        if not siblings.filter(name=name).exists():
            return name
        return f"{name} ({code})"[:200]

    def create(self, code: str, name: str, position: int | None = None) -> Node:
        parent = self.nearest_ancestor(code)
        node = Node.objects.create(
            project=self.project,
            parent=parent,
            code=code,
            name=self._free_name(parent, name[:200], code),
            position=code_position(code) if position is None else position,
            created_by=self.user,
        )
        self.by_code[code] = node
        self.created.append(code)
        return node

    def node_for_code(self, code: str) -> Node:
        """The node with this code; a new node named by the code if none exists.

        Call `fix_parents()` once after creating a batch, so earlier placeholders
        move under ancestors created after them."""
        node = self.by_code.get(code)
        if node is None:
            node = self.create(code, code)
        return node

    def fix_parents(self) -> None:
        """Move coded nodes under a nearer ancestor by prefix that appeared since they were placed.

        A node is only moved when its current parent is none or a farther coded ancestor,
        so placements made by hand in the taxonomy builder stay."""
        changed = []
        by_id = {n.id: n for n in self.by_code.values()}
        for code, node in self.by_code.items():
            best = self.nearest_ancestor(code)
            if best is None or node.parent_id == best.id:
                continue
            current = by_id.get(node.parent_id)
            if node.parent_id is not None and (current is None or current.code not in code_ancestors(code)):
                continue
            if current is not None and len(code_parts(current.code)) >= len(code_parts(best.code)):
                continue
            node.parent = best
            changed.append(node)
            self.reparented.append(code)
        for node in changed:
            node.save(update_fields=["parent"])


def outline_rows(table) -> tuple[list[tuple[int, str, str]], list[dict]]:
    """[(row, code, name)] and problems from a table read by collection.importers.reading."""

    sheet = table.first
    code_col, name_col = None, None
    for i, text in enumerate(sheet.header):
        words = set(header_words(text))
        if code_col is None and words & {"code", "number"}:
            code_col = i
        elif name_col is None and words & {"title", "category", "tag", "body"}:
            name_col = i
    rows = list(sheet.rows)
    if code_col is None or name_col is None:
        first_code, _ = parse_code(sheet.header[0] if sheet.header else "")
        if first_code and len(sheet.header) >= 2:  # no header row: the first row is data
            rows.insert(0, Row(number=sheet.header_row, values=list(sheet.header)))
        code_col, name_col = 0, 1
    out, problems = [], []
    seen = {}
    for row in rows:
        values = row.values + [None, None]
        code, problem = parse_code(values[code_col])
        name = str(values[name_col] or "").strip()
        if problem:
            problems.append({"row": row.number, "reason": problem})
            continue
        if not code:
            problems.append({"row": row.number, "reason": "no code"})
            continue
        if not name:
            problems.append({"row": row.number, "reason": f"code {code} has no name"})
            continue
        if code in seen:
            problems.append({"row": row.number, "reason": f"code {code} again (first in row {seen[code]})"})
            continue
        seen[code] = row.number
        out.append((row.number, code, name))
    return out, problems


def outline_read(data: bytes, filename: str = "") -> tuple[list[tuple[int, str, str]], list[dict]]:

    return outline_rows(read_table(data, filename))


def outline_import(*, project, rows: list[tuple[int, str, str]], user=None, index: NodeIndex | None = None) -> dict:
    """Create or name the coded nodes of an outline. Re-importing the same outline changes nothing."""
    if not rows:
        raise InvalidInput("The outline has no `code,name` rows.", field="outline")
    with transaction.atomic():
        index = index or NodeIndex(project, user=user)
        created_before = len(index.created)
        renamed, kept = [], []
        order = sorted(rows, key=lambda r: (len(code_parts(r[1])), code_sort_key(r[1])))
        for _, code, name in order:
            node = index.by_code.get(code)
            if node is None:
                index.create(code, name)
                continue
            if node.name == name:
                continue
            if node.name == node.code:  # a placeholder named by its code gets its real name
                node.name = index._free_name(node.parent, name[:200], code)
                node.save(update_fields=["name"])
                renamed.append(code)
            else:
                kept.append({"code": code, "name": node.name, "outline": name})
        index.fix_parents()
    return {
        "nodes_created": len(index.created) - created_before,
        "renamed": renamed,
        "kept_names": kept,
        "reparented": list(index.reparented),
    }


def rounds_recompute(*, project) -> dict:
    """Set round_created of coded nodes and their leaves to the first round with a relevant artefact
    in their subtree (aggregated in SQL per leaf, propagated up the tree). Returns counts changed."""

    rounds = dict(Round.objects.filter(project=project).values_list("number", "id"))
    imported = set(Round.objects.filter(project=project, source=Round.Source.IMPORT).values_list("id", flat=True))
    nodes = {n.id: n for n in Node.objects.filter(project=project).only("id", "parent_id", "code", "round_created_id")}
    first_by_node: dict[int, int] = {}
    leaves_changed = []
    for leaf in (
        Leaf.objects.filter(node__project=project)
        .annotate(first=Min("items__round__number"))
        .only("id", "node_id", "round_created_id")
    ):
        if leaf.first is not None:
            node_id = leaf.node_id
            seen = set()
            while node_id is not None and node_id not in seen:
                seen.add(node_id)
                if first_by_node.get(node_id) is None or leaf.first < first_by_node[node_id]:
                    first_by_node[node_id] = leaf.first
                node_id = nodes[node_id].parent_id if node_id in nodes else None
        if nodes.get(leaf.node_id) is None or not nodes[leaf.node_id].code:
            continue
        want = rounds.get(leaf.first) if leaf.first is not None else None
        if want is None and leaf.round_created_id not in imported:
            continue
        if leaf.round_created_id != want:
            leaf.round_created_id = want
            leaves_changed.append(leaf)
    nodes_changed = []
    for node in nodes.values():
        if not node.code:
            continue
        first = first_by_node.get(node.id)
        want = rounds.get(first) if first is not None else None
        if want is None and node.round_created_id not in imported:
            continue
        if node.round_created_id != want:
            node.round_created_id = want
            nodes_changed.append(node)
    if leaves_changed:
        Leaf.objects.bulk_update(leaves_changed, ["round_created"])
    if nodes_changed:
        Node.objects.bulk_update(nodes_changed, ["round_created"])
    return {"nodes": len(nodes_changed), "leaves": len(leaves_changed)}
