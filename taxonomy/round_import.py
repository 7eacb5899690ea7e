"""Importing a labelled round kept in the reference study's spreadsheet layout.

The layout (see the replication README): the FIRST sheet has one row per analysed
artefact — EntityType, Link, NumberOfEvaluators, Conflict, Evaluator1..n with
Tag1..n, Final Tag, Taxonomy Tag; an optional SECOND sheet lists the relevant
artefacts by Link with a taxonomy category code; any further sheet (the study's
own statistics) is never a source: every figure is computed from the rows. A CSV
(or JSON/JSON Lines) with the first sheet's columns is accepted too, and may carry
the category code in a column of its own. Headers are matched loosely (headers.py),
cells read as described in values.py.

What each row becomes:

- an Artefact (by canonical link; EntityType gives kind and framework, `/pull/`
  in an issue's link makes it a pull request);
- a RoundItem of round N (source "import", closed);
- per named evaluator an Assignment at their column's position (order = N of
  EvaluatorN) and, when their tag is given, an Annotation (label or verdict,
  the verdict's qualifier as note, `a -> b` kept as history). Evaluator IDs become
  inactive members without a password (`<project>-e1`, external_id "E1"), so
  their agreement can be analysed later; an ID that is the username of a member
  (a round exported from Concord) is that member. The core's limits (label length,
  evaluators per artefact, balanced pairs) apply to work done in Concord only and
  are not enforced here; imports write assignments and annotations directly.
- **disagreement** (had_disagreement): the tags of Evaluator1 and Evaluator2
  (current values) differ. When no row has both, the file never recorded
  disagreements and Table 1 shows null for the round.
- **conflict** (is_conflict): the Conflict column when present (it records which
  artefacts reached the moderators); without it, derived as the core does: no
  majority among all the evaluators' tags.
- final decision: the Final Tag (label or verdict); if missing, the majority tag.
  Status: resolved (conflict with a final tag), agreed (all tags equal the final
  one), majority (otherwise); conflict or labelling when no final tag is known.
- **relevant**: the current Taxonomy Tag is a real label (not none, not a
  verdict). Its leaf is that label placed under the inner node of the row's
  category code (sheet 1's own column, else sheet 2 by link), created by code
  (taxonomy.outline) when missing; the same label may be a leaf under several
  nodes. A relevant row without a code stays relevant, without a leaf (warned).

Re-importing the same file into the same round changes nothing. Importing a
different file into an imported round makes the round what the file says: rows
gone from the file are removed from the round. A round labelled in Concord is
never overwritten.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from collection.formats.rounds import ratings_round_sheet
from collection.importers.headers import match_round_headers, round_header_score
from collection.importers.reading import Row, Sheet, Table, cell_text, is_blank, read_table
from collection.importers.values import canonical_url, parse_entity_type, split_history
from collection.models import Artefact
from collection.services import artefacts_import_file, exchange_read
from core.errors import DomainError, InvalidInput, error_naming_file
from core.jobs import job_execute, job_input, job_reading, job_upload_start, job_user
from core.models import Job, Membership, Project
from core.progress import Problems, Progress, Throttled
from core.selectors import membership_require
from core.text import normalise_label
from core.uploads import check_upload
from labelling.models import Annotation, Assignment, Round, RoundImport, RoundItem
from labelling.services import label_name, labels_bulk
from labelling.tags import Tag, parse_code, parse_count, parse_flag, parse_tag
from taxonomy import tasks
from taxonomy.models import Leaf
from taxonomy.outline import NodeIndex, outline_import, outline_read, rounds_recompute

CONFLICT_REASON_SHEET = "Marked as a conflict in the imported spreadsheet."


@dataclass
class Slot:
    order: int
    evaluator: str
    tag: Tag


@dataclass
class ParsedRow:
    number: int
    url: str
    kind: str
    framework: str
    conflict: bool | None
    slots: list[Slot]
    final: Tag
    taxonomy: Tag | None
    code: str = ""
    code_row: tuple[str, int] | None = None
    notes: dict[int, str] = field(default_factory=dict)


# --- parsing (no database) -------------------------------------------------------------------


def _value(row, columns: dict[str, int], name: str):
    index = columns.get(name)
    if index is None or index >= len(row.values):
        return None
    return row.values[index]


def _slot_orders(columns: dict[str, int]) -> list[int]:
    orders = set()
    for name in columns:
        for prefix in ("evaluator", "tag"):
            if name.startswith(prefix) and name[len(prefix) :].isdecimal():
                orders.add(int(name[len(prefix) :]))
    return sorted(orders)


def _second_sheet(table: Table, problems: Problems) -> tuple[dict[str, tuple[int, str, Tag | None]], bool]:
    """{link: (row, code, taxonomy tag)} from the second sheet, and whether it had a taxonomy tag column."""
    if len(table.sheets) < 2:
        return {}, False
    sheet = table.sheets[1]
    columns, _, _ = match_round_headers(sheet.header)
    if "link" not in columns or not ({"category", "taxonomy_tag"} & set(columns)):
        return {}, False
    out: dict[str, tuple[int, str, Tag | None]] = {}
    for row in sheet.rows:
        url, problem = canonical_url(_value(row, columns, "link"))
        if problem:
            if not all(is_blank(v) for v in row.values):
                problems.warn(row.number, f"{problem}; row ignored", sheet=sheet.name)
            continue
        code, problem = parse_code(_value(row, columns, "category"))
        if problem:
            problems.warn(row.number, problem, sheet=sheet.name)
        tag = parse_tag(_value(row, columns, "taxonomy_tag")) if "taxonomy_tag" in columns else None
        if url in out:
            problems.warn(row.number, f"same link as row {out[url][0]}; row ignored", sheet=sheet.name)
            continue
        out[url] = (row.number, code, tag)
    return out, "taxonomy_tag" in columns


def _round_columns(table: Table, problems: Problems) -> tuple[Sheet, dict[str, int], list, list[int]]:
    """The first sheet, its matched columns, the ignored ones and the evaluator slots; header problems noted."""
    sheet: Sheet = table.first
    columns, ignored, duplicates = match_round_headers(sheet.header)
    if "link" not in columns:
        raise InvalidInput(
            f"The first sheet ({sheet.name}) has no Link column; headers found: "
            f"{', '.join(h for h in sheet.header if h) or 'none'}.",
            field="file",
        )
    for text in duplicates:
        problems.warn(sheet.header_row, f"column {text!r} repeats a field already read from another column")
    orders = _slot_orders(columns)
    for order in orders:
        if f"tag{order}" in columns and f"evaluator{order}" not in columns:
            problems.warn(sheet.header_row, f"Tag{order} has no Evaluator{order} column; its tags are not imported")
    return sheet, columns, ignored, orders


def _row_conflict(row, columns: dict[str, int], problems: Problems) -> bool | None:
    if "conflict" not in columns:
        return None
    conflict = parse_flag(_value(row, columns, "conflict"))
    if conflict is None:
        problems.warn(
            row.number,
            f"Conflict value {cell_text(_value(row, columns, 'conflict'))!r} not understood; derived from tags",
        )
    return conflict


def _row_slots(row, columns: dict[str, int], orders: list[int], problems: Problems) -> list[Slot]:
    """The row's evaluators with their tags, each evaluator once; a tag without an evaluator is not imported."""
    slots: list[Slot] = []
    named = set()
    for order in orders:
        if f"evaluator{order}" not in columns:
            continue
        evaluator, _ = split_history(cell_text(_value(row, columns, f"evaluator{order}")))
        tag = parse_tag(_value(row, columns, f"tag{order}"))
        if not evaluator:
            if not tag.is_none:
                problems.warn(row.number, f"Tag{order} {tag.raw!r} has no evaluator; not imported")
            continue
        key = evaluator.casefold()
        if key in named:
            problems.warn(row.number, f"evaluator {evaluator} appears twice; Evaluator{order} not imported")
            continue
        named.add(key)
        slots.append(Slot(order=order, evaluator=evaluator[:100], tag=tag))
    n_evaluators = parse_count(_value(row, columns, "n_evaluators"))
    if n_evaluators is not None and n_evaluators != len(slots):
        problems.warn(row.number, f"NumberOfEvaluators says {n_evaluators}, {len(slots)} evaluator(s) named")
    return slots


