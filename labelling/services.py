"""Writes. Every service is keyword-only, named <entity>_<action>, runs in one
transaction and raises a DomainError (nothing written) when a rule is broken."""

from __future__ import annotations

import logging
import random
from collections import Counter
from datetime import timedelta

from celery.result import EagerResult
from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q
from django.utils import timezone

from collection.models import Artefact
from collection.selectors import matching_artefact_ids
from core import reassign
from core.audit import audit_record
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import Membership, Notification, Project
from core.selectors import membership_require
from core.services import notification_send
from core.text import MAX_LABEL_LENGTH, clean_label, normalise_label
from labelling import queries, selectors, tasks
from labelling.models import Annotation, Assignment, Comment, EscalationOutbox, Label, Round, RoundItem, Verdict
from labelling.planning import plan_pairs

User = get_user_model()
MAX_NOTE_LENGTH = 10_000
BULK_BATCH = 2000


# --- roles ------------------------------------------------------------------------


# --- labels -----------------------------------------------------------------------


def label_validate(text: str | None, *, field: str = "label") -> str:
    name = clean_label(text or "")
    if not name:
        raise InvalidInput("A label cannot be empty.", field=field)
    if len(name) > MAX_LABEL_LENGTH:
        raise InvalidInput(
            f"A label has at most {MAX_LABEL_LENGTH} characters (this one has {len(name)}).", field=field
        )
    return name


def label_get_or_create(*, project: Project, name: str, user=None, field: str = "label") -> Label:
    """The project's label with this normalised name, created on first use."""
    name = label_validate(name, field=field)
    key = normalise_label(name)
    label = Label.objects.filter(project=project, normalised=key).first()
    if label is not None:
        return label
    try:
        with transaction.atomic():
            return Label.objects.create(project=project, name=name, created_by=user)
    except IntegrityError:  # created by a concurrent request in the meantime
        return Label.objects.get(project=project, normalised=key)


def verdict_validate(verdict: str | None, *, field: str = "verdict") -> str:
    verdict = (verdict or "").strip()
    if verdict not in Verdict.values:
        raise InvalidInput(
            f"Unknown verdict {verdict!r}; choose one of {', '.join(Verdict.values)}.",
            field=field,
            code="invalid_choice",
        )
    return verdict


# --- label catalogue (leads) ---------------------------------------------------------


def _history_entry(*, event: str, user, **values) -> dict:
    return {"event": event, **values, "by": getattr(user, "username", None), "at": timezone.now().isoformat()}


def _append_history(queryset, entry: dict, **changes) -> int:
    """Append `entry` to `history` of every row in `queryset` and apply `changes`, in batches."""
    model = queryset.model
    count = 0
    ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BULK_BATCH):
        rows = list(model.objects.filter(pk__in=ids[start : start + BULK_BATCH]).only("pk", "history", *changes))
        for row in rows:
            row.history = [*(row.history or []), entry]
            for field, value in changes.items():
                setattr(row, field, value)
        model.objects.bulk_update(rows, ["history", *changes])
        count += len(rows)
    return count


def _label_for_lead(*, label_id: int, user, field: str = "label_id") -> Label:
    label = Label.objects.select_for_update(of=("self",)).select_related("project").filter(id=label_id).first()
    if label is None:
        raise NotFound("No such label.", field=field)
    membership_require(project=label.project, user=user, roles=("lead",))
    return label


def label_create(
    *, project: Project, user, name: str, description: str = "", examples: str = "", in_catalogue: bool = True
) -> Label:
    """A lead adds a label to the catalogue (offered to every evaluator); an existing one is put in it.
    A description or examples given (the codebook) replace the existing label's."""
    membership_require(project=project, user=user, roles=("lead",))
    name = label_validate(name, field="name")
    with transaction.atomic():
        label = label_get_or_create(project=project, name=name, user=user, field="name")
        label.in_catalogue = in_catalogue or label.in_catalogue
        if description:
            label.description = description
        if examples:
            label.examples = examples
        label.save(update_fields=["in_catalogue", "description", "examples"])
    return label


def label_update(
    *,
    label_id: int,
    user,
    in_catalogue: bool | None = None,
    description: str | None = None,
    examples: str | None = None,
) -> Label:
    """A lead puts a label in or out of the catalogue or describes it (description and examples: the codebook)."""
    with transaction.atomic():
        label = _label_for_lead(label_id=label_id, user=user)
        if in_catalogue is not None:
            label.in_catalogue = in_catalogue
        if description is not None:
            label.description = description
        if examples is not None:
            label.examples = examples
        label.save(update_fields=["in_catalogue", "description", "examples"])
    return label


def round_instructions_set(*, round: Round, user, instructions: str) -> Round:
    """A lead writes the round's instructions (Markdown), shown in the evaluators' codebook panel."""
    membership_require(project=round.project, user=user, roles=("lead",))
    if len(instructions or "") > MAX_NOTE_LENGTH:
        raise InvalidInput(f"Instructions have at most {MAX_NOTE_LENGTH} characters.", field="instructions")
    round.instructions = instructions or ""
    round.save(update_fields=["instructions"])
    return round


def label_rename(*, label_id: int, user, name: str) -> Label:
    """A lead renames a label. Annotations and decisions point at the label, so they follow;
    decided items record the old name in their history. A name that another label of the
    project already has (after normalisation) is refused: merge the two instead."""
    name = label_validate(name, field="name")
    with transaction.atomic():
        label = _label_for_lead(label_id=label_id, user=user)
        clash = (
            Label.objects.filter(project_id=label.project_id, normalised=normalise_label(name))
            .exclude(id=label.id)
            .first()
        )
        if clash is not None:
            raise InvalidInput(f"The label {clash.name!r} exists already; merge the two instead.", field="name")
        if name == label.name:
            return label
        old = label.name
        label.name = name
        label.save(update_fields=["name", "normalised"])
        entry = _history_entry(event="rename", user=user, label=label.id, **{"from": old, "to": name})
        _append_history(RoundItem.objects.filter(Q(final_label=label) | Q(taxonomy_label=label)), entry)
        audit_record(action="label.rename", project=label.project, target=name, actor=user, details={"from": old})
    return label


