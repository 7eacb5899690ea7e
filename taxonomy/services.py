"""Writes to a project's taxonomy. Keyword-only `<entity>_<action>` functions, each one
transaction that locks the project's row (edits of one taxonomy are serialised),
raises a DomainError with nothing written when a rule is broken, and records a
TaxonomyChange whose snapshot lets the latest change be undone exactly.

Names are stored exactly as entered (only outer whitespace trimmed); templates
and the SVG writer escape them.
"""

from __future__ import annotations

import io
import json
import zipfile

from django.apps import apps
from django.db import IntegrityError, models, transaction
from django.db.models import Min
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from collection.formats.common import FormatError
from collection.formats.refiqda import Code, read_codebook
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotFound
from core.jobs import job_execute, job_reading, job_upload_start
from core.models import Job, Project
from core.progress import Progress
from core.selectors import membership_require
from core.uploads import check_upload
from labelling.models import Label, Round, RoundItem
from labelling.services import label_get_or_create
from taxonomy import outline, selectors, tasks
from taxonomy.models import Comparison, ComparisonClass, Leaf, Node, TaxonomyChange

EDITOR_ROLES = ("lead", "moderator")
MAX_NAME = 200
MAX_CODE = 40
# Categories nest at most this deep (a code of 40 characters has at most 20 levels). The tree page
# renders nesting recursively; at some 60 levels it failed with a RecursionError for every member.
MAX_DEPTH = 20
_UNSET = object()


def editor_require(*, project: Project, user):
    """Leads and moderators edit the taxonomy; other members read it; non-members get 404."""
    return membership_require(project=project, user=user, roles=EDITOR_ROLES)


# --- validation ----------------------------------------------------------------------


def name_validate(name, *, field: str = "name", max_length: int = MAX_NAME) -> str:
    if not isinstance(name, str):
        raise InvalidInput("A name must be text.", field=field)
    name = name.strip()
    if not name:
        raise InvalidInput("A name cannot be empty.", field=field)
    if "\x00" in name:  # PostgreSQL cannot store it; pages and the API's text fields refuse it too
        raise InvalidInput("A name cannot hold a NUL character.", field=field)
    if len(name) > max_length:
        raise InvalidInput(f"A name has at most {max_length} characters (this one has {len(name)}).", field=field)
    return name


def _code_validate(project: Project, code, *, exclude_id: int | None = None) -> str:
    if code is None:
        return ""
    if not isinstance(code, str | int | float):
        raise InvalidInput("A code must be text such as 4.2.1.", field="code")
    code = str(code).strip()
    if len(code) > MAX_CODE:
        raise InvalidInput(f"A code has at most {MAX_CODE} characters.", field="code")
    if code:
        clash = Node.objects.filter(project=project, code=code).exclude(id=exclude_id).first()
        if clash is not None:
            raise Conflict(f'Code {code} is taken by "{clash.name}".', field="code")
    return code


def _sibling_clash(project: Project, parent_id: int | None, name: str, *, exclude_ids=()) -> Node | None:
    siblings = Node.objects.filter(project=project, parent_id=parent_id, name__iexact=name).exclude(id__in=exclude_ids)
    clash = siblings.first()
    if clash is None:  # SQLite's iexact folds ASCII only: compare the rest in Python
        folded = name.casefold()
        for other in Node.objects.filter(project=project, parent_id=parent_id).exclude(id__in=exclude_ids):
            if other.name.casefold() == folded:
                return other
    return clash


def _where(parent: Node | None) -> str:
    return f'"{parent.name}"' if parent is not None else "the top level"


def _round_resolve(project: Project, round) -> Round | None:
    """An explicit round (instance, id or number) of this project, or the current round."""
    if round is _UNSET or round is None or round == "":
        return selectors.round_current(project)
    if isinstance(round, Round):
        if round.project_id != project.id:
            raise InvalidInput("That round belongs to another project.", field="round")
        return round
    try:
        number = int(round)
    except (TypeError, ValueError):
        raise InvalidInput(f"Round must be a round number, not {round!r}.", field="round") from None
    found = Round.objects.filter(project=project, number=number).first()
    if found is None:
        raise InvalidInput(f"This project has no round {number}.", field="round")
    return found


def _lock(project: Project) -> None:
    Project.objects.select_for_update().filter(pk=project.pk).first()


def _node_in(project: Project, node, *, field: str = "node") -> Node | None:
    if node is None or node == "":
        return None
    if isinstance(node, Node):
        node = node.pk
    return selectors.node_get(project, node, field_name=field)


# --- change records (history and undo) ---------------------------------------------------

NODE_FIELDS = ("parent_id", "name", "code", "description", "position", "round_created_id", "created_by_id")
LEAF_FIELDS = ("node_id", "label_id", "round_created_id")


def leaf_references() -> list[tuple[type[models.Model], str]]:
    """Every (model, FK field) pointing at Leaf: round items, interview final tags, and whatever else appears."""
    refs = []
    for rel in Leaf._meta.related_objects:
        if rel.many_to_many or not rel.field.concrete:
            continue
        refs.append((rel.related_model, rel.field.name))
    return refs


