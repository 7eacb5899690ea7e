"""Reads of the taxonomy: the tree with its instance counts, unmapped labels,
categories per round (Table 1, saturation), history and comparison coverage.

Counting happens in SQL: one query aggregates distinct relevant artefacts per
leaf and per inner node (over the node's whole subtree, through a recursive
ancestor closure); Python only arranges the already-counted nodes into a tree.

An artefact instance of a leaf is a relevant round item (``taxonomy_label``
set) that either points at the leaf (``RoundItem.leaf``) or, without a leaf of
its own, carries the leaf's label ("label mapping"). Interview instances come
from the interviews app's final tags, read through reverse relations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, F, Min, Q

from collection.models import Artefact
from core.codes import code_sort_key
from core.errors import InvalidInput, NotFound
from core.models import Project
from core.text import normalise_label
from labelling.models import Label, Round, RoundItem
from taxonomy.models import Comparison, ComparisonClass, Leaf, Node, TaxonomyChange

INTERVIEWS = "interviews"
SOURCE_CHOICES = [*Artefact.Kind.choices, (INTERVIEWS, "Interviews")]
SOURCE_VALUES = {value for value, _ in SOURCE_CHOICES}


# --- filters -----------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which instances count: `sources` (artefact kinds and/or "interviews"; None = all)
    and `round_number` (only artefacts of that round; interviews belong to no round)."""

    sources: frozenset[str] | None = None
    round_number: int | None = None

    @property
    def artefact_kinds(self) -> frozenset[str] | None:
        return None if self.sources is None else self.sources - {INTERVIEWS}

    @property
    def include_artefacts(self) -> bool:
        return self.sources is None or bool(self.artefact_kinds)

    @property
    def include_interviews(self) -> bool:
        return self.round_number is None and (self.sources is None or INTERVIEWS in self.sources)

    @property
    def active(self) -> bool:
        return self.sources is not None or self.round_number is not None

    def as_query(self) -> list[tuple[str, str]]:
        pairs = [("source", s) for s in sorted(self.sources or ())]
        if self.round_number is not None:
            pairs.append(("round", str(self.round_number)))
        return pairs


def _getlist(params, key: str) -> list[str]:
    if hasattr(params, "getlist"):
        return [str(v) for v in params.getlist(key)]
    value = params.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def filters_from_params(params, *, project: Project) -> Filters:
    """Filters from query parameters `source` (repeatable) and `round` (a round number).

    Unknown values are a 400 naming the parameter."""
    raw_sources = [s for s in _getlist(params, "source") if s]
    unknown = [s for s in raw_sources if s not in SOURCE_VALUES]
    if unknown:
        raise InvalidInput(
            f"Unknown source {unknown[0]!r}; choose from {', '.join(sorted(SOURCE_VALUES))}.", field="source"
        )
    round_number = None
    raw_round = str(params.get("round") or "").strip()
    if raw_round:
        try:
            round_number = int(raw_round)
        except ValueError:
            raise InvalidInput(f"Round must be a round number, not {raw_round!r}.", field="round") from None
        if not Round.objects.filter(project=project, number=round_number).exists():
            raise InvalidInput(f"This project has no round {round_number}.", field="round")
    return Filters(sources=frozenset(raw_sources) if raw_sources else None, round_number=round_number)


# --- interview instances, read through the project's reverse relation ---------------------------

# The interviews app builds on the taxonomy (its final tags point at leaves), so the taxonomy reads
# interview rows only through reverse relations (`project.interviews`, `final_tags`), never its code.
ACCEPTED_TAG = "accepted"  # interviews.FinalTag.Status.ACCEPTED
_TAGS = "interviews__final_tags"


def _accepted_tag_groups(project: Project) -> list[dict]:
    """Accepted interview final tags grouped by (placed leaf, normalised text): one aggregate query."""
    return list(
        Project.objects.filter(pk=project.pk, **{f"{_TAGS}__status": ACCEPTED_TAG})
        .values(placed=F(f"{_TAGS}__leaf_id"), normalised=F(f"{_TAGS}__normalised"))
        .annotate(n=Count(_TAGS))
        .order_by()
    )