def label_merge(*, source_id: int, target_id: int, user, roles: tuple[str, ...] = ("lead",)) -> Label:
    """A lead (or a holder of one of `roles`: moderators accept suggested merges) merges label `source`
    into `target`: every annotation, decision, taxonomy tag and taxonomy leaf that used `source` uses
    `target` afterwards (annotations and items keep the old name in their history), and `source` is
    deleted. Returns `target`."""
    if source_id == target_id:
        raise InvalidInput("A label cannot be merged into itself.", field="target_id")
    with transaction.atomic():
        # Undecided items answered with `source` may be decided by the merge: lock them first (in id
        # order), before the labels, in the order a submission takes its locks (item, then label).
        first = Label.objects.select_related("project").filter(id=source_id).order_by().first()
        if first is not None:
            membership_require(project=first.project, user=user, roles=roles)
        undecided = _undecided_items_answered_with(source_id)
        # Lock both rows in id order, so two merges of the same pair cannot deadlock.
        locked = {
            label.id: label
            for label in Label.objects.select_for_update(of=("self",))
            .select_related("project")
            .filter(id__in=[source_id, target_id])
            .order_by("id")
        }
        source = locked.get(source_id)
        if source is None:
            raise NotFound("No such label.", field="source_id")
        membership_require(project=source.project, user=user, roles=roles)
        target = locked.get(target_id)
        if target is None or target.project_id != source.project_id:
            raise InvalidInput("The target label is not a label of this project.", field="target_id")
        # Answers given with `source` since the first read (their submissions have committed). An item
        # locked right now is skipped: its submission waits for the labels' locks and evaluates it itself.
        undecided = sorted({*undecided, *_undecided_items_answered_with(source_id, skip_locked=True)})

        entry = _history_entry(event="merge", user=user, label=target.id, **{"from": source.name, "to": target.name})
        _append_history(Annotation.objects.filter(label=source), {**entry, "value": source.name}, label=target)
        _append_history(RoundItem.objects.filter(final_label=source), entry, final_label=target)
        RoundItem.objects.filter(taxonomy_label=source).update(taxonomy_label=target)
        _leaves_merge(source=source, target=target)
        _relink_other_references(
            source=source,
            target=target,
            handled={
                (Annotation, "label"),
                (RoundItem, "final_label"),
                (RoundItem, "taxonomy_label"),
                (Label.leaves.rel.related_model, "label"),
            },
        )
        changed = []
        if source.in_catalogue and not target.in_catalogue:
            target.in_catalogue = True
            changed.append("in_catalogue")
        if source.description and not target.description:
            target.description = source.description
            changed.append("description")
        if changed:
            target.save(update_fields=changed)
        source.delete()
        _items_decide_after_merge(item_ids=undecided, label=target, user=user)
    audit_record(
        action="label.merge", project=target.project, target=target.name, actor=user, details={"merged": source_id}
    )
    return target


