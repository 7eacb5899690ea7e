"""Writes. Every service is keyword-only, named <entity>_<action>, runs in one
transaction and raises a DomainError (nothing written) when a rule is broken."""

import random
from collections import Counter

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from .errors import Conflict, InvalidInput, NotAllowed, NotFound
from .models import Annotation, Artefact, Assignment, Label, Membership, Project, Round, RoundItem, Verdict
from .planning import plan_pairs
from .text import MAX_LABEL_LENGTH, clean_label, normalise_label

ROLES = ("lead", "moderator", "evaluator")


# --- roles ------------------------------------------------------------------------


def membership_require(*, project: Project, user, roles: tuple[str, ...] = ()) -> Membership:
    """The user's active membership of the project holding one of `roles` (any role if empty).

    Non-members get NotFound, so that projects of others stay invisible."""
    if not getattr(user, "is_authenticated", False):
        raise NotAllowed("Log in first.")
    membership = Membership.objects.filter(project=project, user=user, is_active=True).first()
    if membership is None:
        raise NotFound("No such project.")
    if roles and not any(getattr(membership, f"is_{role}") for role in roles):
        raise NotAllowed(f"This needs the {' or '.join(roles)} role in {project}.")
    return membership


def membership_set(*, project: Project, user, lead=False, moderator=False, evaluator=False, active=True) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        project=project,
        user=user,
        defaults={"is_lead": lead, "is_moderator": moderator, "is_evaluator": evaluator, "is_active": active},
    )
    return membership


def project_create(
    *, name: str, slug: str, lead, description: str = "", max_evaluators_per_artefact: int = 3
) -> Project:
    if not (2 <= max_evaluators_per_artefact <= 10):
        raise InvalidInput("Must be between 2 and 10.", field="max_evaluators_per_artefact")
    if Project.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A project with slug {slug!r} exists already.", field="slug")
    with transaction.atomic():
        project = Project.objects.create(
            name=name, slug=slug, description=description, max_evaluators_per_artefact=max_evaluators_per_artefact
        )
        membership_set(project=project, user=lead, lead=True)
    return project


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