def _row_category(row, url: str, columns: dict[str, int], second: dict, problems: Problems) -> tuple:
    """(code, taxonomy tag) of the row, completed from the second sheet where the first has none."""
    taxonomy = parse_tag(_value(row, columns, "taxonomy_tag")) if "taxonomy_tag" in columns else None
    code, code_problem = parse_code(_value(row, columns, "category"))
    if code_problem:
        problems.warn(row.number, code_problem)
    if url in second:
        _, code2, tag2 = second[url]
        if not code:
            code = code2
        if taxonomy is None and tag2 is not None:
            taxonomy = tag2
    return code, taxonomy


def _parse_row(row, url: str, columns: dict[str, int], orders: list[int], second: dict, problems: Problems):
    if row.extra:
        problems.warn(row.number, f"{len(row.extra)} value(s) beyond the last header ignored")
    kind, framework = parse_entity_type(_value(row, columns, "entity_type"), url)
    code, taxonomy = _row_category(row, url, columns, second, problems)
    return ParsedRow(
        number=row.number,
        url=url,
        kind=kind,
        framework=framework,
        conflict=_row_conflict(row, columns, problems),
        slots=_row_slots(row, columns, orders, problems),
        final=parse_tag(_value(row, columns, "final_tag")),
        taxonomy=taxonomy,
        code=code,
    )


def parse_round(table: Table, problems: Problems) -> tuple[list[ParsedRow], dict]:
    """Rows of the first sheet as ParsedRow (bad rows skipped into `problems`), and what was recorded."""
    sheet, columns, ignored, orders = _round_columns(table, problems)
    second, second_has_taxonomy = _second_sheet(table, problems)
    for problem in table.problems:
        problems.skip(problem["row"], problem["reason"])

    rows: list[ParsedRow] = []
    seen: dict[str, int] = {}
    for row in sheet.rows:
        url, problem = canonical_url(_value(row, columns, "link"))
        if problem:
            problems.skip(row.number, problem)
            continue
        if url in seen:
            problems.skip(row.number, f"same link as row {seen[url]}")
            continue
        seen[url] = row.number
        rows.append(_parse_row(row, url, columns, orders, second, problems))
    for url, (row2, _, _) in second.items():
        if url not in seen:
            problems.warn(row2, "link not on the first sheet; ignored", sheet=table.sheets[1].name)
    recorded = {
        "disagreements": any(len([s for s in r.slots if s.order in (1, 2) and not s.tag.is_none]) == 2 for r in rows),
        "conflicts": True,
        "relevant": "taxonomy_tag" in columns or second_has_taxonomy,
    }
    meta = {
        "columns": {sheet.header[i]: name for name, i in sorted(columns.items(), key=lambda kv: kv[1])},
        "ignored_columns": ignored,
        "recorded": recorded,
        "blank_rows": sheet.blank_rows,
        "sheets": [s.name for s in table.sheets],
    }
    return rows, meta