def _undecided_items_answered_with(label_id: int, *, skip_locked: bool = False) -> list[int]:
    """Ids of the items still being labelled or in conflict with an annotation of this label, locked."""
    return list(
        RoundItem.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        .filter(
            status__in=[RoundItem.Status.LABELLING, RoundItem.Status.CONFLICT],
            id__in=Annotation.objects.filter(label_id=label_id).values("assignment__item_id"),
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def _items_decide_after_merge(*, item_ids: list[int], label: Label, user) -> None:
    """Undecided items whose annotations a merge made equal are decided when the rules say so now
    (agreed, or a majority), as if the labels had always been one; their history says so. A merge only
    makes answers more alike, so it never causes an escalation or a conflict that was not there; a
    conflict it decides leaves the moderators' queue. The caller holds the items' locks."""
    for start in range(0, len(item_ids), BULK_BATCH):
        batch = item_ids[start : start + BULK_BATCH]
        rows: dict[int, list] = {item_id: [] for item_id in batch}
        answers = Assignment.objects.filter(item_id__in=batch).order_by("item_id", "order")
        for item_id, order, label_id, verdict in answers.values_list(
            "item_id", "order", "annotation__label_id", "annotation__verdict"
        ):
            rows[item_id].append((order, label_id, verdict or ""))
        decided = []
        for item in RoundItem.objects.filter(id__in=batch).select_related("round__project").order_by("id"):
            if item.sent_back:  # decided again when the evaluators it went back to have answered
                continue
            given = [(label_id, verdict) for _, label_id, verdict in rows[item.id] if label_id or verdict]
            outcome, answer = _item_outcome(given, len(rows[item.id]), item.round.project.max_evaluators_per_artefact)
            if outcome not in ("agreed", "majority"):
                continue
            entry = _history_entry(event="decided after merge", user=user, label=label.id, status=outcome)
            if item.status == RoundItem.Status.CONFLICT:
                entry["was"] = {"status": item.status, "conflict_reason": item.conflict_reason}
                item.is_conflict, item.conflict_reason = False, ""
            _decide(item, label_id=answer[0], verdict=answer[1], status=outcome, labels={label.id: label})
            item.history = [*(item.history or []), entry]
            item.updated_at = item.decided_at  # bulk_update leaves auto_now fields alone
            decided.append(item)
        RoundItem.objects.bulk_update(decided, [*ITEM_DECISION_FIELDS, "history"])


def _leaves_merge(*, source: Label, target: Label) -> None:
    """Taxonomy leaves of `source` become leaves of `target`; where a node has both, items move
    to the node's `target` leaf and the `source` leaf goes."""
    # Leaves belong to the taxonomy, which builds on labelling: they are reached through the
    # labels' reverse relation `leaves`, never through the taxonomy's code.
    for leaf in source.leaves.select_for_update(of=("self",)):
        twin = target.leaves.filter(node_id=leaf.node_id).first()
        if twin is None:
            leaf.label = target
            leaf.save(update_fields=["label"])
        else:
            RoundItem.objects.filter(leaf=leaf).update(leaf=twin)
            _relink_other_references(source=leaf, target=twin, handled={(RoundItem, "leaf")})
            leaf.delete()


def _relink_other_references(*, source, target, handled: set) -> None:
    """Point every other foreign key at `source` (e.g. from other apps' models) to `target`.

    Rows that would then break a uniqueness rule make the whole operation fail with a 409."""
    for rel in type(source)._meta.get_fields(include_hidden=True):
        if not (rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one)):
            continue
        model, field = rel.related_model, rel.field.name
        if (model, field) in handled:
            continue
        try:
            with transaction.atomic():
                model._base_manager.filter(**{field: source}).update(**{field: target})
        except IntegrityError as exc:
            raise Conflict(
                f"{model._meta.verbose_name_plural.capitalize()} use both {source} and {target}; "
                "tidy them up before merging.",
                field="target_id",
            ) from exc


# --- rounds -----------------------------------------------------------------------


def _round_evaluators(project: Project, evaluator_ids: list[int]) -> list[int]:
    """The chosen people's user ids, each an active evaluator of the project; at least two."""
    evaluators = list(
        Membership.objects.filter(
            project=project, user_id__in=evaluator_ids, is_evaluator=True, is_active=True, user__is_active=True
        )
        .order_by("user__username", "user_id")
        .values_list("user_id", flat=True)
    )
    unknown = set(evaluator_ids) - set(evaluators)
    if unknown:
        raise InvalidInput(f"Not active evaluators of this project: {sorted(unknown)}.", field="evaluator_ids")
    if len(evaluators) < 2:
        raise InvalidInput("A round needs at least two evaluators.", field="evaluator_ids")
    return evaluators


def _round_selection(pool, artefact_ids: list[int]) -> list[int]:
    """The selected artefacts, every one in the unlabelled pool."""
    wanted = set(artefact_ids)
    if not wanted:
        raise InvalidInput("Select at least one artefact.", field="artefact_ids")
    # The pool as a set rather than a giant IN (...) list: SQLite caps bound variables.
    chosen = sorted(wanted & set(pool.values_list("id", flat=True)))
    missing = wanted - set(chosen)
    if missing:
        raise InvalidInput(
            f"Not in this project's unlabelled pool: {sorted(missing)[:20]}{' and more' if len(missing) > 20 else ''}.",
            field="artefact_ids",
        )
    return chosen


def _round_sample(pool, sample_size: int, seed: int) -> list[int]:
    """A seeded random sample of the (filtered) pool."""
    candidates = list(pool.order_by("id").values_list("id", flat=True))
    if sample_size > len(candidates):
        raise InvalidInput(
            f"The pool has only {len(candidates)} unlabelled artefacts matching the filters; "
            f"cannot sample {sample_size}.",
            field="sample_size",
        )
    return sorted(random.Random(seed).sample(candidates, sample_size))


def round_create(
    *,
    project: Project,
    user,
    evaluator_ids: list[int],
    artefact_ids: list[int] | None = None,
    sample_size: int | None = None,
    seed: int | None = None,
    kinds: list[str] | None = None,
    frameworks: list[str] | None = None,
    name: str = "",
    number: int | None = None,
    vocabulary_only: bool = False,
) -> Round:
    """A round over an explicit selection or a seeded random sample of the unlabelled pool.

    Each artefact goes to two evaluators; loads are balanced and pairs rotate. The
    project row is locked, so two leads creating rounds at once never share an artefact."""
    membership_require(project=project, user=user, roles=("lead",))
    if (artefact_ids is None) == (sample_size is None):
        raise InvalidInput("Give either a selection of artefacts (artefact_ids) or a sample size.", field="sample_size")
    if sample_size is not None and sample_size < 1:
        raise InvalidInput("The sample size must be at least 1.", field="sample_size")
    unknown_kinds = sorted(set(kinds or ()) - set(Artefact.Kind.values))
    if unknown_kinds:
        raise InvalidInput(
            f"Unknown kinds {unknown_kinds}; choose from {', '.join(Artefact.Kind.values)}.", field="kinds"
        )
    evaluator_ids = list(dict.fromkeys(evaluator_ids or ()))

    with transaction.atomic():
        # NO KEY UPDATE: serialises round creation without blocking inserts that reference the project.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        evaluators = _round_evaluators(project, evaluator_ids)
        pool = Artefact.objects.filter(project=project).exclude(round_items__isnull=False)
        if artefact_ids is not None:
            chosen = _round_selection(pool, artefact_ids)
        else:
            if kinds:
                pool = pool.filter(kind__in=kinds)
            if frameworks:
                pool = pool.filter(framework__in=frameworks)
            if vocabulary_only:  # sample only artefacts matching the relevance vocabulary
                pool = pool.filter(id__in=matching_artefact_ids(project=project))
            if seed is None:
                seed = random.SystemRandom().randrange(2**31)
            chosen = _round_sample(pool, sample_size, seed)

        if number is None:
            number = (Round.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        elif Round.objects.filter(project=project, number=number).exists():
            raise InvalidInput(f"Round {number} exists already.", field="number")
        rnd = Round.objects.create(
            project=project, number=number, name=name or f"Round {number}", seed=seed, created_by=user
        )
        rnd.evaluators.set(evaluators)
        items = RoundItem.objects.bulk_create(
            [RoundItem(round=rnd, artefact_id=a) for a in chosen], batch_size=BULK_BATCH
        )
        if any(item.pk is None for item in items):  # backends that return no ids from bulk inserts
            items = list(RoundItem.objects.filter(round=rnd).order_by("artefact_id"))
        assignments = []
        for item, (first, second) in zip(items, plan_pairs(evaluators, len(items)), strict=True):
            assignments.append(Assignment(round=rnd, item=item, evaluator_id=first, order=1))
            assignments.append(Assignment(round=rnd, item=item, evaluator_id=second, order=2))
        Assignment.objects.bulk_create(assignments, batch_size=BULK_BATCH)
        audit_record(
            action="round.open",
            project=project,
            target=f"round {rnd.number}",
            actor=user,
            details={"items": len(items)},
        )
        notification_send(
            users=evaluators,
            project=project,
            kind=Notification.Kind.ROUND_OPENED,
            text=f"{rnd} of {project.name} opened: artefacts wait for your label.",
            url=f"/p/{project.slug}/queue/?round={rnd.number}",
        )
    return rnd


def round_close(*, round: Round, user) -> Round:
    membership_require(project=round.project, user=user, roles=("lead",))
    round.status = Round.Status.CLOSED
    round.closed_at = timezone.now()
    round.save(update_fields=["status", "closed_at"])
    audit_record(action="round.close", project=round.project, target=f"round {round.number}", actor=user)
    notification_send(
        users=list(round.evaluators.values_list("id", flat=True)),
        project=round.project,
        kind=Notification.Kind.ROUND_CLOSED,
        text=f"{round} of {round.project.name} is closed.",
        url=f"/p/{round.project.slug}/queue/",
    )
    return round


# --- annotations and decisions --------------------------------------------------------


def annotation_submit(
    *,
    assignment_id: int,
    user,
    label: str | None = None,
    verdict: str | None = None,
    note: str = "",
    project: Project | None = None,
    membership: Membership | None = None,
) -> Annotation:
    """Submit or edit the user's annotation on their assignment.

    Exactly one of `label` (free text) or `verdict`. Editing is allowed until
    the item is decided. The item is re-evaluated in the same transaction; a
    disagreement schedules the escalation task after commit. With `project`, an
    assignment of another project is not found (the API's URL names the project)."""
    has_label = bool((label or "").strip())
    has_verdict = bool((verdict or "").strip())
    if has_label and has_verdict:
        raise InvalidInput("Give a label or a verdict, not both.", field="verdict")
    if not has_label and not has_verdict:
        raise InvalidInput("A label cannot be empty.", field="label")
    if has_verdict:
        verdict = verdict_validate(verdict)
    else:
        label_validate(label)
    note = note or ""
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"A note has at most {MAX_NOTE_LENGTH} characters (this one has {len(note)}).", field="note")

    try:
        with transaction.atomic():
            annotation = _annotation_write(
                assignment_id=assignment_id,
                user=user,
                label=label if has_label else None,
                verdict=verdict if has_verdict else "",
                note=note,
                project=project,
                membership=membership,
            )
    except IntegrityError as exc:
        # Only a label merged or deleted at this very moment gets here (the item lock serialises the rest).
        raise Conflict("The label changed while you submitted; please submit again.", field="label") from exc
    return annotation


def _annotation_write(*, assignment_id, user, label, verdict, note, project, membership) -> Annotation:
    key = normalise_label(label) if label else ""
    found = queries.ASSIGNMENT_FOR_SUBMIT.fetch(assignment=assignment_id, key=key)
    if found is None or (project is not None and found[1].project_id != project.id):
        raise NotFound("No such assignment.")
    assignment, rnd, item, project, known_label_id, known_label_name = found
    rnd.project = project
    item.round = assignment.round = rnd
    assignment.item = item  # callers read the item's state after the evaluation below
    if assignment.evaluator_id != getattr(user, "id", None):
        membership_require(project=project, user=user)  # non-members get 404
        raise NotAllowed("This assignment belongs to another evaluator.", field="assignment")
    membership_require(project=project, user=user, roles=("evaluator",), membership=membership)
    if item.status != RoundItem.Status.LABELLING:
        raise Conflict("This artefact is decided already; annotations can no longer change.", field="assignment")
    if rnd.status == Round.Status.CLOSED:
        raise Conflict("This round is closed.", field="assignment")
    if item.sent_back and assignment.completed_at is not None:
        raise Conflict(
            "A moderator sent this artefact back to other evaluators; your answer stands until they answered.",
            field="assignment",
        )

    # Every assignment of the item with its answer, read after the lock so that nothing committed before
    # it is missed: my own annotation (if I am editing it) and the answers the evaluation below needs.
    rows = queries.ITEM_ANSWERS.fetch_all(item=item.id)
    if not key:
        label_obj = None
    elif known_label_id is not None:
        label_obj = Label.from_db(
            assignment._state.db,
            ["id", "project_id", "name", "normalised"],
            [known_label_id, project.id, known_label_name, key],
        )
    else:
        label_obj = label_get_or_create(project=project, name=label, user=user)
    verdict = "" if label_obj else verdict
    annotation_id = next((row[3] for row in rows if row[1] == assignment.id), None)
    label_id = label_obj.id if label_obj else None
    now = timezone.now()
    if annotation_id is None:  # the first answer: two prepared statements (the ORM's saves cost more here)
        (new_id,) = queries.ANNOTATION_INSERT.run(
            assignment=assignment.id, label=label_id, verdict=verdict, note=note, history=[], now=now
        )
        values = [new_id, assignment.id, label_id, verdict, note, [], now, now]
        annotation = Annotation.from_db(assignment._state.db, queries.ANNOTATION_FIELDS, values)
        annotation.was_created = True
    else:
        annotation = Annotation.objects.get(id=annotation_id)
        before = {"label_id": annotation.label_id, "verdict": annotation.verdict, "note": annotation.note}
        if (annotation.label_id, annotation.verdict, annotation.note) != (label_id, verdict, note):
            # every edit is kept, a note's too: the earlier value and note, when
            entry = {"value": str(annotation), "note": annotation.note, "at": now.isoformat()}
            annotation.history = [*annotation.history, entry]
            audit_record(
                action="annotation.edit",
                project=project,
                target=f"annotation {annotation.id}",
                actor=user,
                details={"before": before, "after": {"label_id": label_id, "verdict": verdict, "note": note}},
            )
        annotation.was_created = False
        annotation.label_id, annotation.verdict, annotation.note = label_id, verdict, note
        annotation.save()
    annotation.assignment = assignment
    annotation.label = label_obj
    if assignment.completed_at is None:
        queries.ASSIGNMENT_DONE.run(assignment=assignment.id, now=now)
        assignment.completed_at = now
    answers = [
        (order, label_obj.id if label_obj else None, verdict) if row_id == assignment.id else (order, label_id, v)
        for _, row_id, order, _, label_id, v in rows
    ]
    labels = {other.id: other for other, *_ in rows if other is not None}
    if label_obj is not None:
        labels[label_obj.id] = label_obj
    if item.sent_back and not _sent_back_settled(item, answered=assignment.id):
        return annotation  # other evaluators the item was sent back to have not answered yet
    item_evaluate(item=item, rows=answers, labels=labels)
    return annotation


def _sent_back_settled(item: RoundItem, *, answered: int | None = None) -> bool:
    """Whether every evaluator a sent-back item went to has answered (`answered`: the assignment being
    answered now); then the item is no longer sent back and the caller decides it again. The caller
    holds the item's lock."""
    still_open = Assignment.objects.filter(item_id=item.id, completed_at__isnull=True)
    if answered is not None:
        still_open = still_open.exclude(id=answered)
    if still_open.exists():
        return False
    item.sent_back = False
    RoundItem.objects.filter(id=item.id).update(sent_back=False)
    return True


def _decide(item: RoundItem, *, label_id: int | None, verdict: str, status: str, labels: dict | None = None) -> None:
    label = (labels or {}).get(label_id)
    if label is not None:  # a label object at hand: reading the decision's name needs no query
        item.final_label = item.taxonomy_label = label
    else:
        item.final_label_id = item.taxonomy_label_id = label_id
    item.final_verdict = verdict or ""
    item.status = status
    item.decided_at = timezone.now()


def _item_outcome(answers: list[tuple[int | None, str]], assigned: int, cap: int) -> tuple[str, tuple | None]:
    """What the rules make of an item's answers ((label id, verdict) of the answered assignments) when
    `assigned` evaluators are on it and at most `cap` may be: ("waiting" | "agreed" | "majority" |
    "conflict" | "escalate", the deciding answer or None)."""
    if len(answers) < assigned or len(answers) < 2:
        return "waiting", None
    if len(answers) == 2 and answers[0] == answers[1]:
        return "agreed", answers[0]
    counts = Counter(answers).most_common()
    if len(answers) >= 3 and counts[0][1] >= 2 and (len(counts) == 1 or counts[1][1] < counts[0][1]):
        return "majority", counts[0][0]
    if assigned >= cap:
        return "conflict", None
    return "escalate", None


ITEM_DECISION_FIELDS = [
    "status",
    "final_label",
    "final_verdict",
    "taxonomy_label",
    "decided_at",
    "had_disagreement",
    "is_conflict",
    "conflict_reason",
    "updated_at",
]


def item_evaluate(*, item: RoundItem, rows: list[tuple] | None = None, labels: dict | None = None) -> str:
    """Decide, escalate or wait, from the item's annotations. The caller holds the item's lock.

    `rows`: (order, label id, verdict) of every assignment of the item, if the caller read them
    after taking the lock (otherwise they are read here); `label`: a label object the caller has
    at hand, attached to the decision without a query when it is the deciding label.
    Returns what happened: "waiting", "agreed", "majority", "escalate" or "conflict"."""
    if rows is None:
        rows = list(
            Assignment.objects.filter(item=item)
            .order_by("order")
            .values_list("order", "annotation__label_id", "annotation__verdict")
        )
    answers = [(label_id, verdict or "") for _, label_id, verdict in rows if label_id or verdict]
    outcome, answer = _item_outcome(answers, len(rows), item.round.project.max_evaluators_per_artefact)
    if outcome == "waiting":
        return outcome
    if outcome == "agreed":
        _decide(item, label_id=answer[0], verdict=answer[1], status=RoundItem.Status.AGREED, labels=labels)
        item.save(update_fields=ITEM_DECISION_FIELDS)
        return outcome
    item.had_disagreement = True
    if outcome == "majority":
        _decide(item, label_id=answer[0], verdict=answer[1], status=RoundItem.Status.MAJORITY, labels=labels)
        item.save(update_fields=ITEM_DECISION_FIELDS)
        return outcome
    if outcome == "conflict":
        _item_to_conflict(item, reason=f"No majority after {len(rows)} evaluators.")
        item.save(update_fields=ITEM_DECISION_FIELDS)
        return outcome
    # the item marked and its outbox row commit with the annotation; sending it to Celery afterwards may
    # fail (broker down) without failing the evaluator's request: the sweeper escalates what was not sent
    item.updated_at = timezone.now()
    (entry_id,) = queries.ITEM_ESCALATION_OWED.run(item=item.id, now=item.updated_at)
    item_id = item.id
    transaction.on_commit(lambda: escalations_dispatch(entries=[(entry_id, item_id)]))
    return outcome


ROUND_CLOSED_REASON = "Round closed before another evaluator could break the tie."


def _item_to_conflict(item: RoundItem, *, reason: str) -> None:
    item.status = RoundItem.Status.CONFLICT
    item.is_conflict = True
    item.conflict_reason = reason
    item_id, round_id = item.id, item.round_id
    transaction.on_commit(lambda: _conflict_notify(item_id=item_id, round_id=round_id))


def _conflict_notify(*, item_id: int, round_id: int) -> None:
    """Tell the project's moderators that a conflict waits for them."""
    rnd = Round.objects.select_related("project").get(id=round_id)
    project = rnd.project
    moderators = Membership.objects.filter(project=project, is_moderator=True, is_active=True).values_list(
        "user_id", flat=True
    )
    notification_send(
        users=list(moderators),
        project=project,
        kind=Notification.Kind.CONFLICT,
        text=f"A conflict in {rnd} waits for the moderators (item {item_id}).",
        url=f"/p/{project.slug}/conflicts/{item_id}/",
    )


def item_escalate(*, item_id: int) -> str:
    """Assign one more evaluator to a disagreed item, exactly once.

    Idempotent: a retried or duplicated call finds the extra assignment open (or
    the item decided) and does nothing. With no eligible evaluator the item goes
    to the moderators' conflict queue with that reason, and so it does when the
    round was closed before the task ran (a closed round gets no new assignments)."""
    with transaction.atomic():
        outcome = _item_escalate_locked(item_id)
        if outcome != "assigned":  # whatever the outcome, the item's owed escalation is settled (under the
            EscalationOutbox.objects.filter(item_id=item_id).delete()  # item's lock); an assignment did it
        return outcome


def _item_escalate_locked(item_id: int) -> str:
    found = queries.ITEM_FOR_ESCALATION.fetch(item=item_id)
    if found is None or found[0].status != RoundItem.Status.LABELLING:
        return "noop"
    item, rnd, project = found
    rnd.project, item.round = project, rnd
    assigned = queries.ITEM_ASSIGNED.fetch_all(item=item.id)  # (evaluator id, order, open?) read after the lock
    if len(assigned) < 2 or any(is_open for _, _, is_open in assigned):
        return "noop"  # still waiting for someone: nothing to escalate (yet or any more)
    if len(assigned) >= project.max_evaluators_per_artefact:
        outcome = item_evaluate(item=item)
        return outcome
    if rnd.status == Round.Status.CLOSED:
        _item_to_conflict(item, reason=ROUND_CLOSED_REASON)
        item.save(update_fields=["status", "is_conflict", "conflict_reason", "updated_at"])
        return "conflict"
    found = queries.ESCALATION_CANDIDATE.fetch(project=project.id, item=item.id, round=rnd.id)
    candidate, in_round = found if found else (None, False)
    if candidate is None:
        _item_to_conflict(item, reason="No eligible evaluator left to break the tie.")
        item.save(update_fields=["status", "is_conflict", "conflict_reason", "updated_at"])
        return "conflict"
    # the assignment, the evaluator's notification (its URL ends with the assignment's id) and the
    # owed escalation settled
    queries.ESCALATION_ASSIGN.run(
        round=rnd.id,
        item=item.id,
        evaluator=candidate,
        order=max(order for _, order, _ in assigned) + 1,
        project=project.id,
        kind=Notification.Kind.TIE_BREAK.value,
        text=f"Two evaluators disagreed in {rnd}: your label breaks the tie."[:300],
        url=f"/p/{project.slug}/a/",
        now=timezone.now(),
    )
    if not in_round:
        rnd.evaluators.add(candidate)  # idempotent for many-to-many
    return "assigned"


def _conflict_lock(*, item_id: int, user, project: Project | None, doing: str) -> RoundItem:
    """A conflict a moderator acts on, its row locked (the caller holds a transaction); with `project`,
    an item of another project is not found."""
    item = RoundItem.objects.select_for_update(of=("self",)).select_related("round__project").filter(id=item_id).first()
    if item is None or (project is not None and item.round.project_id != project.id):
        raise NotFound("No such artefact in a round.")
    membership_require(project=item.round.project, user=user, roles=("moderator",))
    if item.status != RoundItem.Status.CONFLICT:
        raise Conflict(f"This artefact is not a conflict; only conflicts can be {doing}.", field="item")
    return item


def conflict_resolve(
    *,
    item_id: int,
    user,
    label: str | None = None,
    verdict: str | None = None,
    annotation_id: int | None = None,
    note: str = "",
    project: Project | None = None,
) -> RoundItem:
    """A moderator decides a conflict: pick one annotation, or give a label or a verdict.

    With `project`, an item of another project is not found (the API's URL names the project)."""
    note = note or ""
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"A note has at most {MAX_NOTE_LENGTH} characters (this one has {len(note)}).", field="note")
    with transaction.atomic():
        item = _conflict_lock(item_id=item_id, user=user, project=project, doing="resolved")
        project = item.round.project
        given = [x for x in (label and label.strip(), verdict and verdict.strip(), annotation_id) if x]
        if len(given) != 1:
            raise InvalidInput("Pick one annotation, or give one label or one verdict.", field="label")
        if annotation_id:
            picked = Annotation.objects.filter(id=annotation_id, assignment__item=item).first()
            if picked is None:
                raise InvalidInput("That annotation does not belong to this artefact.", field="annotation_id")
            label_id, final_verdict = picked.label_id, picked.verdict
        elif label:
            label_id, final_verdict = label_get_or_create(project=project, name=label, user=user).id, ""
        else:
            label_id, final_verdict = None, verdict_validate(verdict)
        _decide(item, label_id=label_id, verdict=final_verdict, status=RoundItem.Status.RESOLVED)
        item.resolved_by = user
        item.resolved_at = item.decided_at
        item.resolution_note = note or ""
        item.save()
        audit_record(
            action="conflict.resolve",
            project=project,
            target=f"item {item.id}",
            actor=user,
            details={"label_id": label_id, "verdict": final_verdict, "note": item.resolution_note},
        )
    return item