class _Recorder:
    """Collects the before-state of everything a change touches."""

    def __init__(self):
        self.nodes: dict[int, dict] = {}
        self.leaves: dict[int, dict] = {}
        self.refs: list[list] = []
        self.created_nodes: list[int] = []
        self.created_leaves: list[int] = []

    def node(self, node: Node) -> None:
        if node.id in self.nodes or node.id in self.created_nodes:
            return
        state = {f: getattr(node, f) for f in NODE_FIELDS}
        state["created_at"] = node.created_at.isoformat() if node.created_at else None
        state["classes"] = list(node.comparison_classes.values_list("id", flat=True))
        self.nodes[node.id] = state

    def leaf(self, leaf: Leaf) -> None:
        if leaf.id in self.leaves or leaf.id in self.created_leaves:
            return
        state = {f: getattr(leaf, f) for f in LEAF_FIELDS}
        state["created_at"] = leaf.created_at.isoformat() if leaf.created_at else None
        state["classes"] = list(leaf.comparison_classes.values_list("id", flat=True))
        self.leaves[leaf.id] = state

    def repoint(self, model, field_name: str, queryset, new_leaf_id: int | None) -> int:
        """Point every row of `queryset` at `new_leaf_id`, remembering the old pointers."""
        attname = model._meta.get_field(field_name).attname
        rows = list(queryset.values_list("pk", attname))
        if rows:
            label = model._meta.label
            self.refs.extend([label, field_name, pk, old] for pk, old in rows)
            model.objects.filter(pk__in=[pk for pk, _ in rows]).update(**{attname: new_leaf_id})
        return len(rows)

    def snapshot(self) -> dict:
        return {
            "nodes": {str(k): v for k, v in self.nodes.items()},
            "leaves": {str(k): v for k, v in self.leaves.items()},
            "refs": self.refs,
            "created_nodes": self.created_nodes,
            "created_leaves": self.created_leaves,
        }


def _record(project: Project, user, action: str, summary: str, rec: _Recorder) -> TaxonomyChange:
    return TaxonomyChange.objects.create(
        project=project,
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        summary=summary[:1000],
        snapshot=rec.snapshot(),
    )


def _save(obj: models.Model, *, what: str, field: str = "name", **kwargs) -> None:
    """Save inside a savepoint; a constraint race becomes a 409 naming `what`."""
    try:
        with transaction.atomic():
            obj.save(**kwargs)
    except IntegrityError:
        raise Conflict(f"{what} clashes with an existing entry.", field=field) from None


# --- nodes ------------------------------------------------------------------------------


def node_create(
    *,
    project: Project,
    user,
    name: str,
    parent=None,
    description: str = "",
    code: str = "",
    round=_UNSET,
    position: int = 0,
) -> Node:
    """A new inner category under `parent` (None: top level), created in `round` (default: the current round)."""
    editor_require(project=project, user=user)
    name = name_validate(name)
    with transaction.atomic():
        _lock(project)
        parent_node = _node_in(project, parent, field="parent")
        if parent_node is not None:
            _depth_check(_depths(project).get(parent_node.id, 0) + 1, field="parent")
        code = _code_validate(project, code)
        clash = _sibling_clash(project, parent_node.id if parent_node else None, name)
        if clash is not None:
            raise Conflict(f'{_where(parent_node)} already has a category named "{clash.name}".', field="name")
        node = Node(
            project=project,
            parent=parent_node,
            name=name,
            code=code,
            description=description or "",
            position=position or 0,
            round_created=_round_resolve(project, round),
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        _save(node, what=f'"{name}"')
        rec = _Recorder()
        rec.created_nodes.append(node.id)
        _record(project, user, TaxonomyChange.Action.NODE_CREATE, f'Created "{name}" under {_where(parent_node)}', rec)
    return node


def node_update(*, node: Node, user, name=None, description=None, code=None, round=_UNSET) -> Node:
    """Rename, describe, re-code a category or set the round it was created in."""
    project = node.project
    editor_require(project=project, user=user)
    if name is not None:
        name = name_validate(name)
    with transaction.atomic():
        _lock(project)
        node = selectors.node_get(project, node.pk)
        rec = _Recorder()
        rec.node(node)
        changes = []
        if name is not None and name != node.name:
            clash = _sibling_clash(project, node.parent_id, name, exclude_ids=[node.id])
            if clash is not None:
                raise Conflict(f'{_where(node.parent)} already has a category named "{clash.name}".', field="name")
            changes.append(f'renamed "{node.name}" to "{name}"')
            node.name = name
        if description is not None and description != node.description:
            changes.append(f'described "{node.name}"')
            node.description = description
        if code is not None:
            code = _code_validate(project, code, exclude_id=node.id)
            if code != node.code:
                changes.append(f'set the code of "{node.name}" to {code or "none"}')
                node.code = code
        if round is not _UNSET:
            new_round = None if round in (None, "") else _round_resolve(project, round)
            if (new_round.id if new_round else None) != node.round_created_id:
                changes.append(f'set the round of "{node.name}" to {new_round or "none"}')
                node.round_created = new_round
        if not changes:
            return node
        _save(node, what=f'"{node.name}"')
        summary = "; ".join(changes)
        _record(project, user, TaxonomyChange.Action.NODE_UPDATE, summary[0].upper() + summary[1:], rec)
    return node


def node_move(*, node: Node, user, parent=None) -> Node:
    """Move a category (with its whole subtree) under `parent`, or to the top level when None."""
    project = node.project
    editor_require(project=project, user=user)
    with transaction.atomic():
        _lock(project)
        node = selectors.node_get(project, node.pk)
        target = _node_in(project, parent, field="parent")
        target_id = target.id if target else None
        if target_id == node.parent_id:
            return node
        if target is not None:
            if target.id == node.id:
                raise InvalidInput(f'Cannot move "{node.name}" under itself.', field="parent")
            if target.id in _descendant_ids(project, node.id):
                raise InvalidInput(
                    f'Cannot move "{node.name}" under "{target.name}": "{target.name}" is inside it.', field="parent"
                )
        clash = _sibling_clash(project, target_id, node.name, exclude_ids=[node.id])
        if clash is not None:
            raise Conflict(f'{_where(target)} already has a category named "{clash.name}".', field="parent")
        if target is not None:
            depths = _depths(project)
            _depth_check(depths.get(target.id, 0) + _subtree_levels(project, node.id, depths), field="parent")
        rec = _Recorder()
        rec.node(node)
        old_parent = node.parent
        node.parent = target
        _save(node, what=f'"{node.name}"', field="parent")
        _record(
            project,
            user,
            TaxonomyChange.Action.NODE_MOVE,
            f'Moved "{node.name}" from {_where(old_parent)} to {_where(target)}',
            rec,
        )
    return node


def _depths(project: Project) -> dict[int, int]:
    """Depth (1 = top level) of each of the project's categories."""
    return selectors.node_depths(Node.objects.filter(project=project).values_list("id", "parent_id"))


def _depth_check(depth: int, *, field: str) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"Categories nest at most {MAX_DEPTH} levels deep; this would make {depth}.", field=field)