def majority(keys: list[str]) -> str | None:
    """The core's decision over answer keys: all equal (two or more), or a strict majority of three or more."""
    if len(keys) < 2:
        return None
    counts = Counter(keys).most_common()
    if len(counts) == 1:
        return counts[0][0]
    if len(keys) >= 3 and counts[0][1] >= 2 and counts[0][1] > counts[1][1]:
        return counts[0][0]
    return None


@dataclass
class Decision:
    had_disagreement: bool
    is_conflict: bool
    conflict_reason: str
    final: Tag | None
    status: str


def decide(row: ParsedRow) -> Decision:
    key = lambda tag: tag.key(normalise_label)  # noqa: E731
    by_order = {s.order: s.tag for s in row.slots}
    first, second = by_order.get(1), by_order.get(2)
    had_disagreement = bool(first and second and not first.is_none and not second.is_none and key(first) != key(second))
    answers = [key(s.tag) for s in row.slots if not s.tag.is_none]
    winner = majority(answers)
    if row.conflict is not None:
        is_conflict = row.conflict
        reason = CONFLICT_REASON_SHEET if is_conflict else ""
    else:
        is_conflict = len(answers) >= 2 and winner is None
        reason = f"No majority after {len(answers)} evaluators." if is_conflict else ""
    final = None if row.final.is_none else row.final
    if final is None and winner is not None:
        final = next(s.tag for s in row.slots if not s.tag.is_none and key(s.tag) == winner)
    if final is None:
        status = RoundItem.Status.CONFLICT if is_conflict else RoundItem.Status.LABELLING
    elif is_conflict:
        status = RoundItem.Status.RESOLVED
    elif all(a == key(final) for a in answers) and not had_disagreement:
        status = RoundItem.Status.AGREED
    else:
        status = RoundItem.Status.MAJORITY
    return Decision(had_disagreement, is_conflict, reason, final, status)


# --- writing ---------------------------------------------------------------------------------


def _evaluators(project: Project, externals: list[str], problems: Problems) -> tuple[dict[str, int], list[str]]:
    """{external id (case-folded): user id}; missing evaluators become inactive passwordless members."""
    User = get_user_model()
    known: dict[str, int] = {}
    for ext, user_id in (
        Membership.objects.filter(project=project).exclude(external_id="").values_list("external_id", "user_id")
    ):
        known.setdefault(ext.casefold(), user_id)
    # a round exported from Concord names evaluators by username: those are the project's members
    for username, user_id in Membership.objects.filter(project=project).values_list("user__username", "user_id"):
        known.setdefault(username.casefold(), user_id)
    created = []
    for ext in externals:
        if ext.casefold() in known:
            continue
        base = f"{project.slug}-{slugify(ext) or 'evaluator'}"[:140]
        username, n = base, 1
        while User.objects.filter(username=username).exists():
            n += 1
            username = f"{base}-{n}"
        user = User(username=username)
        user.set_unusable_password()
        user.save()
        membership = Membership.objects.filter(project=project, user=user).first()
        if membership is None:
            Membership.objects.create(project=project, user=user, is_evaluator=True, is_active=False, external_id=ext)
        known[ext.casefold()] = user.id
        created.append(username)
    return known, created


def _history(tag: Tag | None, field_name: str | None = None) -> list[dict]:
    if tag is None:
        return []
    entries = []
    for value in tag.history:
        entry = {"value": value, "source": "import"}
        if field_name:
            entry = {"field": field_name, **entry}
        entries.append(entry)
    return entries


ITEM_FIELDS = (
    "status",
    "had_disagreement",
    "is_conflict",
    "conflict_reason",
    "final_label_id",
    "final_verdict",
    "taxonomy_label_id",
    "category_code",
    "leaf_id",
    "history",
    "resolution_note",
)


CHANGE_COUNTS = (
    "round_created",
    "artefacts_created",
    "artefacts_updated",
    "labels_created",
    "leaves_created",
    "items_created",
    "items_updated",
    "items_removed",
    "assignments_created",
    "assignments_removed",
    "annotations_created",
    "annotations_updated",
    "annotations_removed",
    "nodes_created",
)


def _import_round_row(*, project: Project, number: int, user, now, counts: Counter) -> Round:
    """The imported round `number`, created closed when missing; a round labelled in Concord is refused."""
    rnd = Round.objects.select_for_update().filter(project=project, number=number).first()
    if rnd is not None and rnd.source != Round.Source.IMPORT:
        raise InvalidInput(f"Round {number} was labelled in Concord; import into another round number.", field="round")
    if rnd is None:
        rnd = Round.objects.create(
            project=project,
            number=number,
            name=f"Round {number}",
            source=Round.Source.IMPORT,
            status=Round.Status.CLOSED,
            closed_at=now,
            created_by=user,
        )
        counts["round_created"] = 1
    return rnd