def _send_back_targets(item: RoundItem, evaluator_ids, project: Project) -> list[Assignment]:
    """The assignments of the chosen evaluators on the item (locked): each answered it and is still an
    active evaluator of the project; every evaluator on the item has answered."""
    wanted = list(dict.fromkeys(evaluator_ids or ()))
    if not wanted:
        raise InvalidInput("Choose at least one evaluator to send the artefact back to.", field="evaluator_ids")
    assignments = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(item=item)
        .select_related("evaluator")
        .order_by("order")
    )
    answered = set(Annotation.objects.filter(assignment__item=item).values_list("assignment__evaluator_id", flat=True))
    if any(a.evaluator_id not in answered for a in assignments):
        raise Conflict("Someone's work on this artefact is still open; it cannot be sent back now.", field="item")
    by_evaluator = {a.evaluator_id: a for a in assignments}
    if any(evaluator_id not in by_evaluator for evaluator_id in wanted):
        raise InvalidInput("Only the evaluators who labelled this artefact can be asked again.", field="evaluator_ids")
    active = set(
        Membership.objects.filter(
            project=project, user_id__in=wanted, is_evaluator=True, is_active=True, user__is_active=True
        ).values_list("user_id", flat=True)
    )
    gone = sorted(by_evaluator[e].evaluator.username for e in wanted if e not in active)
    if gone:
        raise InvalidInput(f"No longer an active evaluator of the project: {', '.join(gone)}.", field="evaluator_ids")
    return [by_evaluator[e] for e in wanted]