def _subtree_levels(project: Project, node_id: int, depths: dict[int, int]) -> int:
    """Levels of the subtree under `node_id`, the node itself included (1: no sub-categories)."""
    below = [depths.get(i, 0) for i in _descendant_ids(project, node_id)]
    return max(below, default=depths.get(node_id, 0)) - depths.get(node_id, 0) + 1


def _descendant_ids(project: Project, node_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for nid, pid in Node.objects.filter(project=project).values_list("id", "parent_id"):
        children.setdefault(pid, []).append(nid)
    out, stack = set(), list(children.get(node_id, []))
    while stack:
        nid = stack.pop()
        if nid not in out:
            out.add(nid)
            stack.extend(children.get(nid, []))
    return out


def _earlier_round(a: Round | None, b: Round | None) -> Round | None:
    if a is None or b is None:
        return a or b
    return a if a.number <= b.number else b


def _leaf_merge(source: Leaf, keep: Leaf, rec: _Recorder) -> None:
    """Move every instance of `source` onto `keep` (same label) and delete `source`."""
    rec.leaf(source)
    rec.leaf(keep)
    for model, field_name in leaf_references():
        rec.repoint(model, field_name, model.objects.filter(**{field_name: source}), keep.id)
    keep.round_created = _earlier_round(keep.round_created, source.round_created)
    keep.save(update_fields=["round_created"])
    keep.comparison_classes.add(*source.comparison_classes.all())
    source.delete()


def _node_merge(source: Node, target: Node, rec: _Recorder) -> None:
    rec.node(source)
    rec.node(target)
    target_leaves = {leaf.label_id: leaf for leaf in target.leaves.select_related("round_created")}
    for leaf in source.leaves.select_related("round_created"):
        if leaf.label_id in target_leaves:
            _leaf_merge(leaf, target_leaves[leaf.label_id], rec)
        else:
            rec.leaf(leaf)
            leaf.node = target
            leaf.save(update_fields=["node"])
    for child in source.children.select_related("round_created"):
        same = _sibling_clash(source.project, target.id, child.name, exclude_ids=[source.id, child.id])
        if same is not None:
            _node_merge(child, same, rec)
        else:
            rec.node(child)
            child.parent = target
            child.save(update_fields=["parent"])
    target.round_created = _earlier_round(target.round_created, source.round_created)
    if not target.description and source.description:
        target.description = source.description
    if not target.code and source.code:
        code = source.code
        source.code = ""
        source.save(update_fields=["code"])
        target.code = code
    target.save(update_fields=["round_created", "description", "code"])
    target.comparison_classes.add(*source.comparison_classes.all())
    source.delete()


def node_merge(*, source: Node, target: Node, user) -> Node:
    """Merge `source` into `target`: its leaves and sub-categories move over (same-label leaves and
    same-named sub-categories merge too), so the instances add up; `source` disappears."""
    project = source.project
    editor_require(project=project, user=user)
    with transaction.atomic():
        _lock(project)
        source = selectors.node_get(project, source.pk, field_name="source")
        target = selectors.node_get(project, target.pk if isinstance(target, Node) else target, field_name="target")
        if source.id == target.id:
            raise InvalidInput(f'Cannot merge "{source.name}" into itself.', field="target")
        if target.id in _descendant_ids(project, source.id):
            raise InvalidInput(
                f'Cannot merge "{source.name}" into "{target.name}": "{target.name}" is inside it.', field="target"
            )
        depths = _depths(project)  # the source's sub-categories move under the target
        _depth_check(depths.get(target.id, 0) + _subtree_levels(project, source.id, depths) - 1, field="target")
        rec = _Recorder()
        summary = f'Merged "{source.name}" into "{target.name}"'
        _node_merge(source, target, rec)
        _record(project, user, TaxonomyChange.Action.NODE_MERGE, summary, rec)
        target.refresh_from_db()
    return target


def _instances(project: Project, *, node_id: int, leaf_ids: list[int]) -> tuple[int, int]:
    """(artefacts, interview instances) of a node's subtree, whose leaves are `leaf_ids`."""
    artefacts = selectors.artefact_counts(project).nodes.get(node_id, 0)
    interviews = selectors.interview_counts_by_leaf(project)
    return artefacts, sum(interviews.get(i, 0) for i in leaf_ids)


def node_delete(*, node: Node, user) -> None:
    """Delete an empty category: no sub-categories and no instances (its instance-less leaves go with it)."""
    project = node.project
    editor_require(project=project, user=user)
    with transaction.atomic():
        _lock(project)
        node = selectors.node_get(project, node.pk)
        children = list(node.children.values_list("name", flat=True)[:3])
        if children:
            raise Conflict(
                f'"{node.name}" still has sub-categories ({", ".join(children)}…); move, merge or delete them first.',
                field="node",
            )
        leaves = list(node.leaves.all())
        artefacts, interviews = _instances(project, leaf_ids=[leaf.id for leaf in leaves], node_id=node.id)
        pinned = sum(
            model.objects.filter(**{f"{field_name}__in": leaves}).count() for model, field_name in leaf_references()
        )
        if artefacts or interviews:
            raise Conflict(
                f'"{node.name}" still has instances ({artefacts} artefacts + {interviews} from interviews); '
                "move or merge them first.",
                field="node",
            )
        if pinned:
            raise Conflict(
                f'"{node.name}" has leaves that {pinned} decisions or interview tags point to; '
                "move or detach those leaves first.",
                field="node",
            )
        rec = _Recorder()
        rec.node(node)
        for leaf in leaves:
            rec.leaf(leaf)
            leaf.delete()
        name = node.name
        node.delete()
        _record(project, user, TaxonomyChange.Action.NODE_DELETE, f'Deleted "{name}"', rec)


# --- leaves ---------------------------------------------------------------------------------


def _labels_resolve(project: Project, labels, *, user) -> list[Label]:
    """Labels given as Label objects, ids, or names (`name:` prefix optional); names are created on first use."""
    if not labels:
        raise InvalidInput("Choose at least one label.", field="labels")
    out: list[Label] = []
    for value in labels:
        if isinstance(value, Label):
            if value.project_id != project.id:
                raise InvalidInput(f'Label "{value.name}" belongs to another project.', field="labels")
            label = value
        elif isinstance(value, int) or (isinstance(value, str) and value.strip().isdecimal()):
            label = Label.objects.filter(project=project, id=int(value)).first()
            if label is None:
                raise NotFound(f"No label {value} in this project.", field="labels")
        elif isinstance(value, str):
            text = value[5:] if value.startswith("name:") else value
            label = label_get_or_create(project=project, name=text, user=user, field="labels")
        else:
            raise InvalidInput(f"Not a label: {value!r}.", field="labels")
        if label.id not in {x.id for x in out}:
            out.append(label)
    return out


def leaf_attach(*, project: Project, user, node, labels, round=_UNSET) -> list[Leaf]:
    """Place labels as leaves under `node`. Each leaf's round is `round` when given, else the first
    round in which an artefact was decided with that label, else the current round. Relevant
    artefacts carrying the label and no leaf yet are pinned to the new leaf."""
    editor_require(project=project, user=user)
    with transaction.atomic():
        _lock(project)
        target = _node_in(project, node, field="node")
        if target is None:
            raise InvalidInput("Choose the category to attach the labels to.", field="node")
        chosen = _labels_resolve(project, labels, user=user)
        existing = set(Leaf.objects.filter(node=target, label__in=chosen).values_list("label__name", flat=True))
        if existing:
            raise Conflict(
                f'"{target.name}" already has the leaf {", ".join(sorted(existing))}.',
                field="labels",
            )
        explicit = None if round is _UNSET else _round_resolve(project, round)
        first_rounds = dict(
            RoundItem.objects.filter(round__project=project, taxonomy_label__in=chosen)
            .values("taxonomy_label_id")
            .annotate(first=Min("round__number"))
            .order_by()
            .values_list("taxonomy_label_id", "first")
        )
        rounds_by_number = {r.number: r for r in Round.objects.filter(project=project)}
        fallback = selectors.round_current(project)
        already_leaves = set(Leaf.objects.filter(label__in=chosen).values_list("label_id", flat=True))
        rec = _Recorder()
        created = []
        for label in chosen:
            leaf_round = explicit or rounds_by_number.get(first_rounds.get(label.id)) or fallback
            leaf = Leaf(node=target, label=label, round_created=leaf_round)
            _save(leaf, what=f'Leaf "{label.name}"', field="labels")
            rec.created_leaves.append(leaf.id)
            if label.id not in already_leaves:
                rec.repoint(
                    RoundItem,
                    "leaf",
                    RoundItem.objects.filter(round__project=project, taxonomy_label=label, leaf__isnull=True),
                    leaf.id,
                )
            created.append(leaf)
        names = ", ".join(f'"{label.name}"' for label in chosen[:5]) + ("…" if len(chosen) > 5 else "")
        _record(project, user, TaxonomyChange.Action.LEAF_ATTACH, f'Attached {names} to "{target.name}"', rec)
    return created


def leaf_move(*, leaf: Leaf, user, node) -> Leaf:
    """Move a leaf (with its instances) under another category."""
    project = leaf.node.project
    editor_require(project=project, user=user)
    with transaction.atomic():
        _lock(project)
        leaf = selectors.leaf_get(project, leaf.pk)
        target = _node_in(project, node, field="node")
        if target is None:
            raise InvalidInput("A leaf must sit under a category.", field="node")
        if target.id == leaf.node_id:
            return leaf
        if Leaf.objects.filter(node=target, label_id=leaf.label_id).exists():
            raise Conflict(f'"{target.name}" already has the leaf "{leaf.label.name}".', field="node")
        rec = _Recorder()
        rec.leaf(leaf)
        old = leaf.node
        leaf.node = target
        _save(leaf, what=f'Leaf "{leaf.label.name}"', field="node")
        _record(
            project,
            user,
            TaxonomyChange.Action.LEAF_MOVE,
            f'Moved leaf "{leaf.label.name}" from "{old.name}" to "{target.name}"',
            rec,
        )
    return leaf


def leaf_detach(*, leaf: Leaf, user) -> None:
    """Take a leaf out of the tree: its label becomes unmapped again (instances keep their label)."""
    project = leaf.node.project
    editor_require(project=project, user=user)
    with transaction.atomic():
        _lock(project)
        leaf = selectors.leaf_get(project, leaf.pk)
        rec = _Recorder()
        rec.leaf(leaf)
        for model, field_name in leaf_references():
            if not model._meta.get_field(field_name).null:
                if model.objects.filter(**{field_name: leaf}).exists():
                    raise Conflict(f'Leaf "{leaf.label.name}" has instances that need it.', field="leaf")
                continue
            rec.repoint(model, field_name, model.objects.filter(**{field_name: leaf}), None)
        name, node_name = leaf.label.name, leaf.node.name
        leaf.delete()
        _record(project, user, TaxonomyChange.Action.LEAF_DETACH, f'Detached "{name}" from "{node_name}"', rec)


# --- undo ----------------------------------------------------------------------------------


def _restore_deleted_nodes(project: Project, nodes: dict[int, dict]) -> None:
    """Nodes that the change deleted come back, parents first, with their ids."""
    existing_nodes = set(Node.objects.filter(project=project).values_list("id", flat=True))
    missing = {i: s for i, s in nodes.items() if i not in existing_nodes}
    while missing:
        ready = [i for i, s in missing.items() if s["parent_id"] is None or s["parent_id"] not in missing]
        if not ready:
            raise Conflict("Cannot undo: the saved categories form a cycle.")
        for node_id in sorted(ready):
            state = missing.pop(node_id)
            if state["parent_id"] is not None and state["parent_id"] not in existing_nodes:
                raise Conflict(f'Cannot undo: the parent of "{state["name"]}" is gone.')
            node = Node(id=node_id, project=project, **{f: state[f] for f in NODE_FIELDS})
            _save(node, what=f'"{state["name"]}"', force_insert=True)
            existing_nodes.add(node_id)


def _restore_refs(refs) -> None:
    """Instances point where they pointed (grouped: one update per model, field and old value)."""
    groups: dict[tuple[str, str, int | None], list[int]] = {}
    for model_label, field_name, pk, old in refs:
        groups.setdefault((model_label, field_name, old), []).append(pk)
    for (model_label, field_name, old), pks in groups.items():
        model = apps.get_model(model_label)
        attname = model._meta.get_field(field_name).attname
        model.objects.filter(pk__in=pks).update(**{attname: old})


def _remove_created(snap: dict) -> None:
    """Whatever the change created goes (leaves, then nodes deepest first)."""
    Leaf.objects.filter(id__in=snap.get("created_leaves", [])).delete()
    created = set(snap.get("created_nodes", []))
    while created:
        parents = set(Node.objects.filter(parent_id__in=created).values_list("parent_id", flat=True))
        childless = created - parents
        if not childless:
            raise Conflict("Cannot undo: categories created by this change now hold others.")
        if Leaf.objects.filter(node_id__in=childless).exists():
            raise Conflict("Cannot undo: categories created by this change now hold leaves.")
        Node.objects.filter(id__in=childless).delete()
        created -= childless


def _restore(project: Project, snap: dict) -> None:
    nodes = {int(k): v for k, v in snap.get("nodes", {}).items()}
    leaves = {int(k): v for k, v in snap.get("leaves", {}).items()}
    _restore_deleted_nodes(project, nodes)
    # Nodes the change edited get their fields back.
    for node_id, state in nodes.items():
        Node.objects.filter(id=node_id).update(**{f: state[f] for f in NODE_FIELDS})
    # Leaves likewise.
    existing_leaves = set(Leaf.objects.filter(id__in=leaves).values_list("id", flat=True))
    for leaf_id, state in leaves.items():
        fields = {f: state[f] for f in LEAF_FIELDS}
        if leaf_id in existing_leaves:
            Leaf.objects.filter(id=leaf_id).update(**fields)
        else:
            _save(Leaf(id=leaf_id, **fields), what="A leaf", force_insert=True)
    _restore_refs(snap.get("refs", []))
    _remove_created(snap)
    # Timestamps and comparison mappings of restored objects.
    for node_id, state in nodes.items():
        if state.get("created_at"):
            Node.objects.filter(id=node_id).update(created_at=parse_datetime(state["created_at"]))
        _restore_classes(ComparisonClass.nodes.through, "node_id", node_id, state.get("classes"))
    for leaf_id, state in leaves.items():
        if state.get("created_at"):
            Leaf.objects.filter(id=leaf_id).update(created_at=parse_datetime(state["created_at"]))
        _restore_classes(ComparisonClass.leaves.through, "leaf_id", leaf_id, state.get("classes"))


def _restore_classes(through, column: str, object_id: int, class_ids) -> None:
    if class_ids is None:
        return
    through.objects.filter(**{column: object_id}).delete()
    alive = ComparisonClass.objects.filter(id__in=class_ids).values_list("id", flat=True)
    through.objects.bulk_create([through(comparisonclass_id=c, **{column: object_id}) for c in alive])


def change_undo(*, project: Project, user) -> TaxonomyChange:
    """Undo the latest change not undone yet, restoring what it touched from its snapshot."""
    editor_require(project=project, user=user)
    with transaction.atomic():
        _lock(project)
        change = selectors.change_last_undoable(project)
        if change is None:
            raise Conflict("There is nothing to undo.", field="change")
        try:
            with transaction.atomic():
                _restore(project, change.snapshot)
        except IntegrityError as exc:
            raise Conflict(f"Cannot undo “{change.summary}”: the taxonomy has changed since ({exc}).") from None
        change.undone_at = timezone.now()
        change.undone_by = user if getattr(user, "is_authenticated", False) else None
        change.save(update_fields=["undone_at", "undone_by"])
    return change


# --- rounds from evidence ---------------------------------------------------------------------


def taxonomy_rounds_from_evidence(*, project: Project, user) -> int:
    """Set each node's and leaf's round to the first round in which a relevant artefact falls in it
    (categories without artefacts keep theirs). Returns how many changed."""
    editor_require(project=project, user=user)
    with transaction.atomic():
        _lock(project)
        counts = selectors.artefact_counts(project)
        rounds = {r.number: r.id for r in Round.objects.filter(project=project)}
        rec = _Recorder()
        changed = 0
        for node in Node.objects.filter(project=project, id__in=counts.node_first_round):
            target = rounds.get(counts.node_first_round[node.id])
            if target and target != node.round_created_id:
                rec.node(node)
                node.round_created_id = target
                node.save(update_fields=["round_created"])
                changed += 1
        for leaf in Leaf.objects.filter(node__project=project, id__in=counts.leaf_first_round):
            target = rounds.get(counts.leaf_first_round[leaf.id])
            if target and target != leaf.round_created_id:
                rec.leaf(leaf)
                leaf.round_created_id = target
                leaf.save(update_fields=["round_created"])
                changed += 1
        if changed:
            _record(
                project,
                user,
                TaxonomyChange.Action.ROUNDS,
                f"Set the round of {changed} categories to their first round with an artefact",
                rec,
            )
    return changed


# --- import of the JSON export ---------------------------------------------------------------


def _entry_is_leaf(entry: dict, depth: int) -> bool:
    kind = entry.get("kind")
    if kind in ("leaf", "node"):
        return kind == "leaf"
    # Files without `kind`: a childless, codeless entry below the top level is a label.
    return depth > 1 and not entry.get("children") and not str(entry.get("code") or "").strip()


class _JsonImport:
    """One `taxonomy_import_json` run: walks the document's entries, creating what is missing."""

    def __init__(self, *, project: Project, user, report: dict):
        self.project, self.user, self.report = project, user, report
        self.rounds = {r.number: r for r in Round.objects.filter(project=project)}
        self.fallback = selectors.round_current(project)
        self.depths = _depths(project)
        self.rec = _Recorder()

    def entry_round(self, entry: dict, path: str):
        value = entry.get("round")
        if value in (None, ""):
            return None
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise InvalidInput(f"Round must be a number, not {value!r}.", field=f"{path}.round") from None
        if number not in self.rounds:
            self.report["warnings"].append(f"{path}: this project has no round {number}; round left open.")
            return None
        return self.rounds[number]

    def visit(self, entries, parent: Node | None, path: str, depth: int) -> None:
        if not isinstance(entries, list):
            raise InvalidInput("Expected a list.", field=path)
        for index, entry in enumerate(entries):
            here = f"{path}[{index}]"
            if not isinstance(entry, dict):
                raise InvalidInput("Expected an object with a name.", field=here)
            name = name_validate(entry.get("name"), field=f"{here}.name")
            children = entry.get("children") or []
            if _entry_is_leaf(entry, depth):
                self.leaf(entry, parent, name, children, here)
                continue
            node = self.node(entry, parent, name, here)
            self.visit(children, node, f"{here}.children", depth + 1)

    def leaf(self, entry: dict, parent: Node | None, name: str, children, here: str) -> None:
        project = self.project
        if parent is None:
            raise InvalidInput("A leaf cannot be at the top level.", field=here)
        if children:
            raise InvalidInput("A leaf cannot have children.", field=f"{here}.children")
        label = label_get_or_create(project=project, name=name, user=self.user, field=f"{here}.name")
        if Leaf.objects.filter(node=parent, label=label).exists():
            self.report["leaves_existing"] += 1
            return
        first = (
            RoundItem.objects.filter(round__project=project, taxonomy_label=label)
            .aggregate(n=Min("round__number"))
            .get("n")
        )
        leaf = Leaf(
            node=parent,
            label=label,
            round_created=self.entry_round(entry, here) or self.rounds.get(first) or self.fallback,
        )
        _save(leaf, what=f'Leaf "{name}"', field=here)
        self.rec.created_leaves.append(leaf.id)
        if not Leaf.objects.filter(label=label).exclude(id=leaf.id).exists():
            self.rec.repoint(
                RoundItem,
                "leaf",
                RoundItem.objects.filter(round__project=project, taxonomy_label=label, leaf__isnull=True),
                leaf.id,
            )
        self.report["leaves_created"] += 1

    def node(self, entry: dict, parent: Node | None, name: str, here: str) -> Node:
        """The category of the entry: an existing one (by code, else by name under the parent) or a new one."""
        project = self.project
        code = str(entry.get("code") or "").strip()
        if "\x00" in code:  # PostgreSQL cannot even compare text holding it
            raise InvalidInput("A code cannot hold a NUL character.", field=f"{here}.code")
        node = Node.objects.filter(project=project, code=code).first() if code else None
        if node is None:
            node = _sibling_clash(project, parent.id if parent else None, name)
        if node is not None:
            self.report["nodes_existing"] += 1
            return node
        if len(code) > MAX_CODE:
            raise InvalidInput(f"A code has at most {MAX_CODE} characters.", field=f"{here}.code")
        description = entry.get("description") or ""
        if not isinstance(description, str) or "\x00" in description:
            raise InvalidInput("A description must be text.", field=f"{here}.description")
        node = Node(
            project=project,
            parent=parent,
            name=name,
            code=code,
            description=description,
            round_created=self.entry_round(entry, here) or self.fallback,
            created_by=self.user if getattr(self.user, "is_authenticated", False) else None,
        )
        depth = self.depths.get(parent.id, 0) + 1 if parent else 1
        _depth_check(depth, field=here)
        _save(node, what=f'"{name}"', field=here)
        self.depths[node.id] = depth
        self.rec.created_nodes.append(node.id)
        self.report["nodes_created"] += 1
        return node


def taxonomy_import_json(*, project: Project, user, data) -> dict:
    """Create the categories and leaves of an `export_taxonomy --format json` document.

    Existing categories are matched by code, else by name under the same parent, and left as they
    are; importing the same file again changes nothing. Counts in the file are ignored (they are
    computed). Invalid input names the entry (e.g. ``nodes[2].children[0].name``) and writes nothing."""
    editor_require(project=project, user=user)
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise InvalidInput('Expected a JSON object with a "nodes" list.', field="nodes")
    report = {"nodes_created": 0, "nodes_existing": 0, "leaves_created": 0, "leaves_existing": 0, "warnings": []}
    with transaction.atomic():
        _lock(project)
        run = _JsonImport(project=project, user=user, report=report)
        run.visit(data["nodes"], None, "nodes", 1)
        if run.rec.created_nodes or run.rec.created_leaves:
            _record(
                project,
                user,
                TaxonomyChange.Action.IMPORT,
                f"Imported {report['nodes_created']} categories and {report['leaves_created']} leaves",
                run.rec,
            )
    return report


def taxonomy_import_outline(*, project: Project, user, data: bytes, filename: str = "") -> dict:
    """Create or name the coded categories of an outline CSV (`code,name`) with the round-import
    code (`taxonomy.outline`), recorded as one undoable change. Rows it cannot read are listed."""

    editor_require(project=project, user=user)
    rows, problems = outline.outline_read(data, filename)
    with transaction.atomic():
        _lock(project)
        before = {n.id: n for n in Node.objects.filter(project=project)}
        rec = _Recorder()
        for node in before.values():
            rec.node(node)
        report = outline.outline_import(project=project, rows=rows, user=user)
        after = {n.id: n for n in Node.objects.filter(project=project)}
        rec.nodes = {
            i: state
            for i, state in rec.nodes.items()
            if i in after and any(getattr(after[i], f) != state[f] for f in NODE_FIELDS)
        }
        rec.created_nodes = sorted(set(after) - set(before))
        if rec.nodes or rec.created_nodes:
            _record(
                project,
                user,
                TaxonomyChange.Action.IMPORT,
                f"Imported the outline {filename or ''}: {len(rec.created_nodes)} categories created, "
                f"{len(rec.nodes)} renamed or moved".replace("  ", " "),
                rec,
            )
    return {"format": "outline", **report, "skipped": problems}


def _codebook_entry(code: Code, depth: int) -> dict:
    """A REFI-QDA code as an entry of the JSON export: with sub-codes (or at the top) a category, else a leaf."""
    is_node = bool(code.children) or depth == 1
    return {
        "name": code.name,
        "description": code.description,
        "kind": "node" if is_node else "leaf",
        "children": [_codebook_entry(child, depth + 1) for child in code.children],
    }


def _codebook_document(data: bytes) -> dict:
    """The JSON-export document of a REFI-QDA codebook (.qdc), or of the codebook inside a project (.qde/.qdpx)."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                data = archive.read("project.qde")
        except (zipfile.BadZipFile, KeyError) as exc:
            raise InvalidInput("Not a REFI-QDA project: the zip has no project.qde.", field="file") from exc
    try:
        codes = read_codebook(data)
    except FormatError as exc:
        raise InvalidInput(str(exc), field="file") from exc
    if not codes:
        raise InvalidInput("The codebook has no codes.", field="file")
    return {"nodes": [_codebook_entry(code, 1) for code in codes]}


def taxonomy_import_file(*, project: Project, user, data: bytes, filename: str = "") -> dict:
    """Import a file: a REFI-QDA codebook (.qdc, or a .qdpx/.qde project's), the JSON export (by extension
    .json or a leading "{"), else an outline CSV."""
    check_upload(data, kind="taxonomy", name=filename)
    audit_record(action="import.taxonomy", project=project, target=filename, actor=user, details={"bytes": len(data)})
    text_start = data.lstrip()[:1]
    if filename.lower().endswith((".qdc", ".qde", ".qdpx", ".xml")) or text_start == b"<" or data[:4] == b"PK\x03\x04":
        return {"format": "qdc", **taxonomy_import_json(project=project, user=user, data=_codebook_document(data))}
    if filename.lower().endswith(".json") or text_start in (b"{", b"["):
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"Not a JSON document: {exc}.", field="file") from None
        except RecursionError:
            raise InvalidInput("Not a JSON document: nested too deeply.", field="file") from None
        return {"format": "json", **taxonomy_import_json(project=project, user=user, data=document)}
    return taxonomy_import_outline(project=project, user=user, data=data, filename=filename)


def taxonomy_import_start(*, project: Project, user, filename: str, data: bytes) -> Job:
    """Store an uploaded taxonomy file and import it in a Celery job (`taxonomy_import_job_run`), never in
    the request.

    Checked here, before anything is stored: an editor's role (lead or moderator, who then follows the job)
    and the file's size, a .qdpx's unpacked size and entries, a CSV's columns and cells. The job reads the
    file and imports it (`taxonomy_import_file`: one transaction, nothing written on an error, which names
    the file); its report is the import's."""
    return job_upload_start(
        project=project,
        user=user,
        roles=EDITOR_ROLES,
        kind=Job.Kind.IMPORT_TAXONOMY,
        filename=filename,
        data=data,
        upload_kind="taxonomy",
        task=tasks.import_taxonomy_task,
    )


def _taxonomy_import_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    with job_reading(job, progress, "Reading the taxonomy") as (data, user):
        report = taxonomy_import_file(project=job.project, user=user, data=data, filename=job.input_name)
    return report, None


def taxonomy_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_taxonomy_import_work, progress=progress)