def _import_evaluators(*, project: Project, rnd: Round, rows: list[ParsedRow], problems: Problems):
    """{evaluator name, case-folded: user id} of the rows' evaluators (members created as needed), who
    become the round's evaluators; and the names of the members created."""
    externals, seen_externals = [], set()
    for r in rows:
        for s in r.slots:
            if s.evaluator.casefold() not in seen_externals:
                seen_externals.add(s.evaluator.casefold())
                externals.append(s.evaluator)
    evaluator_ids, evaluators_created = _evaluators(project, externals, problems)
    if evaluator_ids:
        rnd.evaluators.add(*{evaluator_ids[s.evaluator.casefold()] for r in rows for s in r.slots})
    return evaluator_ids, evaluators_created


def _artefact_merge(artefact: Artefact, r: ParsedRow) -> bool:
    """Fill an existing artefact's unknown kind and framework from the row; whether it changed."""
    touched = False
    if artefact.kind == Artefact.Kind.OTHER and r.kind != Artefact.Kind.OTHER:
        artefact.kind, touched = r.kind, True
    if not artefact.framework and r.framework:
        artefact.framework, touched = r.framework, True
    return touched


def _import_artefacts(*, project: Project, rows: list[ParsedRow], counts: Counter) -> dict[str, int]:
    """{link: artefact id}: the rows' artefacts, created or completed, a thousand links at a time."""
    artefact_ids: dict[str, int] = {}
    urls = [r.url for r in rows]
    by_url = {r.url: r for r in rows}
    for start in range(0, len(urls), 1000):
        chunk = urls[start : start + 1000]
        existing = {a.url: a for a in Artefact.objects.filter(project=project, url__in=chunk)}
        new, changed = [], []
        for url in chunk:
            artefact = existing.get(url)
            if artefact is None:
                new.append(Artefact(project=project, url=url, kind=by_url[url].kind, framework=by_url[url].framework))
                continue
            if _artefact_merge(artefact, by_url[url]):
                changed.append(artefact)
            artefact_ids[url] = artefact.id
        for artefact in Artefact.objects.bulk_create(new):
            artefact_ids[artefact.url] = artefact.id
        if changed:
            Artefact.objects.bulk_update(changed, ["kind", "framework"])
        counts["artefacts_created"] += len(new)
        counts["artefacts_updated"] += len(changed)
    return artefact_ids


def _import_labels(*, project: Project, rows: list[ParsedRow], user, problems: Problems, counts: Counter):
    """The label id of a tag (None for a verdict or no tag), every tag of the rows written as a label."""
    names = []
    cut_rows = set()
    for r in rows:
        for tag in [s.tag for s in r.slots] + [r.final, r.taxonomy]:
            if tag is not None and tag.label:
                name, cut = label_name(tag.label)
                if cut:
                    cut_rows.add(r.number)
                names.append(name)
    for row_number in sorted(cut_rows):
        problems.warn(row_number, "a tag longer than the label column was shortened; full text kept as note")
    label_ids, counts["labels_created"] = labels_bulk(project=project, names=names, user=user)

    def label_id(tag: Tag | None) -> int | None:
        if tag is None or not tag.label:
            return None
        return label_ids[normalise_label(label_name(tag.label)[0])]

    return label_id


def _project_leaves(project: Project) -> dict[tuple[int, int], int]:
    return {
        (n, lab): lid
        for lid, n, lab in Leaf.objects.filter(node__project=project).values_list("id", "node_id", "label_id")
    }


def _import_leaves(*, project: Project, rows, index: NodeIndex, label_id, problems: Problems, counts: Counter):
    """{link: leaf id} of the relevant rows: each under the node of its category code, leaves created as needed."""
    wanted: dict[str, tuple[int, int]] = {}
    for r in rows:
        taxonomy_id = label_id(r.taxonomy)
        if taxonomy_id is None:
            continue
        if not r.code:
            problems.warn(r.number, "relevant (taxonomy tag given) but no category code; no leaf placed")
            continue
        wanted[r.url] = (index.node_for_code(r.code).id, taxonomy_id)
    index.fix_parents()
    leaves = _project_leaves(project)
    missing = sorted({key for key in wanted.values() if key not in leaves})
    if missing:
        Leaf.objects.bulk_create([Leaf(node_id=n, label_id=lab) for n, lab in missing], batch_size=1000)
        leaves = _project_leaves(project)
        counts["leaves_created"] = len(missing)
    return {url: leaves[key] for url, key in wanted.items()}


def _item_desired(r: ParsedRow, d: Decision, label_id, leaf_of: dict) -> dict:
    final = d.final
    return {
        "status": d.status,
        "had_disagreement": d.had_disagreement,
        "is_conflict": d.is_conflict,
        "conflict_reason": d.conflict_reason,
        "final_label_id": label_id(final),
        "final_verdict": final.verdict if final is not None else "",
        "taxonomy_label_id": label_id(r.taxonomy),
        "category_code": r.code,
        "leaf_id": leaf_of.get(r.url),
        "history": _history(r.final, "final_tag") + _history(r.taxonomy, "taxonomy_tag"),
        "resolution_note": final.note if final is not None and final.verdict else "",
    }