def conflict_send_back(
    *, item_id: int, user, evaluator_ids: list[int], reason: str, project: Project | None = None
) -> RoundItem:
    """A moderator sends a conflict back to one or more of the evaluators who labelled it, saying why.

    Their assignments reopen (first in their queue, with the reason) so that they revise or confirm their
    answer; they are notified. The item leaves the conflict queue; once every one of them has answered it
    is decided again by the usual rules (agreement or a majority decides it, a disagreement asks for a
    tie-break or goes back to the moderators). The item left blind labelling: they read the reason and the
    discussion, never the other evaluators' labels. With `project`, an item of another project is not found."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the artefact goes back: the evaluators read it.", field="reason")
    if len(reason) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"A reason has at most {MAX_NOTE_LENGTH} characters.", field="reason")
    with transaction.atomic():
        item = _conflict_lock(item_id=item_id, user=user, project=project, doing="sent back")
        project = item.round.project
        if item.round.status == Round.Status.CLOSED:
            raise Conflict("The round is closed: nobody labels in it any more. Resolve the conflict.", field="item")
        chosen = _send_back_targets(item, evaluator_ids, project)
        now = timezone.now()
        chosen_ids = [a.id for a in chosen]
        # every other answer stands (answered means done, also where an older record left no completion time)
        Assignment.objects.filter(item=item, completed_at__isnull=True).exclude(id__in=chosen_ids).update(
            completed_at=now
        )
        Assignment.objects.filter(id__in=chosen_ids).update(
            completed_at=None, sent_back_at=now, sent_back_by=user, sent_back_reason=reason
        )
        names = [a.evaluator.username for a in chosen]
        item.status, item.sent_back = RoundItem.Status.LABELLING, True
        item.history = [*(item.history or []), _history_entry(event="sent back", user=user, to=names, reason=reason)]
        item.save(update_fields=["status", "sent_back", "history", "updated_at"])
        audit_record(
            action="conflict.send_back",
            project=project,
            target=f"item {item.id}",
            actor=user,
            details={"evaluators": names, "reason": reason},
        )
        for assignment in chosen:
            notification_send(
                users=[assignment.evaluator_id],
                project=project,
                kind=Notification.Kind.SENT_BACK,
                text=f"{user.username} sent an artefact of {item.round} back to you: revise or confirm your label.",
                url=f"/p/{project.slug}/a/{assignment.id}/",
            )
    return item


def label_name(text: str) -> tuple[str, bool]:
    """The label's display name as imported and whether it had to be shortened to fit the column.

    Imports keep history as it was: the core's length limit does not reject imported
    tags, but the column holds MAX_LABEL_LENGTH characters, so longer tags are cut
    (with an ellipsis) and the importer keeps the full text in the annotation's note."""
    name = clean_label(text)
    if len(name) <= MAX_LABEL_LENGTH:
        return name, False
    return name[: MAX_LABEL_LENGTH - 1].rstrip() + "…", True