def import_summary(report: dict) -> str:
    if report.get("format") == "json":
        text = (
            f"Imported {report['nodes_created']} categories and {report['leaves_created']} leaves "
            f"({report['nodes_existing']} categories and {report['leaves_existing']} leaves were there already)."
        )
        warnings = report.get("warnings") or []
    else:
        text = (
            f"Outline imported: {report.get('nodes_created', 0)} categories created, "
            f"{len(report.get('renamed', []))} renamed, {len(report.get('kept_names', []))} kept their names."
        )
        warnings = [f"row {p['row']}: {p['reason']}" for p in report.get("skipped", [])]
    if warnings:
        text += f" Skipped: {'; '.join(warnings[:10])}{'…' if len(warnings) > 10 else ''}"
    return text


# --- comparisons ----------------------------------------------------------------------------


def comparison_create(*, project: Project, user, name: str, kind: str = Comparison.Kind.TAXONOMY, description=""):
    editor_require(project=project, user=user)
    name = name_validate(name)
    if kind not in Comparison.Kind.values:
        raise InvalidInput(f"Unknown kind {kind!r}; choose {' or '.join(Comparison.Kind.values)}.", field="kind")
    with transaction.atomic():
        if Comparison.objects.filter(project=project, name=name).exists():
            raise Conflict(f'A comparison named "{name}" exists already.', field="name")
        comparison = Comparison(
            project=project,
            name=name,
            kind=kind,
            description=description or "",
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        _save(comparison, what=f'"{name}"')
    return comparison


def comparison_update(*, comparison: Comparison, user, name=None, kind=None, description=None) -> Comparison:
    editor_require(project=comparison.project, user=user)
    if name is not None:
        name = name_validate(name)
        if Comparison.objects.filter(project=comparison.project, name=name).exclude(id=comparison.id).exists():
            raise Conflict(f'A comparison named "{name}" exists already.', field="name")
        comparison.name = name
    if kind is not None:
        if kind not in Comparison.Kind.values:
            raise InvalidInput(f"Unknown kind {kind!r}.", field="kind")
        comparison.kind = kind
    if description is not None:
        comparison.description = description
    _save(comparison, what=f'"{comparison.name}"')
    return comparison


def comparison_delete(*, comparison: Comparison, user) -> None:
    editor_require(project=comparison.project, user=user)
    comparison.delete()


def comparison_classes_add(*, comparison: Comparison, user, names, description: str = "") -> list[ComparisonClass]:
    """Add classes (or operators) by name; a text with one name per line adds many. Existing names are skipped."""
    editor_require(project=comparison.project, user=user)
    if isinstance(names, str):
        names = names.splitlines()
    wanted = []
    for index, raw in enumerate(names):
        if not str(raw).strip():
            continue
        wanted.append(name_validate(str(raw), field=f"names[{index}]", max_length=300))
    if not wanted:
        raise InvalidInput("Give at least one name.", field="names")
    with transaction.atomic():
        taken = set(comparison.classes.values_list("name", flat=True))
        start = comparison.classes.count()
        created = []
        for name in wanted:
            if name in taken:
                continue
            taken.add(name)
            cls = ComparisonClass(
                comparison=comparison,
                name=name,
                description=description if len(wanted) == 1 else "",
                position=start + len(created),
            )
            _save(cls, what=f'"{name}"')
            created.append(cls)
    return created


def comparison_class_update(
    *, cls: ComparisonClass, user, name=None, description=None, node_ids=None, leaf_ids=None
) -> ComparisonClass:
    """Rename or describe a class and set the nodes and leaves it maps onto (empty: unmapped)."""
    comparison = cls.comparison
    project = comparison.project
    editor_require(project=project, user=user)
    with transaction.atomic():
        if name is not None:
            name = name_validate(name, max_length=300)
            if comparison.classes.filter(name=name).exclude(id=cls.id).exists():
                raise Conflict(f'"{comparison.name}" already has a class named "{name}".', field="name")
            cls.name = name
        if description is not None:
            cls.description = description
        _save(cls, what=f'"{cls.name}"')
        if node_ids is not None:
            ids = _ids(node_ids, "node_ids")
            found = list(Node.objects.filter(project=project, id__in=ids))
            if len(found) != len(set(ids)):
                raise NotFound(
                    f"No categories {sorted(set(ids) - {n.id for n in found})} in this project.", field="node_ids"
                )
            cls.nodes.set(found)
        if leaf_ids is not None:
            ids = _ids(leaf_ids, "leaf_ids")
            found = list(Leaf.objects.filter(node__project=project, id__in=ids))
            if len(found) != len(set(ids)):
                raise NotFound(
                    f"No leaves {sorted(set(ids) - {x.id for x in found})} in this project.", field="leaf_ids"
                )
            cls.leaves.set(found)
    return cls


def _ids(values, field: str) -> list[int]:
    try:
        ids = [int(v) for v in values if str(v).strip()]
    except (TypeError, ValueError):
        raise InvalidInput("Expected a list of ids.", field=field) from None
    out_of_range = [i for i in ids if not 0 < i < 2**63]  # beyond SQLite's integers: no such row
    if out_of_range:
        raise NotFound(f"No such ids in this project: {out_of_range[:20]}.", field=field)
    return ids


def comparison_class_delete(*, cls: ComparisonClass, user) -> None:
    editor_require(project=cls.comparison.project, user=user)
    cls.delete()