def _leaves_by_label_text(project: Project, texts: set[str]) -> dict[str, int]:
    """{normalised label text: the oldest leaf of that label} — where an unplaced tag counts."""
    found: dict[str, int] = {}
    rows = (
        Leaf.objects.filter(node__project=project, label__normalised__in=texts)
        .order_by("id")
        .values_list("label__normalised", "id")
    )
    for text, leaf_id in rows:
        found.setdefault(text, leaf_id)
    return found


def interview_counts_by_leaf(project: Project) -> dict[int, int]:
    """Interview instances (accepted final tags) per leaf id — the MM of "NN+MM".

    A tag counts for the leaf a lead placed it under, else for the leaf whose label has
    the tag's normalised text (the oldest such leaf)."""
    groups = _accepted_tag_groups(project)
    auto = _leaves_by_label_text(project, {g["normalised"] for g in groups if g["placed"] is None})
    counts: dict[int, int] = {}
    for group in groups:
        leaf_id = group["placed"] if group["placed"] is not None else auto.get(group["normalised"])
        if leaf_id is not None:
            counts[leaf_id] = counts.get(leaf_id, 0) + group["n"]
    return counts


def interview_unmapped_tags(project: Project) -> dict[str, int]:
    """Accepted interview final tags that join no leaf yet, as {tag text: instances}; the text shown
    is the one of the earliest interview's tag."""
    groups = _accepted_tag_groups(project)
    unplaced = {g["normalised"]: g["n"] for g in groups if g["placed"] is None}
    unmapped = set(unplaced) - set(_leaves_by_label_text(project, set(unplaced)))
    if not unmapped:
        return {}
    texts: dict[str, str] = {}
    rows = (
        Project.objects.filter(pk=project.pk, **{f"{_TAGS}__normalised__in": unmapped, f"{_TAGS}__leaf__isnull": True})
        .values_list(f"{_TAGS}__normalised", f"{_TAGS}__text")
        .order_by(f"{_TAGS}__normalised", "interviews__number", f"{_TAGS}__id")
    )
    for normalised, text in rows:
        texts.setdefault(normalised, text)
    counts: dict[str, int] = {}
    for normalised in sorted(unmapped, key=lambda n: (-unplaced[n], n)):
        counts[texts.get(normalised, normalised)] = (
            counts.get(texts.get(normalised, normalised), 0) + unplaced[normalised]
        )
    return counts


# --- counting ------------------------------------------------------------------------


@dataclass
class Counts:
    """Distinct relevant artefacts per node (subtree) and per leaf, the first round with an instance
    (by number), and the whole taxonomy's distinct total."""

    nodes: dict[int, int] = field(default_factory=dict)
    leaves: dict[int, int] = field(default_factory=dict)
    node_first_round: dict[int, int] = field(default_factory=dict)
    leaf_first_round: dict[int, int] = field(default_factory=dict)
    total: int = 0