def labels_bulk(*, project: Project, names: list[str], user=None) -> tuple[dict[str, int], int]:
    """{normalised name: label id} for `names` (display names), creating missing labels in bulk.

    Returns the mapping and how many labels were created."""
    wanted: dict[str, str] = {}
    for name in names:
        key = normalise_label(name)
        if key and key not in wanted:
            wanted[key] = name
    ids: dict[str, int] = {}
    keys = list(wanted)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        ids.update(Label.objects.filter(project=project, normalised__in=chunk).values_list("normalised", "id"))
    missing = [Label(project=project, name=wanted[k], normalised=k, created_by=user) for k in keys if k not in ids]
    if missing:
        Label.objects.bulk_create(missing, batch_size=500, ignore_conflicts=True)
        created_keys = [label.normalised for label in missing]
        for start in range(0, len(created_keys), 500):
            chunk = created_keys[start : start + 500]
            ids.update(Label.objects.filter(project=project, normalised__in=chunk).values_list("normalised", "id"))
    return ids, len(missing)


log = logging.getLogger(__name__)


def escalations_dispatch(*, entries: list[tuple[int, int]]) -> int:
    """Send owed escalations, (outbox row id, item id) pairs, to Celery; a failure to send is recorded,
    never raised.

    Returns how many were sent. Without a broker (eager mode) the escalation runs here, and a
    successful one has already deleted its row: there is nothing left to mark."""
    sent = 0
    for entry_id, item_id in entries:
        try:
            result = tasks.item_escalate_task.apply_async(args=[item_id], retry=False)
        except Exception as exc:  # the broker is away: the row stays due, the sweeper tries again
            log.warning("escalation of item %s not sent: %s", item_id, exc)
            EscalationOutbox.objects.filter(id=entry_id).update(
                attempts=models.F("attempts") + 1, last_error=str(exc)[:300]
            )
            continue
        sent += 1
        if not (isinstance(result, EagerResult) and result.successful()):
            EscalationOutbox.objects.filter(id=entry_id).update(
                dispatched_at=timezone.now(), attempts=models.F("attempts") + 1
            )
    return sent