# --- rounds -----------------------------------------------------------------------


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
) -> Round:
    """A round over an explicit selection or a seeded random sample of the unlabelled pool.

    Each artefact goes to two evaluators; loads are balanced and pairs rotate."""
    membership_require(project=project, user=user, roles=("lead",))
    evaluators = list(
        Membership.objects.filter(project=project, user_id__in=evaluator_ids, is_evaluator=True, is_active=True)
        .order_by("user__username", "user_id")
        .values_list("user_id", flat=True)
    )
    unknown = set(evaluator_ids) - set(evaluators)
    if unknown:
        raise InvalidInput(f"Not active evaluators of this project: {sorted(unknown)}.", field="evaluator_ids")
    if len(evaluators) < 2:
        raise InvalidInput("A round needs at least two evaluators.", field="evaluator_ids")

    pool = Artefact.objects.filter(project=project).exclude(round_items__isnull=False)
    if (artefact_ids is None) == (sample_size is None):
        raise InvalidInput("Give either a selection of artefacts or a sample size.", field="sample_size")
    if artefact_ids is not None:
        chosen = list(pool.filter(id__in=artefact_ids).order_by("id").values_list("id", flat=True))
        missing = set(artefact_ids) - set(chosen)
        if missing:
            raise InvalidInput(f"Not in this project's unlabelled pool: {sorted(missing)[:20]}.", field="artefact_ids")
        if not chosen:
            raise InvalidInput("Select at least one artefact.", field="artefact_ids")
    else:
        if kinds:
            pool = pool.filter(kind__in=kinds)
        if frameworks:
            pool = pool.filter(framework__in=frameworks)
        candidates = list(pool.order_by("id").values_list("id", flat=True))
        if sample_size is None or sample_size < 1:
            raise InvalidInput("The sample size must be at least 1.", field="sample_size")
        if sample_size > len(candidates):
            raise InvalidInput(
                f"The pool has only {len(candidates)} unlabelled artefacts matching the filters; "
                f"cannot sample {sample_size}.",
                field="sample_size",
            )
        if seed is None:
            seed = random.SystemRandom().randrange(2**31)
        chosen = sorted(random.Random(seed).sample(candidates, sample_size))

    with transaction.atomic():
        if number is None:
            number = (Round.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1
        elif Round.objects.filter(project=project, number=number).exists():
            raise InvalidInput(f"Round {number} exists already.", field="number")
        rnd = Round.objects.create(
            project=project, number=number, name=name or f"Round {number}", seed=seed, created_by=user
        )
        rnd.evaluators.set(evaluators)
        items = RoundItem.objects.bulk_create([RoundItem(round=rnd, artefact_id=a) for a in chosen])
        assignments = []
        for item, (first, second) in zip(items, plan_pairs(evaluators, len(items)), strict=True):
            assignments.append(Assignment(round=rnd, item=item, evaluator_id=first, order=1))
            assignments.append(Assignment(round=rnd, item=item, evaluator_id=second, order=2))
        Assignment.objects.bulk_create(assignments)
    return rnd


def round_close(*, round: Round, user) -> Round:
    membership_require(project=round.project, user=user, roles=("lead",))
    round.status = Round.Status.CLOSED
    round.closed_at = timezone.now()
    round.save(update_fields=["status", "closed_at"])
    return round


# --- annotations and decisions --------------------------------------------------------


def annotation_submit(
    *, assignment_id: int, user, label: str | None = None, verdict: str | None = None, note: str = ""
) -> Annotation:
    """Submit or edit the user's annotation on their assignment.

    Exactly one of `label` (free text) or `verdict`. Editing is allowed until
    the item is decided. The item is re-evaluated in the same transaction; a
    disagreement schedules the escalation task after commit."""
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

    with transaction.atomic():
        assignment = Assignment.objects.select_related("round__project").filter(id=assignment_id).first()
        if assignment is None:
            raise NotFound("No such assignment.")
        project = assignment.round.project
        if assignment.evaluator_id != user.id:
            membership_require(project=project, user=user)  # non-members get 404
            raise NotAllowed("This assignment belongs to another evaluator.")
        membership_require(project=project, user=user, roles=("evaluator",))
        # Lock the item: submissions for the same artefact are serialised here.
        item = RoundItem.objects.select_for_update().get(id=assignment.item_id)
        if item.status != RoundItem.Status.LABELLING:
            raise Conflict("This artefact is decided already; annotations can no longer change.")
        if assignment.round.status == Round.Status.CLOSED:
            raise Conflict("This round is closed.")

        label_obj = label_get_or_create(project=project, name=label, user=user) if has_label else None
        annotation = Annotation.objects.filter(assignment=assignment).first()
        if annotation is None:
            annotation = Annotation(assignment=assignment)
        else:
            previous = str(annotation)
            if (annotation.label_id, annotation.verdict) != (label_obj.id if label_obj else None, verdict or ""):
                annotation.history = [*annotation.history, {"value": previous, "at": timezone.now().isoformat()}]
        annotation.label = label_obj
        annotation.verdict = "" if label_obj else verdict
        annotation.note = note or ""
        annotation.save()
        if assignment.completed_at is None:
            assignment.completed_at = timezone.now()
            assignment.save(update_fields=["completed_at"])
        item_evaluate(item=item)
    return annotation


def _decide(item: RoundItem, *, label_id: int | None, verdict: str, status: str) -> None:
    item.final_label_id = label_id
    item.final_verdict = verdict or ""
    item.taxonomy_label_id = label_id
    item.status = status
    item.decided_at = timezone.now()


def item_evaluate(*, item: RoundItem) -> str:
    """Decide, escalate or wait, from the item's annotations. The caller holds the item's lock.

    Returns what happened: "waiting", "agreed", "majority", "escalate" or "conflict"."""
    rows = list(
        Assignment.objects.filter(item=item)
        .order_by("order")
        .values_list("order", "annotation__label_id", "annotation__verdict")
    )
    answers = [(label_id, verdict or "") for _, label_id, verdict in rows if label_id or verdict]
    if len(answers) < len(rows) or len(answers) < 2:
        return "waiting"
    fields = [
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
    if len(answers) == 2 and answers[0] == answers[1]:
        _decide(item, label_id=answers[0][0], verdict=answers[0][1], status=RoundItem.Status.AGREED)
        item.save(update_fields=fields)
        return "agreed"
    item.had_disagreement = True
    counts = Counter(answers).most_common()
    if len(answers) >= 3 and counts[0][1] >= 2 and (len(counts) == 1 or counts[1][1] < counts[0][1]):
        (label_id, verdict), _ = counts[0]
        _decide(item, label_id=label_id, verdict=verdict, status=RoundItem.Status.MAJORITY)
        item.save(update_fields=fields)
        return "majority"
    if len(rows) >= item.round.project.max_evaluators_per_artefact:
        _item_to_conflict(item, reason=f"No majority after {len(rows)} evaluators.")
        item.save(update_fields=fields)
        return "conflict"
    item.save(update_fields=["had_disagreement", "updated_at"])
    from .tasks import item_escalate_task

    item_id = item.id
    transaction.on_commit(lambda: item_escalate_task.delay(item_id))
    return "escalate"


def _item_to_conflict(item: RoundItem, *, reason: str) -> None:
    item.status = RoundItem.Status.CONFLICT
    item.is_conflict = True
    item.conflict_reason = reason


def item_escalate(*, item_id: int) -> str:
    """Assign one more evaluator to a disagreed item, exactly once.

    Idempotent: a retried or duplicated call finds the extra assignment open (or
    the item decided) and does nothing. With no eligible evaluator the item goes
    to the moderators' conflict queue with that reason."""
    with transaction.atomic():
        item = RoundItem.objects.select_for_update().select_related("round__project").filter(id=item_id).first()
        if item is None or item.status != RoundItem.Status.LABELLING:
            return "noop"
        assigned = list(Assignment.objects.filter(item=item).values_list("evaluator_id", "order", "completed_at"))
        if len(assigned) < 2 or any(done is None for _, _, done in assigned):
            return "noop"  # still waiting for someone: nothing to escalate (yet or any more)
        project = item.round.project
        if len(assigned) >= project.max_evaluators_per_artefact:
            outcome = item_evaluate(item=item)
            return outcome
        on_item = [user_id for user_id, _, _ in assigned]
        candidate = (
            Membership.objects.filter(project=project, is_evaluator=True, is_active=True, user__is_active=True)
            .exclude(user_id__in=on_item)
            .annotate(
                open_in_round=Count(
                    "user__assignments",
                    filter=Q(user__assignments__round=item.round, user__assignments__completed_at__isnull=True),
                )
            )
            .order_by("open_in_round", "user__username", "user_id")
            .values_list("user_id", flat=True)
            .first()
        )
        if candidate is None:
            _item_to_conflict(item, reason="No eligible evaluator left to break the tie.")
            item.save(update_fields=["status", "is_conflict", "conflict_reason", "updated_at"])
            return "conflict"
        next_order = max(order for _, order, _ in assigned) + 1
        Assignment.objects.create(round=item.round, item=item, evaluator_id=candidate, order=next_order)
        item.round.evaluators.add(candidate)  # idempotent for many-to-many
        return "assigned"


def conflict_resolve(
    *,
    item_id: int,
    user,
    label: str | None = None,
    verdict: str | None = None,
    annotation_id: int | None = None,
    note: str = "",
) -> RoundItem:
    """A moderator decides a conflict: pick one annotation, or give a label or a verdict."""
    with transaction.atomic():
        item = RoundItem.objects.select_for_update().select_related("round__project").filter(id=item_id).first()
        if item is None:
            raise NotFound("No such artefact in a round.")
        project = item.round.project
        membership_require(project=project, user=user, roles=("moderator",))
        if item.status != RoundItem.Status.CONFLICT:
            raise Conflict("This artefact is not a conflict; only conflicts can be resolved.", field="item")
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
    return item