def _q(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def artefact_counts(project: Project, filters: Filters | None = None) -> Counts:
    """One SQL query: distinct relevant artefacts per leaf, per inner node (whole subtree) and in total."""
    filters = filters or Filters()
    counts = Counts()
    if not filters.include_artefacts:
        return counts
    node, leaf, item, rnd, art = _q(Node), _q(Leaf), _q(RoundItem), _q(Round), _q(Artefact)
    where = ["r.project_id = %s", "ri.taxonomy_label_id IS NOT NULL"]
    where_params: list = [project.id]
    joins = ""
    if filters.round_number is not None:
        where.append("r.number = %s")
        where_params.append(filters.round_number)
    kinds = filters.artefact_kinds
    if kinds is not None:
        joins = f" JOIN {art} a ON a.id = ri.artefact_id"
        where.append(f"a.kind IN ({', '.join(['%s'] * len(kinds))})")
        where_params.extend(sorted(kinds))
    where_sql = " AND ".join(where)
    sql = f"""
        WITH RECURSIVE anc(node_id, ancestor_id) AS (
            SELECT id, id FROM {node} WHERE project_id = %s
            UNION ALL
            SELECT anc.node_id, n.parent_id FROM anc JOIN {node} n ON n.id = anc.ancestor_id
            WHERE n.parent_id IS NOT NULL
        ),
        inst(leaf_id, node_id, artefact_id, round_number) AS (
            SELECT l.id, l.node_id, ri.artefact_id, r.number
            FROM {item} ri JOIN {rnd} r ON r.id = ri.round_id JOIN {leaf} l ON l.id = ri.leaf_id{joins}
            WHERE {where_sql}
            UNION ALL
            SELECT l.id, l.node_id, ri.artefact_id, r.number
            FROM {item} ri JOIN {rnd} r ON r.id = ri.round_id
            JOIN {leaf} l ON l.label_id = ri.taxonomy_label_id
            JOIN {node} ln ON ln.id = l.node_id AND ln.project_id = %s{joins}
            WHERE ri.leaf_id IS NULL AND {where_sql}
        )
        SELECT 0, anc.ancestor_id, COUNT(DISTINCT inst.artefact_id), MIN(inst.round_number)
        FROM inst JOIN anc ON anc.node_id = inst.node_id GROUP BY anc.ancestor_id
        UNION ALL
        SELECT 1, inst.leaf_id, COUNT(DISTINCT inst.artefact_id), MIN(inst.round_number) FROM inst GROUP BY inst.leaf_id
        UNION ALL
        SELECT 2, 0, COUNT(DISTINCT inst.artefact_id), MIN(inst.round_number) FROM inst
    """
    params = [project.id, *where_params, project.id, *where_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for kind, key, count, first_round in cursor.fetchall():
            if kind == 0:
                counts.nodes[key] = count
                counts.node_first_round[key] = first_round
            elif kind == 1:
                counts.leaves[key] = count
                counts.leaf_first_round[key] = first_round
            else:
                counts.total = count or 0
    return counts


# --- the tree ------------------------------------------------------------------------


def code_key(code: str) -> tuple:
    """Natural order of category codes: 2 < 10, 4.2 < 4.10; codeless entries last (core.codes)."""
    return code_sort_key(code)


@dataclass(eq=False)
class Entry:
    """A node or a leaf of the rendered tree, with its counts."""

    kind: str  # "node" or "leaf"
    id: int
    name: str
    parent_id: int | None
    code: str = ""
    description: str = ""
    position: int = 0
    label_id: int | None = None
    round_id: int | None = None
    round_number: int | None = None
    depth: int = 0
    artefact_count: int = 0
    interview_count: int = 0
    first_round: int | None = None
    children: list[Entry] = field(default_factory=list)  # inner nodes
    leaves: list[Entry] = field(default_factory=list)
    match: bool = False
    visible: bool = True

    @property
    def is_leaf(self) -> bool:
        return self.kind == "leaf"

    @property
    def level(self) -> int:
        return self.depth

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.id}"

    @property
    def counts(self) -> str:
        return f"{self.artefact_count}+{self.interview_count}"

    @property
    def option_label(self) -> str:
        """The entry in a <select>: indented by depth, with its code."""
        indent = "\u00a0\u00a0\u00a0" * max(self.depth - 1, 0)
        return f"{indent}{self.code + ' ' if self.code else ''}{self.name}"

    @property
    def items(self) -> list[Entry]:
        """Children then leaves, in display order."""
        return [*self.children, *self.leaves]

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()
        yield from self.leaves

    def inner_count(self) -> int:
        return sum(1 for e in self.walk() if not e.is_leaf)

    def leaf_count(self) -> int:
        return sum(1 for e in self.walk() if e.is_leaf)


@dataclass
class Tree:
    project: Project
    filters: Filters
    roots: list[Entry]
    nodes: dict[int, Entry]
    leaves: dict[int, Entry]
    artefact_total: int = 0
    interview_total: int = 0
    query: str = ""

    def walk(self):
        for root in self.roots:
            yield from root.walk()

    @property
    def max_depth(self) -> int:
        return max((e.depth for e in self.nodes.values()), default=0)

    def descendants(self, node_id: int) -> set[int]:
        """Ids of the inner nodes below `node_id` (not itself)."""
        entry = self.nodes.get(node_id)
        if entry is None:
            return set()
        return {e.id for e in entry.walk() if not e.is_leaf and e.id != node_id}

    def path(self, entry: Entry) -> list[Entry]:
        chain = [entry]
        parent = entry.parent_id
        while parent is not None and parent in self.nodes:
            chain.append(self.nodes[parent])
            parent = self.nodes[parent].parent_id
        return chain[::-1]

    def node_options(self, *, exclude: set[int] | None = None) -> list[Entry]:
        """Every inner node in tree order, for "move to…" menus."""
        exclude = exclude or set()
        return [e for e in self.walk() if not e.is_leaf and e.id not in exclude]


def _sort_key(entry: Entry):
    # By code numerically (5.8 before 5.10); uncoded siblings after coded ones, in the builder's order.
    return (code_key(entry.code), entry.position, entry.name.casefold(), entry.id)


def tree_build(project: Project, *, filters: Filters | None = None, q: str = "") -> Tree:
    """The project's taxonomy with counts: a constant number of queries, whatever its size."""
    filters = filters or Filters()
    node_rows = Node.objects.filter(project=project).values(
        "id", "parent_id", "name", "code", "description", "position", "round_created_id", "round_created__number"
    )
    leaf_rows = Leaf.objects.filter(node__project=project).values(
        "id", "node_id", "label_id", "label__name", "label__description", "round_created_id", "round_created__number"
    )
    nodes = {
        r["id"]: Entry(
            kind="node",
            id=r["id"],
            name=r["name"],
            parent_id=r["parent_id"],
            code=r["code"],
            description=r["description"],
            position=r["position"],
            round_id=r["round_created_id"],
            round_number=r["round_created__number"],
        )
        for r in node_rows
    }
    leaves = {
        r["id"]: Entry(
            kind="leaf",
            id=r["id"],
            name=r["label__name"],
            parent_id=r["node_id"],
            description=r["label__description"],
            label_id=r["label_id"],
            round_id=r["round_created_id"],
            round_number=r["round_created__number"],
        )
        for r in leaf_rows
    }
    counts = artefact_counts(project, filters)
    interviews = interview_counts_by_leaf(project) if filters.include_interviews else {}

    roots: list[Entry] = []
    for entry in nodes.values():
        entry.artefact_count = counts.nodes.get(entry.id, 0)
        entry.first_round = counts.node_first_round.get(entry.id)
        parent = nodes.get(entry.parent_id) if entry.parent_id is not None else None
        (parent.children if parent else roots).append(entry)
    for entry in leaves.values():
        entry.artefact_count = counts.leaves.get(entry.id, 0)
        entry.interview_count = interviews.get(entry.id, 0)
        entry.first_round = counts.leaf_first_round.get(entry.id)
        nodes[entry.parent_id].leaves.append(entry)

    def settle(entry: Entry, depth: int) -> int:
        entry.depth = depth
        entry.children.sort(key=_sort_key)
        entry.leaves.sort(key=lambda e: (e.name.casefold(), e.id))
        total = 0
        for leaf in entry.leaves:
            leaf.depth = depth + 1
            total += leaf.interview_count
        for child in entry.children:
            total += settle(child, depth + 1)
        entry.interview_count = total
        return total

    roots.sort(key=_sort_key)
    interview_total = sum(settle(root, 1) for root in roots)
    tree = Tree(
        project=project,
        filters=filters,
        roots=roots,
        nodes=nodes,
        leaves=leaves,
        artefact_total=counts.total,
        interview_total=interview_total,
        query=q.strip(),
    )
    if tree.query:
        _apply_search(tree, tree.query)
    return tree


def _apply_search(tree: Tree, query: str) -> None:
    """Mark entries matching `query` (name, code or description); show matches, their ancestors and subtrees."""
    needle = query.casefold()

    def visit(entry: Entry, ancestor_matched: bool) -> bool:
        entry.match = (
            needle in entry.name.casefold()
            or needle in entry.code.casefold()
            or (not entry.is_leaf and needle in entry.description.casefold())
        )
        inherited = ancestor_matched or entry.match
        below = False
        for item in entry.items:
            below = visit(item, inherited) or below
        entry.visible = inherited or below
        return entry.match or below

    for root in tree.roots:
        visit(root, False)


# --- unmapped labels ----------------------------------------------------------------------


@dataclass
class Unmapped:
    label_id: int | None  # None: an interview tag with no label yet (attached by its text)
    name: str
    artefact_count: int
    interview_count: int = 0
    first_round: int | None = None

    @property
    def counts(self) -> str:
        return f"{self.artefact_count}+{self.interview_count}"

    @property
    def value(self) -> str:
        """What an attach form posts for this entry: the label id, or the tag text."""
        return str(self.label_id) if self.label_id is not None else f"name:{self.name}"


def unmapped_labels(project: Project, filters: Filters | None = None) -> list[Unmapped]:
    """Labels of decided relevant artefacts (and of accepted interview tags) that no leaf carries yet."""
    filters = filters or Filters()
    result: dict[int | str, Unmapped] = {}
    if filters.include_artefacts:
        items = RoundItem.objects.filter(
            round__project=project, taxonomy_label__isnull=False, leaf__isnull=True
        ).exclude(taxonomy_label__leaves__isnull=False)
        if filters.round_number is not None:
            items = items.filter(round__number=filters.round_number)
        if filters.artefact_kinds is not None:
            items = items.filter(artefact__kind__in=filters.artefact_kinds)
        rows = (
            items.values("taxonomy_label_id", "taxonomy_label__name")
            .annotate(n=Count("artefact_id", distinct=True), first=Min("round__number"))
            .order_by()
        )
        for r in rows:
            result[r["taxonomy_label_id"]] = Unmapped(
                r["taxonomy_label_id"], r["taxonomy_label__name"], r["n"], first_round=r["first"]
            )
    if filters.include_interviews:
        extra = interview_unmapped_tags(project)
        if extra:
            keys = {normalise_label(text): text for text in extra}
            known = dict(Label.objects.filter(project=project, normalised__in=keys).values_list("normalised", "id"))
            for key, text in keys.items():
                label_id = known.get(key)
                if label_id is not None and label_id in result:
                    result[label_id].interview_count += extra[text]
                else:
                    entry = Unmapped(label_id, text, 0, extra[text])
                    result[label_id if label_id is not None else f"tag:{key}"] = entry
    return sorted(result.values(), key=lambda u: (-(u.artefact_count + u.interview_count), u.name.casefold()))


# --- rounds: Table 1 and saturation ---------------------------------------------------------


def node_depths(rows) -> dict[int, int]:
    """Depth (1 = top level) of each node from (id, parent_id) pairs; nodes in a cycle get none."""
    parent_of = dict(rows)
    depths: dict[int, int] = {}
    for start in parent_of:
        chain, current = [], start
        while current is not None and current not in depths and current not in chain:
            chain.append(current)
            current = parent_of.get(current)
        base = depths.get(current, 0) if current is not None else 0
        if current is not None and current in chain:
            continue  # a cycle: leave these nodes out
        for offset, node_id in enumerate(reversed(chain), start=1):
            depths[node_id] = base + offset
    return depths


def new_categories_by_round(project: Project) -> list[dict]:
    """Per round (in order of number): the new inner categories per level and the new leaves.

    Each row is ``{"round": Round | None, "number": int | None, "new_inner": [level 1, level 2, …],
    "new_leaves": int}``; ``new_inner`` has one entry per level of the deepest inner node, for every
    row. Categories with no recorded round are counted in a last row with ``round`` None (only when
    there are any). Three queries, whatever the size of the taxonomy."""
    rounds = list(Round.objects.filter(project=project).order_by("number"))
    node_rows = list(Node.objects.filter(project=project).values_list("id", "parent_id", "round_created_id"))
    depths = node_depths([(i, p) for i, p, _ in node_rows])
    levels = max(depths.values(), default=0)
    leaf_rows = dict(
        Leaf.objects.filter(node__project=project)
        .values("round_created_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("round_created_id", "n")
    )
    inner: dict[int | None, list[int]] = {}
    for node_id, _, round_id in node_rows:
        if node_id in depths:
            inner.setdefault(round_id, [0] * levels)[depths[node_id] - 1] += 1
    rows = [
        {
            "round": rnd,
            "number": rnd.number,
            "new_inner": inner.get(rnd.id, [0] * levels),
            "new_leaves": leaf_rows.get(rnd.id, 0),
        }
        for rnd in rounds
    ]
    if None in inner or leaf_rows.get(None):
        rows.append(
            {
                "round": None,
                "number": None,
                "new_inner": inner.get(None, [0] * levels),
                "new_leaves": leaf_rows.get(None, 0),
            }
        )
    return rows


def saturation_round(rows: list[dict]) -> Round | None:
    """The first round that added no new inner category, once some round had added one."""
    seen_growth = False
    for row in rows:
        if row["round"] is None:
            continue
        if sum(row["new_inner"]):
            seen_growth = True
        elif seen_growth:
            return row["round"]
    return None


def cumulative_categories(rows: list[dict]) -> list[dict]:
    """Running totals of inner and leaf categories after each round (rows without a round left out)."""
    inner = leaves = 0
    out = []
    for row in rows:
        if row["round"] is None:
            continue
        inner += sum(row["new_inner"])
        leaves += row["new_leaves"]
        out.append({"round": row["round"], "number": row["number"], "inner": inner, "leaves": leaves})
    return out


# --- single objects ---------------------------------------------------------------------


def node_get(project: Project, node_id, *, field_name: str = "node") -> Node:
    try:
        node_id = int(node_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"Not a category id: {node_id!r}.", field=field_name) from None
    node = Node.objects.filter(project=project, id=node_id).first()
    if node is None:
        raise NotFound(f"No category {node_id} in this project.", field=field_name)
    return node


def leaf_get(project: Project, leaf_id, *, field_name: str = "leaf") -> Leaf:
    try:
        leaf_id = int(leaf_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"Not a leaf id: {leaf_id!r}.", field=field_name) from None
    leaf = Leaf.objects.select_related("label", "node").filter(node__project=project, id=leaf_id).first()
    if leaf is None:
        raise NotFound(f"No leaf {leaf_id} in this project.", field=field_name)
    return leaf


def leaf_instances(leaf: Leaf, *, limit: int = 25):
    """Relevant round items counted for the leaf (pointer or label mapping), newest rounds first."""

    return (
        RoundItem.objects.filter(round__project=leaf.node.project, taxonomy_label__isnull=False)
        .filter(Q(leaf=leaf) | Q(leaf__isnull=True, taxonomy_label_id=leaf.label_id))
        .select_related("artefact", "round")
        .order_by("-round__number", "artefact_id")[:limit]
    )


def change_list(project: Project, *, limit: int = 20):
    return TaxonomyChange.objects.filter(project=project).select_related("user", "undone_by")[:limit]


def change_last_undoable(project: Project) -> TaxonomyChange | None:
    return TaxonomyChange.objects.filter(project=project, undone_at__isnull=True).order_by("-id").first()


def round_current(project: Project) -> Round | None:
    """The round new categories belong to: the latest open round, else the latest round."""
    rounds = Round.objects.filter(project=project).order_by("-number")
    return rounds.filter(status=Round.Status.OPEN).first() or rounds.first()


# --- comparisons ----------------------------------------------------------------------------


def comparison_list(project: Project):
    return Comparison.objects.filter(project=project).annotate(n_classes=Count("classes")).order_by("name")


def comparison_get(project: Project, comparison_id) -> Comparison:
    try:
        comparison_id = int(comparison_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"Not a comparison id: {comparison_id!r}.", field="comparison") from None
    comparison = Comparison.objects.filter(project=project, id=comparison_id).first()
    if comparison is None:
        raise NotFound(f"No comparison {comparison_id} in this project.", field="comparison")
    return comparison


def comparison_class_get(comparison: Comparison, class_id) -> ComparisonClass:
    try:
        class_id = int(class_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"Not a class id: {class_id!r}.", field="class") from None
    cls = ComparisonClass.objects.filter(comparison=comparison, id=class_id).first()
    if cls is None:
        raise NotFound(f"No class {class_id} in {comparison}.", field="class")
    return cls


@dataclass
class Coverage:
    """How a comparison reaches the tree: per entry key ("node-1", "leaf-2") the classes mapped
    directly; `reached` holds entries mapped directly or with a mapped descendant."""

    classes: list[ComparisonClass]
    direct: dict[str, list[ComparisonClass]]
    reached: set[str]
    unreached: list[Entry]
    unmapped_classes: list[ComparisonClass]
    total: int
    entries: list[Entry] = field(default_factory=list)  # every category and leaf, in tree order

    @property
    def reached_count(self) -> int:
        return self.total - len(self.unreached)

    @property
    def percent(self) -> int:
        return round(100 * self.reached_count / self.total) if self.total else 0


def comparison_coverage(comparison: Comparison, tree: Tree) -> Coverage:
    """Which nodes and leaves the comparison's classes reach; three queries."""
    classes = list(comparison.classes.order_by("position", "id"))
    by_id = {c.id: c for c in classes}
    direct: dict[str, list[ComparisonClass]] = {}
    mapped_classes: set[int] = set()
    through_nodes = ComparisonClass.nodes.through.objects.filter(comparisonclass__comparison=comparison)
    for class_id, node_id in through_nodes.values_list("comparisonclass_id", "node_id"):
        direct.setdefault(f"node-{node_id}", []).append(by_id[class_id])
        mapped_classes.add(class_id)
    through_leaves = ComparisonClass.leaves.through.objects.filter(comparisonclass__comparison=comparison)
    for class_id, leaf_id in through_leaves.values_list("comparisonclass_id", "leaf_id"):
        direct.setdefault(f"leaf-{leaf_id}", []).append(by_id[class_id])
        mapped_classes.add(class_id)
    reached: set[str] = set()

    def visit(entry: Entry) -> bool:
        hit = entry.key in direct
        for item in entry.items:
            hit = visit(item) or hit
        if hit:
            reached.add(entry.key)
        return hit

    for root in tree.roots:
        visit(root)
    everything = list(tree.walk())
    unreached = [e for e in everything if e.key not in reached]
    return Coverage(
        classes=classes,
        direct=direct,
        reached=reached,
        unreached=unreached,
        unmapped_classes=[c for c in classes if c.id not in mapped_classes],
        total=len(everything),
        entries=everything,
    )


def leaf_list(*, project: Project):
    """Leaves by their category's code numerically, then category and label name."""
    leaves = Leaf.objects.filter(node__project=project).select_related("node", "label")
    return sorted(leaves, key=lambda leaf: (code_key(leaf.node.code), leaf.node.name.casefold(), leaf.label.normalised))


def node_list(*, project: Project):
    """Categories by code numerically (uncoded last), then name."""
    return sorted(Node.objects.filter(project=project), key=lambda n: (code_key(n.code), n.name.casefold(), n.id))


def change_history(*, project: Project):
    """Every change of the project's taxonomy, newest first (paginated by the page)."""
    return TaxonomyChange.objects.filter(project=project).select_related("user", "undone_by")


# --- the codebook (issue 9) ----------------------------------------------------------------------


def codebook_categories(*, project) -> list[dict]:
    """Every category of the project depth first, siblings by code numerically (5.8 before 5.10,
    uncoded after coded, then by position and name): code, name, description, examples, depth, parent."""
    nodes = list(
        Node.objects.filter(project=project).values(
            "id", "parent_id", "code", "name", "description", "examples", "position"
        )
    )
    children: dict[int | None, list[dict]] = {}
    for node in nodes:
        children.setdefault(node["parent_id"], []).append(node)
    for siblings in children.values():
        siblings.sort(key=lambda n: (code_sort_key(n["code"]), n["position"], n["name"].casefold(), n["id"]))
    ordered: list[dict] = []
    stack = [(node, 0) for node in reversed(children.get(None, []))]
    while stack:
        node, depth = stack.pop()
        ordered.append({**node, "depth": depth})
        stack.extend((child, depth + 1) for child in reversed(children.get(node["id"], [])))
    return ordered