def escalations_sweep(*, resend_after: timedelta = timedelta(minutes=2), limit: int = 500) -> dict:
    """Escalate every item that is owed one and did not get it (the Celery beat sweeper runs this).

    Due: outbox rows never sent, or sent more than `resend_after` ago and still there (the worker died
    before finishing); and disagreed items with all their evaluators done and no outbox row (written
    before the outbox existed). Each runs `item_escalate` here, which is idempotent."""
    now = timezone.now()
    due = set(
        EscalationOutbox.objects.filter(
            Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - resend_after)
        ).values_list("item_id", flat=True)[:limit]
    )
    orphans = (
        RoundItem.objects.filter(status=RoundItem.Status.LABELLING, had_disagreement=True)
        .exclude(assignments__completed_at__isnull=True)
        .exclude(id__in=EscalationOutbox.objects.values("item_id"))
        .values_list("id", flat=True)[:limit]
    )
    due.update(orphans)
    outcomes = Counter()
    for item_id in sorted(due):
        try:
            outcomes[item_escalate(item_id=item_id)] += 1
        except Exception:  # one bad item must not stop the others
            log.exception("sweeping the escalation of item %s failed", item_id)
            outcomes["error"] += 1
    return {"items": len(due), **outcomes}


# --- a member leaves: their open work moves (core.signals.membership_deactivated) -------------