def _item_update(item: RoundItem, desired: dict, status: str, now) -> bool:
    """Bring an existing item in line with the row; whether anything changed."""
    diff = [f for f in ITEM_FIELDS if getattr(item, f) != desired[f]]
    if not diff:
        return False
    for f in diff:
        setattr(item, f, desired[f])
    if "status" in diff:
        item.decided_at = (item.decided_at or now) if status in RoundItem.DECIDED else None
        item.resolved_at = (item.resolved_at or now) if status == RoundItem.Status.RESOLVED else None
    item.updated_at = now
    return True


def _import_items(*, rnd: Round, rows, decisions, artefact_ids, leaf_of, label_id, now, counts: Counter):
    """{link: round item}: the round's items created, updated or (no longer in the file) removed."""
    existing_items = {i.artefact_id: i for i in RoundItem.objects.filter(round=rnd)}
    new_items, changed_items = [], []
    item_of: dict[str, RoundItem] = {}
    for r in rows:
        d = decisions[r.url]
        desired = _item_desired(r, d, label_id, leaf_of)
        item = existing_items.pop(artefact_ids[r.url], None)
        if item is None:
            item = RoundItem(round=rnd, artefact_id=artefact_ids[r.url], **desired)
            item.decided_at = now if d.status in RoundItem.DECIDED else None
            item.resolved_at = now if d.status == RoundItem.Status.RESOLVED else None
            new_items.append(item)
        elif _item_update(item, desired, d.status, now):
            changed_items.append(item)
        item_of[r.url] = item
    RoundItem.objects.bulk_create(new_items, batch_size=1000)
    if changed_items:
        RoundItem.objects.bulk_update(
            changed_items,
            [f.removesuffix("_id") for f in ITEM_FIELDS] + ["decided_at", "resolved_at", "updated_at"],
            batch_size=500,
        )
    counts["items_created"] = len(new_items)
    counts["items_updated"] = len(changed_items)
    if existing_items:  # rows no longer in the file
        RoundItem.objects.filter(id__in=[i.id for i in existing_items.values()]).delete()
        counts["items_removed"] = len(existing_items)
    return item_of


def _import_figures(rows, decisions, meta: dict, label_id) -> dict:
    recorded = meta["recorded"]
    return {
        "analysed": len(rows),
        "disagreements": sum(d.had_disagreement for d in decisions.values()) if recorded["disagreements"] else None,
        "conflicts": sum(d.is_conflict for d in decisions.values()),
        "relevant": sum(1 for r in rows if label_id(r.taxonomy) is not None) if recorded["relevant"] else None,
    }


def _import_report(
    *,
    project,
    table,
    number,
    rows,
    figures,
    counts,
    index,
    evaluators_created,
    outline_report,
    changed,
    problems,
    meta,
    filename,
) -> dict:
    return {
        "file": filename,
        "format": table.format,
        "project": project.slug,
        "round": number,
        "rows": len(rows),
        **figures,
        "artefacts": {"created": counts["artefacts_created"], "updated": counts["artefacts_updated"]},
        "items": {
            "created": counts["items_created"],
            "updated": counts["items_updated"],
            "removed": counts["items_removed"],
        },
        "annotations": {
            "created": counts["annotations_created"],
            "updated": counts["annotations_updated"],
            "removed": counts["annotations_removed"],
            "total": counts["annotations_total"],
        },
        "evaluators_created": evaluators_created,
        "labels_created": counts["labels_created"],
        "nodes_created": index.created,
        "leaves_created": counts["leaves_created"],
        "outline": outline_report,
        "changed": changed,
        "skipped": problems.skipped,
        "warnings": problems.warnings,
        "repaired": [{"row": r, "encoding": e} for r, e in sorted(table.repairs.items())],
        **meta,
    }


def _import_record(*, rnd: Round, report: dict, meta: dict, data, filename: str, user, now, changed: bool) -> None:
    """The round's RoundImport, written only when something changed (re-importing the same file changes nothing)."""
    sha = hashlib.sha256(data).hexdigest() if data is not None else ""
    record = RoundImport.objects.filter(round=rnd).first()
    if record is None:
        RoundImport.objects.create(
            round=rnd,
            filename=filename[:300],
            sha256=sha,
            recorded=meta["recorded"],
            report=_summary(report),
            imported_by=user,
            changed_at=now,
        )
    elif changed or record.recorded != meta["recorded"]:
        record.filename, record.sha256, record.recorded = filename[:300], sha, meta["recorded"]
        record.report, record.imported_by, record.changed_at = _summary(report), user, now
        record.save()
        report["changed"] = True