LEFT_REASON = "{who} left the project and {why}."


def assignments_move_from(*, membership: Membership, by=None) -> dict:
    """Move the open assignments of a member who is no longer an active evaluator.

    Each goes to another active evaluator of the same round who has never had the item (blindness,
    and never twice the same evaluator on an item), the least loaded first; with nobody left the
    item goes to the moderators with the reason. Returns what moved, for the lead to see."""
    project, leaving = membership.project, membership.user
    open_work = list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(
            evaluator=leaving,
            round__project=project,
            round__status=Round.Status.OPEN,
            completed_at__isnull=True,
            item__status=RoundItem.Status.LABELLING,
        )
        .select_related("round", "item__artefact")
        .order_by("round__number", "id")
    )
    report = {"moved": [], "to_moderators": []}
    revisions = [a for a in open_work if a.sent_back_at is not None]
    if revisions:
        _sent_back_close(revisions)
        open_work = [a for a in open_work if a.sent_back_at is None]
    if not open_work:
        return report
    active = set(
        Membership.objects.filter(project=project, is_active=True, is_evaluator=True, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )
    by_round: dict[int, list[Assignment]] = {}
    for assignment in open_work:
        by_round.setdefault(assignment.round_id, []).append(assignment)
    for round_id, assignments in by_round.items():
        _move_round_work(round_id, assignments, leaving=leaving, active=active, report=report)
    return report


def _sent_back_close(assignments: list[Assignment]) -> None:
    """Work sent back to a member who leaves is not moved (it carries their answer): the answer they gave
    stands, and an item nobody else still revises is decided again by the usual rules."""
    Assignment.objects.filter(id__in=[a.id for a in assignments]).update(completed_at=timezone.now())
    for item_id in sorted({a.item_id for a in assignments}):
        item = RoundItem.objects.select_for_update(of=("self",)).select_related("round__project").get(id=item_id)
        if item.sent_back and _sent_back_settled(item):
            item_evaluate(item=item)


def _move_round_work(round_id, assignments, *, leaving, active, report) -> None:
    rnd = assignments[0].round
    candidates = set(rnd.evaluators.values_list("id", flat=True)) & active
    item_ids = [a.item_id for a in assignments]
    seen: dict[int, set[int]] = {}
    for item_id, evaluator_id in Assignment.objects.filter(item_id__in=item_ids).values_list("item_id", "evaluator_id"):
        seen.setdefault(item_id, set()).add(evaluator_id)
    load = Counter(
        Assignment.objects.filter(round_id=round_id, completed_at__isnull=True, evaluator_id__in=candidates)
        .values_list("evaluator_id", flat=True)
        .iterator()
    )
    plan = reassign.plan_reassignment(
        open_work=[reassign.OpenWork(a.id, a.item_id) for a in assignments],
        leaving_user_id=leaving.id,
        candidates=candidates,
        seen=seen,
        load=load,
    )
    by_id = {a.id: a for a in assignments}
    names = dict(User.objects.filter(id__in={m.to_user_id for m in plan.moves}).values_list("id", "username"))
    for move in plan.moves:
        Assignment.objects.filter(id=move.assignment_id).update(evaluator_id=move.to_user_id)
        assignment = by_id[move.assignment_id]
        report["moved"].append(
            {
                "item": move.item_id,
                "round": rnd.number,
                "artefact": str(assignment.item.artefact)[:120],
                "to": names.get(move.to_user_id, ""),
            }
        )
    for sent in plan.to_moderators:
        item = by_id[sent.assignment_id].item
        _item_to_conflict(item, reason=LEFT_REASON.format(who=leaving.username, why=sent.reason)[:300])
        item.save(update_fields=["status", "is_conflict", "conflict_reason", "updated_at"])
        report["to_moderators"].append(
            {"item": item.id, "round": rnd.number, "artefact": str(item.artefact)[:120], "reason": item.conflict_reason}
        )


def on_membership_deactivated(sender, *, membership, by=None, **kwargs) -> dict:
    """Receiver of core.signals.membership_deactivated (connected in LabellingConfig.ready)."""
    return assignments_move_from(membership=membership, by=by)


# --- the discussion of a conflict ----------------------------------------------------------------


def comment_post(*, project: Project, item_id: int, user, body: str) -> Comment:
    """A participant writes in a conflict's discussion; the other participants are notified."""
    body = (body or "").strip()
    if not body:
        raise InvalidInput("Write something first.", field="body")
    if len(body) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"A comment has at most {MAX_NOTE_LENGTH} characters.", field="body")
    item, _ = selectors.discussion_of(project=project, item_id=item_id, user=user)
    comment = Comment.objects.create(item=item, author=user, body=body)
    others = [uid for uid in selectors.discussion_participants(item=item) if uid != user.id]
    notification_send(
        users=others,
        project=project,
        kind=Notification.Kind.DISCUSSION,
        text=f"{user.username} wrote in the discussion of a conflict in {item.round}.",
        url=f"/p/{project.slug}/conflicts/{item.id}/discussion/",
    )
    return comment