def round_import(
    *,
    project: Project,
    table: Table,
    number: int,
    outline: list[tuple[int, str, str]] | None = None,
    user=None,
    progress: Progress | None = None,
    filename: str = "",
    data: bytes | None = None,
) -> dict:
    """Import `table` as round `number` of `project`; returns the report (see module docstring).

    Parse (no database: `parse_round`, `decide`), then write in one transaction, step by step:
    the round, the outline, evaluators, artefacts, labels, leaves, items, annotations, the record."""
    if not isinstance(number, int) or not 1 <= number <= 2**31 - 1:
        raise InvalidInput("The round number must be a whole number from 1 to 2147483647.", field="round")
    tick = Throttled(progress)
    problems = Problems()
    rows, meta = parse_round(table, problems)
    decisions = {r.url: decide(r) for r in rows}
    total = max(len(rows), 1)
    tick(0, total, "rows read")
    now = timezone.now()
    counts = Counter()
    with transaction.atomic():
        # The project's row serialises round numbering (as round_create does): the same round imported
        # twice at once, or imported while a lead creates one, waits here instead of an IntegrityError.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        rnd = _import_round_row(project=project, number=number, user=user, now=now, counts=counts)
        index = NodeIndex(project, user=user)
        outline_report = outline_import(project=project, rows=outline, user=user, index=index) if outline else None
        evaluator_ids, evaluators_created = _import_evaluators(project=project, rnd=rnd, rows=rows, problems=problems)
        artefact_ids = _import_artefacts(project=project, rows=rows, counts=counts)
        tick(total // 4, total, "artefacts written")
        label_id = _import_labels(project=project, rows=rows, user=user, problems=problems, counts=counts)
        leaf_of = _import_leaves(
            project=project, rows=rows, index=index, label_id=label_id, problems=problems, counts=counts
        )
        item_of = _import_items(
            rnd=rnd,
            rows=rows,
            decisions=decisions,
            artefact_ids=artefact_ids,
            leaf_of=leaf_of,
            label_id=label_id,
            now=now,
            counts=counts,
        )
        tick(total // 2, total, "decisions written")
        _write_annotations(rnd, rows, item_of, evaluator_ids, label_id, now, counts)
        tick(total, total, "annotations written")

        recomputed = rounds_recompute(project=project)
        counts["nodes_created"] = len(index.created)
        changed = (
            any(counts[k] for k in CHANGE_COUNTS)
            or bool(evaluators_created or recomputed["nodes"] or recomputed["leaves"])
            or bool(outline_report and (outline_report["renamed"] or outline_report["reparented"]))
        )
        report = _import_report(
            project=project,
            table=table,
            number=number,
            rows=rows,
            figures=_import_figures(rows, decisions, meta, label_id),
            counts=counts,
            index=index,
            evaluators_created=evaluators_created,
            outline_report=outline_report,
            changed=changed,
            problems=problems,
            meta=meta,
            filename=filename,
        )
        _import_record(
            rnd=rnd, report=report, meta=meta, data=data, filename=filename, user=user, now=now, changed=changed
        )
    return report


def _summary(report: dict) -> dict:
    keep = ("file", "rows", "analysed", "disagreements", "conflicts", "relevant", "artefacts", "items", "annotations")
    out = {k: report[k] for k in keep}
    out["skipped"] = len(report["skipped"])
    out["warnings"] = len(report["warnings"])
    return out


@dataclass
class _AnnotationPlan:
    """What `_write_annotations` writes: new assignments (with the annotation each gets), removals, changes."""

    new_assignments: list[tuple[Assignment, dict | None]] = field(default_factory=list)
    remove_assignments: list[int] = field(default_factory=list)
    changed_annotations: list[Annotation] = field(default_factory=list)
    remove_annotations: list[int] = field(default_factory=list)


def _plan_slot(plan: _AnnotationPlan, assignment: Assignment, desired: dict | None, now) -> None:
    """An existing assignment: its annotation added, removed or changed to `desired`."""
    annotation = getattr(assignment, "annotation", None)
    if desired is None:
        if annotation is not None:
            plan.remove_annotations.append(annotation.id)
        return
    if annotation is None:
        plan.new_assignments.append((assignment, desired))  # existing assignment, new annotation
        return
    if any(getattr(annotation, k) != v for k, v in desired.items()):
        for k, v in desired.items():
            setattr(annotation, k, v)
        annotation.updated_at = now
        plan.changed_annotations.append(annotation)


def _plan_item(plan: _AnnotationPlan, *, rnd, item, r: ParsedRow, mine: dict, evaluator_ids, label_id, now, counts):
    wanted = {s.order: s for s in r.slots}
    mismatch = any(
        order in mine and mine[order].evaluator_id != evaluator_ids[s.evaluator.casefold()]
        for order, s in wanted.items()
    )
    if mismatch:  # evaluators moved between columns: rebuild this item's assignments
        plan.remove_assignments += [a.id for a in mine.values()]
        mine = {}
    plan.remove_assignments += [a.id for order, a in mine.items() if order not in wanted]
    for order, s in wanted.items():
        desired = _annotation_fields(s.tag, label_id)
        if desired is not None:
            counts["annotations_total"] += 1
        assignment = mine.get(order)
        if assignment is None:
            evaluator_id = evaluator_ids[s.evaluator.casefold()]
            new = Assignment(round=rnd, item=item, evaluator_id=evaluator_id, order=order, completed_at=now)
            plan.new_assignments.append((new, desired))
        else:
            _plan_slot(plan, assignment, desired, now)


def _write_annotations(rnd, rows, item_of, evaluator_ids, label_id, now, counts) -> None:
    """Bring assignments and annotations of the round's items in line with the rows."""
    item_ids = [item_of[r.url].id for r in rows]
    existing: dict[int, dict[int, Assignment]] = {}
    for start in range(0, len(item_ids), 1000):
        for a in Assignment.objects.filter(item_id__in=item_ids[start : start + 1000]).select_related("annotation"):
            existing.setdefault(a.item_id, {})[a.order] = a
    plan = _AnnotationPlan()
    for r in rows:
        item = item_of[r.url]
        _plan_item(
            plan,
            rnd=rnd,
            item=item,
            r=r,
            mine=existing.get(item.id, {}),
            evaluator_ids=evaluator_ids,
            label_id=label_id,
            now=now,
            counts=counts,
        )
    if plan.remove_assignments:
        counts["annotations_removed"] += Annotation.objects.filter(assignment_id__in=plan.remove_assignments).count()
        Assignment.objects.filter(id__in=plan.remove_assignments).delete()
        counts["assignments_removed"] += len(plan.remove_assignments)
    if plan.remove_annotations:
        Annotation.objects.filter(id__in=plan.remove_annotations).delete()
        counts["annotations_removed"] += len(plan.remove_annotations)
    to_create = [a for a, _ in plan.new_assignments if a.pk is None]
    Assignment.objects.bulk_create(to_create, batch_size=1000)
    counts["assignments_created"] += len(to_create)
    annotations = [Annotation(assignment=a, **desired) for a, desired in plan.new_assignments if desired is not None]
    Annotation.objects.bulk_create(annotations, batch_size=1000)
    counts["annotations_created"] += len(annotations)
    if plan.changed_annotations:
        Annotation.objects.bulk_update(
            plan.changed_annotations, ["label", "verdict", "note", "history", "updated_at"], batch_size=500
        )
        counts["annotations_updated"] += len(plan.changed_annotations)


def _annotation_fields(tag: Tag, label_id) -> dict | None:
    if tag.is_none:
        return None
    note = tag.note
    if tag.label:
        name, cut = label_name(tag.label)
        if cut:
            note = f"Full tag: {tag.label}"
    return {
        "label_id": label_id(tag),
        "verdict": tag.verdict or "",
        "note": note,
        "history": _history(tag),
    }


# --- files and jobs -------------------------------------------------------------------------

MAX_ROUND = 2**31 - 1  # the largest round number its column holds on every database


def round_import_file(
    *,
    project: Project,
    data: bytes,
    filename: str = "",
    number: int,
    outline_data: bytes | None = None,
    outline_name: str = "",
    user=None,
    progress: Progress | None = None,
) -> dict:
    """Import a labelled round from a file (and an optional `code,name` outline)."""
    outline, outline_problems = None, []
    if outline_data:
        try:
            outline, outline_problems = outline_read(outline_data, outline_name)
        except DomainError as exc:
            raise error_naming_file(exc, outline_name or "the outline") from exc
    try:
        table = read_table(data, filename, header_score=round_header_score)
    except DomainError as exc:
        raise error_naming_file(exc, filename) from exc
    report = round_import(
        project=project,
        table=table,
        number=number,
        outline=outline,
        user=user,
        progress=progress,
        filename=filename,
        data=data,
    )
    if outline_data:
        report["outline_problems"] = outline_problems
    return report


def outline_import_file(*, project: Project, data: bytes, filename: str = "", user=None) -> dict:
    rows, problems = outline_read(data, filename)
    with transaction.atomic():
        report = outline_import(project=project, rows=rows, user=user)
        report["rounds"] = rounds_recompute(project=project)
    report["skipped"] = problems
    return report


def _import_round_number_check(project: Project, number) -> None:
    """A round number an import may write: 1…MAX_ROUND, and not a round labelled in Concord."""
    if not isinstance(number, int) or not 1 <= number <= MAX_ROUND:
        raise InvalidInput(f"The round number must be a whole number from 1 to {MAX_ROUND}.", field="round")
    existing = Round.objects.filter(project=project, number=number).first()
    if existing is not None and existing.source != Round.Source.IMPORT:
        raise InvalidInput(f"Round {number} was labelled in Concord; choose another number.", field="round")


def round_import_job_create(
    *,
    project: Project,
    user,
    number,
    input_name: str,
    input_data: bytes,
    outline_data: bytes | None = None,
    outline_name: str = "",
) -> Job:
    """A round import of a lead, run in Celery: checked now for the round number (free for an import) and the
    upload's size and shape; the files are read only in the job, which fails naming a file it cannot read."""
    membership_require(project=project, user=user, roles=("lead",))
    _import_round_number_check(project, number)
    if input_data:
        check_upload(input_data, kind="round", name=input_name)  # size, ZIP and CSV shape, without parsing
    params = {"round": number}
    if outline_data:
        check_upload(outline_data, kind="taxonomy", name=outline_name)
        params["outline"] = base64.b64encode(outline_data).decode()
        params["outline_name"] = outline_name
    return job_upload_start(
        project=project,
        user=user,
        kind=Job.Kind.IMPORT_ROUND,
        params=params,
        filename=input_name,
        data=input_data,
        upload_kind=None,  # checked above, with the outline
        task=tasks.import_round_task,
    )


def _round_import_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    params = job.params or {}
    outline = base64.b64decode(params["outline"]) if params.get("outline") else None
    report = round_import_file(  # its errors name the round's file or the outline's
        project=job.project,
        data=job_input(job),
        filename=job.input_name,
        number=params["round"],
        outline_data=outline,
        outline_name=params.get("outline_name", ""),
        user=job_user(job),
        progress=progress,
    )
    return report, None


def round_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_round_import_work, progress=progress)


# --- another tool's annotations as an imported round ------------------------------------------


def round_next_number(project: Project) -> int:
    last = Round.objects.filter(project=project).aggregate(n=Max("number"))["n"]
    return (last or 0) + 1


def exchange_round_import(
    *,
    project: Project,
    data: bytes,
    filename: str = "",
    number: int | None = None,
    tool: str | None = None,
    label_fields: list[str] | None = None,
    field_name: str | None = None,
    include_predictions: bool = False,
    evaluator: str = "",
    user=None,
    progress: Progress | None = None,
) -> dict:
    """The annotations of a Label Studio or doccano export as an imported round (number: the next free one).

    Each answer becomes its evaluator's annotation (evaluators from `completed_by`/`annotator`, or the
    doccano file's user; unknown ones become inactive members), never a tag or any field of the artefact,
    so no evaluator sees them while labelling. Predictions are kept only when asked, as evaluators
    `model:<version>`. The artefacts are those of the same file (import them first)."""
    exchange = exchange_read(data=data, filename=filename, tool=tool, label_fields=label_fields, evaluator=evaluator)
    if exchange is None:
        raise InvalidInput("Not a Label Studio or doccano export: it holds no annotations to import.", field="file")
    header, rows, problems = ratings_round_sheet(
        exchange, field_name=field_name, include_predictions=include_predictions
    )
    if not rows:
        raise InvalidInput("The file holds no annotations with an evaluator to import as a round.", field="file")
    number = number if number is not None else round_next_number(project)
    sheet = Sheet(
        name=f"{exchange.tool} {exchange.format}",
        header=header,
        header_row=1,
        rows=[Row(number=i, values=list(cells)) for i, cells in enumerate(rows, start=2)],
    )
    table = Table(format=f"{exchange.tool}-{exchange.format}", sheets=[sheet])
    report = round_import(
        project=project, table=table, number=number, user=user, progress=progress, filename=filename, data=data
    )
    report["exchange_problems"] = problems
    return report


# --- a Label Studio or doccano export: tasks as artefacts, annotations as an imported round -----


def exchange_import(
    *,
    project: Project,
    data: bytes,
    filename: str = "",
    map_options: list[str] | None = None,
    tool: str | None = None,
    label_fields: list[str] | None = None,
    keep_annotations: bool = False,
    number: int | None = None,
    include_predictions: bool = False,
    evaluator: str = "",
    user=None,
    progress: Progress | None = None,
) -> dict:
    """Another tool's export in one transaction: its tasks as artefacts and, with `keep_annotations`, its
    annotations as an imported round (`report["imported_round"]`); a file that is not such an export, or
    any error, writes nothing."""
    with transaction.atomic():
        report = artefacts_import_file(
            project=project,
            data=data,
            filename=filename,
            map_options=map_options or [],
            tool=tool,
            label_fields=label_fields,
            progress=progress,
        )
        if "exchange" not in report:
            raise InvalidInput("Not a Label Studio or doccano export.", field="file")
        if keep_annotations:
            report["imported_round"] = exchange_round_import(
                project=project,
                data=data,
                filename=filename,
                number=number,
                tool=tool,
                label_fields=label_fields,
                field_name=(label_fields or [None])[0],
                include_predictions=include_predictions,
                evaluator=evaluator,
                user=user,
                progress=progress,
            )
    return report


def exchange_import_start(
    *,
    project: Project,
    user,
    filename: str,
    data: bytes,
    map_options: list[str] | None = None,
    tool: str | None = None,
    label_fields: list[str] | None = None,
    keep_annotations: bool = False,
    number: int | None = None,
    include_predictions: bool = False,
    evaluator: str = "",
) -> Job:
    """A lead's upload of another tool's export, read only in a Celery job (`exchange_import_job_run`).
    Checked now, without parsing: the role, the file's size and shape, and the round number asked for;
    the job's report is `exchange_import`'s, and a file it cannot read fails the job naming it."""
    membership_require(project=project, user=user, roles=("lead",))
    if keep_annotations and number is not None:  # the round the annotations go to
        _import_round_number_check(project, number)
    return job_upload_start(
        project=project,
        user=user,
        kind=Job.Kind.IMPORT_EXCHANGE,
        params={
            "map_options": list(map_options or []),
            "tool": tool,
            "label_fields": list(label_fields) if label_fields else None,
            "keep_annotations": bool(keep_annotations),
            "number": number,
            "include_predictions": bool(include_predictions),
            "evaluator": evaluator,
        },
        filename=filename,
        data=data,
        upload_kind="artefacts",
        task=tasks.import_exchange_task,
    )


def _exchange_import_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    params = job.params or {}
    with job_reading(job) as (data, user):
        report = exchange_import(
            project=job.project,
            data=data,
            filename=job.input_name,
            user=user,
            progress=progress,
            map_options=params.get("map_options"),
            tool=params.get("tool"),
            label_fields=params.get("label_fields"),
            keep_annotations=bool(params.get("keep_annotations")),
            number=params.get("number"),
            include_predictions=bool(params.get("include_predictions")),
            evaluator=params.get("evaluator", ""),
        )
    return report, None


def exchange_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_exchange_import_work, progress=progress)
