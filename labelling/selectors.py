"""Reads. Plain functions returning querysets or values; aggregation happens in SQL."""

from django.contrib.auth import get_user_model
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)

from collection.models import Artefact
from collection.selectors import matching_artefact_ids
from core.errors import (
    NotAllowed,
    NotFound,
)
from core.models import Membership
from core.selectors import count_subquery
from core.text import normalise_label
from labelling import queries
from labelling.models import Annotation, Assignment, Comment, Label, Round, RoundItem

# --- pages (server-rendered views) ----------------------------------------------------
# Every list below is a single query (plus the paginator's COUNT); counts are SQL
# aggregates or correlated subqueries, so page query counts stay flat as data grows.


def evaluator_round_progress(*, project, user):
    """Rounds where the user has assignments, newest first, with `my_total`, `my_done`, `my_open`."""
    mine = Q(assignments__evaluator=user)
    return (
        Round.objects.filter(project=project)
        .annotate(
            my_total=Count("assignments", filter=mine),
            my_done=Count("assignments", filter=mine & Q(assignments__completed_at__isnull=False)),
        )
        .filter(my_total__gt=0)
        .order_by("-number")
    )


def evaluator_open_assignments(*, project, user, round_number: int | None = None):
    """The user's assignments still waiting for their annotation, in queue order (queries.QUEUE_ORDER:
    sent back first, then tie-breaks, then round number, then id)."""
    qs = Assignment.objects.filter(
        evaluator=user,
        round__project=project,
        round__status=Round.Status.OPEN,
        completed_at__isnull=True,
        item__status=RoundItem.Status.LABELLING,
    )
    if round_number is not None:
        qs = qs.filter(round__number=round_number)
    return qs.select_related("round", "item__artefact").order_by(*queries.QUEUE_ORDER)


def evaluator_assignment(*, project, user, assignment_id: int):
    """One of the user's own assignments with its item, artefact and annotation.

    Another evaluator's assignment is refused (403) and never rendered."""
    assignment = (
        Assignment.objects.select_related(
            "round", "item__artefact", "item__final_label", "item__resolved_by", "annotation__label", "sent_back_by"
        )
        .filter(id=assignment_id, round__project=project)
        .first()
    )
    if assignment is None:
        raise NotFound("No such assignment in this project.")
    if assignment.evaluator_id != user.id:
        raise NotAllowed("This assignment belongs to another evaluator.")
    return assignment


def _queue_after(assignment):
    n = assignment.round.number
    return Q(round__number__gt=n) | Q(round__number=n, id__gt=assignment.id)


def evaluator_neighbours(*, assignment) -> tuple[int | None, int | None]:
    """Ids of the previous and next of all the evaluator's assignments, answered ones too, by round
    number then id: browsing, as the page's "3 of 20 in Round 4" counts (not the open queue's order,
    which changes as work is answered)."""
    mine = Assignment.objects.filter(
        evaluator_id=assignment.evaluator_id, round__project_id=assignment.round.project_id
    )
    n = assignment.round.number
    before = Q(round__number__lt=n) | Q(round__number=n, id__lt=assignment.id)
    previous = mine.filter(before).order_by("-round__number", "-id").values_list("id", flat=True).first()
    following = (
        mine.filter(_queue_after(assignment)).order_by("round__number", "id").values_list("id", flat=True).first()
    )
    return previous, following


def evaluator_next_open(*, project, user, after=None):
    """The next open assignment in queue order (one query): what was sent back, then tie-breaks, as the
    queue page lists them first; then the rest of the user's work after `after` by round and id, wrapping
    round to the first; None when all done."""
    open_ = evaluator_open_assignments(project=project, user=user)
    if after is None:
        return open_.first()
    following = Case(
        When(queries.AHEAD_OF_THE_QUEUE, then=Value(0)),  # the queue's head, in queue order
        When(_queue_after(after), then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return (
        open_.exclude(id=after.id)
        .annotate(following=following)
        .order_by(*queries.QUEUE_ORDER[:2], F("following").desc(), *queries.QUEUE_ORDER[2:])
        .first()
    )


def item_annotations(*, item):
    """Every annotation on an item with its author, in assignment order.

    Callers show these only for decided items or to moderators on conflicts (blindness)."""
    return (
        Annotation.objects.filter(assignment__item=item)
        .select_related("assignment__evaluator", "label")
        .order_by("assignment__order")
    )


def label_suggestions(*, project, user, query: str = "", limit: int = 10):
    """Labels to suggest while `user` types, with usage counts, never leaking undecided labels of others.

    A label is offered only if it is in the lead's catalogue, is the decision of a
    decided item, or was used by `user` themself. `decided_count` counts decided
    items, `my_count` the user's own annotations; prefix matches come first."""
    key = normalise_label(query)
    decided = RoundItem.objects.filter(final_label=OuterRef("pk"), status__in=RoundItem.DECIDED)
    mine = Annotation.objects.filter(label=OuterRef("pk"), assignment__evaluator=user)
    qs = Label.objects.filter(project=project)
    if key:
        qs = qs.filter(normalised__contains=key)
    qs = qs.annotate(
        decided_count=count_subquery(decided, "final_label"),
        my_count=count_subquery(mine, "label"),
        prefix=Case(When(normalised__startswith=key, then=Value(0)), default=Value(1), output_field=IntegerField()),
    ).filter(Q(in_catalogue=True) | Q(decided_count__gt=0) | Q(my_count__gt=0))
    return qs.order_by("prefix", "-decided_count", "-my_count", "normalised")[:limit]


def evaluator_annotations(*, project, user):
    """The user's own annotations in the project, most recently changed first."""
    return (
        Annotation.objects.filter(assignment__evaluator=user, assignment__round__project=project)
        .select_related("label", "assignment__round", "assignment__item__artefact", "assignment__item__final_label")
        .order_by("-updated_at", "-id")
    )


def rounds_overview(*, project):
    """The project's rounds, newest first, with item and assignment counts for progress bars."""
    done = Assignment.objects.filter(round=OuterRef("pk"), completed_at__isnull=False)
    total = Assignment.objects.filter(round=OuterRef("pk"))
    return (
        Round.objects.filter(project=project)
        .annotate(
            items_total=Count("items"),
            items_decided=Count("items", filter=Q(items__status__in=RoundItem.DECIDED)),
            items_conflict=Count("items", filter=Q(items__status=RoundItem.Status.CONFLICT)),
            items_disagreed=Count("items", filter=Q(items__had_disagreement=True)),
            assignments_total=count_subquery(total, "round"),
            assignments_done=count_subquery(done, "round"),
        )
        .order_by("-number")
    )


def round_get(*, project, number: int):
    rnd = Round.objects.filter(project=project, number=number).first()
    if rnd is None:
        raise NotFound(f"No round {number} in this project.")
    return rnd


def round_summary(*, round) -> dict:
    """Item counts by status, disagreements and conflicts (counted separately), assignment
    progress and the percent agreement so far, in two aggregate queries.

    Percent agreement: of the items whose first two annotations are in, the share where
    they were equal (agreed), i.e. agreed / (agreed + had a disagreement)."""
    S = RoundItem.Status
    summary = RoundItem.objects.filter(round=round).aggregate(
        total=Count("id"),
        labelling=Count("id", filter=Q(status=S.LABELLING)),
        agreed=Count("id", filter=Q(status=S.AGREED)),
        majority=Count("id", filter=Q(status=S.MAJORITY)),
        conflict=Count("id", filter=Q(status=S.CONFLICT)),
        resolved=Count("id", filter=Q(status=S.RESOLVED)),
        disagreements=Count("id", filter=Q(had_disagreement=True)),
        open_disagreements=Count("id", filter=Q(had_disagreement=True, status=S.LABELLING)),
        conflicts=Count("id", filter=Q(is_conflict=True)),
    )
    summary.update(
        Assignment.objects.filter(round=round).aggregate(
            assignments=Count("id"), assignments_done=Count("id", filter=Q(completed_at__isnull=False))
        )
    )
    summary["decided"] = summary["agreed"] + summary["majority"] + summary["resolved"]
    compared = summary["agreed"] + summary["disagreements"]
    summary["compared"] = compared
    summary["percent_agreement"] = round_half(100 * summary["agreed"] / compared) if compared else None
    return summary


def round_half(value: float) -> float:
    return float(f"{value:.1f}")


def round_evaluator_progress(*, round):
    """Per evaluator in the round: assignments total, done and extra (third or later), by username."""
    return (
        Assignment.objects.filter(round=round)
        .values("evaluator_id", "evaluator__username")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(completed_at__isnull=False)),
            extra=Count("id", filter=Q(order__gt=2)),
        )
        .order_by("evaluator__username")
    )


def round_open_items(*, round, status: str, disagreed: bool | None = None):
    """Items of a round in a status (e.g. open disagreements: labelling + disagreed), with artefacts."""
    qs = RoundItem.objects.filter(round=round, status=status)
    if disagreed is not None:
        qs = qs.filter(had_disagreement=disagreed)
    return qs.select_related("artefact").order_by("id")


def conflict_queue(*, project, resolved: bool = False, round_number: int | None = None):
    """Open conflicts (or resolved ones) of the project with their annotation count."""
    qs = RoundItem.objects.filter(round__project=project)
    if resolved:
        qs = qs.filter(is_conflict=True, status=RoundItem.Status.RESOLVED).order_by("-resolved_at", "-id")
    else:
        qs = qs.filter(status=RoundItem.Status.CONFLICT).order_by("round__number", "id")
    if round_number is not None:
        qs = qs.filter(round__number=round_number)
    return qs.select_related("artefact", "round", "final_label", "resolved_by").annotate(
        n_annotations=Count("assignments__annotation")
    )


def conflict_item(*, project, item_id: int):
    """An item that reached the moderators (open or resolved); anything else is not shown here."""
    item = (
        RoundItem.objects.select_related("artefact", "round", "final_label", "resolved_by")
        .filter(id=item_id, round__project=project, is_conflict=True)
        .first()
    )
    if item is None:
        raise NotFound("No such conflict in this project.")
    return item


def conflict_next_open(*, project, after_id: int | None = None):
    qs = RoundItem.objects.filter(round__project=project, status=RoundItem.Status.CONFLICT).order_by(
        "round__number", "id"
    )
    if after_id is not None:
        qs = qs.exclude(id=after_id)
    return qs.values_list("id", flat=True).first()


def label_catalogue(*, project, user, blind: bool, query: str = "", label_id: int | None = None):
    """The project's labels with `annotation_count` and `decided_count`.

    With `blind` (the lead also evaluates) only labels an evaluator may see are listed:
    catalogue labels, decisions of decided items and the user's own labels; and
    `annotation_count` counts only annotations an evaluator may see (on decided items,
    or the user's own), so a count never tells another evaluator's undecided label.
    `label_id`: that one label, listed or not (the answer to the lead's own edit of it)."""
    decided = RoundItem.objects.filter(final_label=OuterRef("pk"), status__in=RoundItem.DECIDED)
    used = Annotation.objects.filter(label=OuterRef("pk"))
    mine = Annotation.objects.filter(label=OuterRef("pk"), assignment__evaluator=user)
    if blind:
        used = used.filter(Q(assignment__item__status__in=RoundItem.DECIDED) | Q(assignment__evaluator=user))
    qs = Label.objects.filter(project=project).annotate(
        annotation_count=count_subquery(used, "label"), decided_count=count_subquery(decided, "final_label")
    )
    if label_id is not None:
        return qs.filter(pk=label_id)
    if blind:
        qs = qs.annotate(my_count=count_subquery(mine, "label")).filter(
            Q(in_catalogue=True) | Q(decided_count__gt=0) | Q(my_count__gt=0)
        )
    key = normalise_label(query)
    if key:
        qs = qs.filter(normalised__contains=key)
    return qs.order_by("normalised")


def label_get(*, project, label_id: int):
    label = Label.objects.filter(project=project, id=label_id).first()
    if label is None:
        raise NotFound("No such label in this project.")
    return label


def label_get_by_name(*, project, name: str):
    return Label.objects.filter(project=project, normalised=normalise_label(name)).first()


def artefact_list(
    *, project, query: str = "", kind: str = "", framework: str = "", pool: str = "", vocabulary: bool = False
):
    """The project's artefacts filtered and searched, with `in_rounds` (how many rounds include each);
    `vocabulary`: only those matching the (final) relevance vocabulary."""
    qs = Artefact.objects.filter(project=project)
    if vocabulary:
        qs = qs.filter(id__in=matching_artefact_ids(project=project))
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(url__icontains=query) | Q(body__icontains=query))
    if kind:
        qs = qs.filter(kind=kind)
    if framework:
        qs = qs.filter(framework=framework)
    if pool == "pool":
        qs = qs.filter(round_items__isnull=True)
    elif pool == "rounds":
        qs = qs.filter(round_items__isnull=False).distinct()
    return qs.annotate(in_rounds=Count("round_items", distinct=True)).order_by("id")


def artefact_frameworks(*, project) -> list[str]:
    return list(
        Artefact.objects.filter(project=project)
        .exclude(framework="")
        .order_by("framework")
        .values_list("framework", flat=True)
        .distinct()
    )


def artefact_counts(*, project) -> dict:
    return Artefact.objects.filter(project=project).aggregate(
        total=Count("id"), pool=Count("id", filter=Q(round_items__isnull=True))
    )


def active_evaluators(*, project):
    """Users holding the active evaluator role, by username (choices for a new round)."""
    return (
        get_user_model()
        .objects.filter(memberships__project=project, memberships__is_evaluator=True, memberships__is_active=True)
        .order_by("username", "id")
    )


# --- API (labelling/api) ----------------------------------------------------------------
# The API reuses the page selectors above where they fit; these add what only the API needs.
# Querysets select or prefetch everything their serializers read: query counts stay flat.


ARTEFACT_STATUSES = ("pool", "decided", *RoundItem.Status.values)


def artefacts_filtered(
    *,
    project,
    kind: str = "",
    framework: str = "",
    round_number: int | None = None,
    status: str = "",
    vocabulary: bool = False,
):
    """The project's artefacts with their round items (round, status, decision) prefetched.

    `status`: `pool` (in no round yet), `decided`, or a round item status; `vocabulary`: only
    those matching the (final) relevance vocabulary."""
    qs = Artefact.objects.filter(project=project)
    if vocabulary:
        qs = qs.filter(id__in=matching_artefact_ids(project=project))
    if kind:
        qs = qs.filter(kind=kind)
    if framework:
        qs = qs.filter(framework=framework)
    items = RoundItem.objects.all()
    if round_number is not None:
        items = items.filter(round__number=round_number)
    if status == "pool":
        qs = qs.filter(round_items__isnull=True)
    elif status == "decided":
        items = items.filter(status__in=RoundItem.DECIDED)
    elif status:
        items = items.filter(status=status)
    if round_number is not None or status not in ("", "pool"):
        qs = qs.filter(Exists(items.filter(artefact=OuterRef("pk"))))
    return qs.prefetch_related(
        Prefetch(
            "round_items",
            queryset=RoundItem.objects.select_related("round", "final_label").order_by("round__number"),
        )
    ).order_by("id")


def assignments_mine(*, project, user, round_number: int | None = None, state: str = ""):
    """The user's own assignments in the project: open ones first (those a moderator sent back first of
    all), then by round and id.

    `state`: `open` (no annotation yet), `done`, or empty for both."""
    qs = Assignment.objects.filter(evaluator=user, round__project=project)
    if round_number is not None:
        qs = qs.filter(round__number=round_number)
    if state == "open":
        qs = qs.filter(completed_at__isnull=True)
    elif state == "done":
        qs = qs.filter(completed_at__isnull=False)
    return (
        qs.select_related("round", "item__artefact", "item__final_label", "annotation__label")
        .annotate(sent_back_first=Case(When(completed_at__isnull=True, then=queries.SENT_BACK_FIRST), default=Value(0)))
        .order_by(F("completed_at").asc(nulls_first=True), "-sent_back_first", "round__number", "id")
    )


# --- the next assignment -------------------------------------------------------------------------
# Read on every labelling operation, so in plain SQL prepared once per session (labelling/queries.py).


_NO_OPEN_WORK = object()  # what the fast path says when the user has no open work in an open round


def _next_open_fast(*, project, user):
    """The next assignment, None when it is not on the fast path, or _NO_OPEN_WORK."""
    found = queries.NEXT_OPEN.fetch(
        user=user.id, project=project.id, labelling=RoundItem.Status.LABELLING.value, open=Round.Status.OPEN.value
    )
    assignment, rnd, item, artefact, annotation, label, missing = found
    if assignment is None:
        return _NO_OPEN_WORK if missing == 2 else None
    item.artefact = artefact
    item.round = assignment.round = rnd
    assignment.item = item
    # As select_related("annotation__label") leaves them: read without further queries, also when missing.
    Assignment.annotation.related.set_cached_value(assignment, annotation)
    if annotation is not None:
        annotation.assignment = assignment
        annotation.label = label
    return assignment


def assignment_next(*, project, user):
    """The user's next open assignment (open round, item still being labelled), or None.

    The queue page's order (`evaluator_open_assignments`: sent back first, then tie-breaks,
    then round number, then id). The fast path is one query: the first open assignment sent
    back (partial index `assignment_open_sent_back`), else the first tie-break (partial index
    `assignment_open_tie_break`), else the first open round holding open work of the user
    and its first open assignment by id (partial index `assignment_open_queue`), each whose
    item is being labelled; all read a handful of index rows however large the project grows.
    (An open assignment on a decided item cannot arise in Concord's own flow: items are
    decided only when every assignment is answered.) When the fast path finds nothing although
    the user has open work in an open round (it says which in the same query), the general
    query decides, so the answer is the same in every case."""
    found = _next_open_fast(project=project, user=user)
    if found is _NO_OPEN_WORK:  # no open work in an open round of the project: nothing to look for
        return None
    if found is None:
        related = ("round", "item__artefact", "annotation__label")
        found = evaluator_open_assignments(project=project, user=user).select_related(*related).first()
    return found


def conflicts_with_annotations(*, project, resolved: bool = False, round_number: int | None = None):
    """Conflicts (open, or resolved with `resolved`) with every annotation and its author prefetched.

    Only for moderators: these items reached the moderators, every label on them is in."""
    assignments = Assignment.objects.select_related("evaluator", "annotation__label").order_by("order")
    return conflict_queue(project=project, resolved=resolved, round_number=round_number).prefetch_related(
        Prefetch("assignments", queryset=assignments)
    )


# --- exports and blind labelling ---------------------------------------------------------------


def exports_require_unblinded(*, project, user, round_number: int | None = None) -> None:
    """Exports show every evaluator's labels: not to someone with artefacts of their own still to label,
    nor to an evaluator of the project while another evaluator's label sits on an artefact still being
    labelled in an open round: their own annotation on it stays editable until it is decided, and they
    may yet be asked to break its tie (blind labelling)."""
    open_work = Assignment.objects.filter(
        round__project=project, evaluator=user, completed_at__isnull=True, item__status=RoundItem.Status.LABELLING
    )
    if round_number is not None:
        open_work = open_work.filter(round__number=round_number)
    if open_work.exists():
        raise NotAllowed(
            "You still have artefacts to label here; exports show every evaluator's labels, "
            "so they open once you have submitted yours (blind labelling)."
        )
    if not Membership.objects.filter(project=project, user=user, is_active=True, is_evaluator=True).exists():
        return
    undecided = Annotation.objects.filter(
        assignment__round__project=project,
        assignment__round__status=Round.Status.OPEN,
        assignment__item__status=RoundItem.Status.LABELLING,
    ).exclude(assignment__evaluator=user)
    if round_number is not None:
        undecided = undecided.filter(assignment__round__number=round_number)
    if undecided.exists():
        raise NotAllowed(
            "You also evaluate in this project, and other evaluators' labels sit on artefacts still being "
            "labelled; exports show every label, so they open once those artefacts are decided (blind labelling)."
        )


def round_list(*, project):
    """The project's rounds by number."""
    return list(
        Round.objects.filter(project=project).order_by("number").only("id", "number", "name", "source", "status")
    )


def round_next_number(*, project) -> int:
    return (Round.objects.filter(project=project).aggregate(n=Max("number"))["n"] or 0) + 1


def conflict_with_annotations(*, item_id: int) -> RoundItem:
    """A conflict's item with every annotation and its author (for moderators)."""
    assignments = Assignment.objects.select_related("evaluator", "annotation__label").order_by("order")
    return (
        RoundItem.objects.select_related("artefact", "round", "final_label", "resolved_by")
        .prefetch_related(Prefetch("assignments", queryset=assignments))
        .get(pk=item_id)
    )


def item_label_names(*, project, item_id: int) -> list[str]:
    """The labels evaluators gave an item of the project (NotFound for an item of another project)."""
    if not RoundItem.objects.filter(id=item_id, round__project=project).exists():
        raise NotFound("No such item.", field="item")
    return list(
        Annotation.objects.filter(assignment__item_id=item_id, label__isnull=False)
        .values_list("label__name", flat=True)
        .distinct()
    )


# --- the codebook and the labelling page's bearings (issue 9) ------------------------------------


def labels_visible(*, project, user):
    """Labels `user` may see without breaking blindness: the lead's catalogue, decisions of decided
    items and the user's own labels (the same rule as the autocomplete), by name."""
    decided = RoundItem.objects.filter(final_label=OuterRef("pk"), status__in=RoundItem.DECIDED)
    mine = Annotation.objects.filter(label=OuterRef("pk"), assignment__evaluator=user)
    return (
        Label.objects.filter(project=project)
        .filter(Q(in_catalogue=True) | Exists(decided) | Exists(mine))
        .order_by("normalised")
    )


def evaluator_queue(*, project, user, round_number: int | None = None):
    """The queue page's order: items a moderator sent back first, then tie-breaks (a third or later
    evaluator on a disagreed item), then round and id; each row has `is_tie_break` (and, being open,
    `is_sent_back` when it was sent back, with its reason and the moderator)."""
    return (
        evaluator_open_assignments(project=project, user=user, round_number=round_number)
        .select_related("sent_back_by")
        .annotate(is_tie_break=queries.TIE_BREAK_FIRST, sent_back_first=queries.SENT_BACK_FIRST)
        .order_by("-sent_back_first", "-is_tie_break", "round__number", "id")
    )


def assignment_editable(*, assignment) -> bool:
    """Whether the evaluator may still submit or change their answer: the item is being labelled in an
    open round and, when a moderator sent it back, the assignment is one of those it went back to."""
    item = assignment.item
    if item.status != RoundItem.Status.LABELLING or assignment.round.status != Round.Status.OPEN:
        return False
    return not (item.sent_back and assignment.completed_at is not None)


def conflict_sent_back(*, item) -> list:
    """The assignments of a sent-back item still waiting for their evaluator's answer, with the moderator."""
    return list(
        Assignment.objects.filter(item=item, sent_back_at__isnull=False, completed_at__isnull=True)
        .select_related("evaluator", "sent_back_by")
        .order_by("order")
    )


def evaluator_round_position(*, assignment) -> tuple[int, int]:
    """(position, total) of `assignment` among its evaluator's assignments of its round, by id."""
    mine = Assignment.objects.filter(evaluator_id=assignment.evaluator_id, round_id=assignment.round_id)
    return mine.filter(id__lte=assignment.id).count(), mine.count()


def evaluator_continue(*, project, user):
    """The open assignment to continue with: the first in queue order of the round holding the
    user's oldest open work (None when nothing is open)."""
    oldest = evaluator_open_assignments(project=project, user=user).order_by("created_at", "id").first()
    if oldest is None:
        return None
    return evaluator_queue(project=project, user=user, round_number=oldest.round.number).first()


def discussion_of(*, project, item_id: int, user):
    """(item, comments) of a conflict's discussion for a participant: a moderator or lead of the project,
    or an evaluator on the item. Items still in blind labelling have no discussion (NotFound); a conflict
    a moderator sent back to evaluators left blind labelling, and keeps it."""
    item = (
        RoundItem.objects.select_related("artefact", "round")
        .filter(id=item_id, round__project=project, is_conflict=True)
        .exclude(status=RoundItem.Status.LABELLING, sent_back=False)
        .first()
    )
    if item is None:
        raise NotFound("No discussion here: the item is not a conflict (or still being labelled blind).")
    membership = Membership.objects.filter(project=project, user=user, is_active=True).first()
    involved = Assignment.objects.filter(item=item, evaluator=user).exists()
    if membership is None or not (membership.is_moderator or membership.is_lead or involved):
        raise NotAllowed("Only the moderators and the evaluators of this item take part in its discussion.")
    comments = Comment.objects.filter(item=item).select_related("author").order_by("created_at", "id")
    return item, comments


def discussion_participants(*, item) -> list[int]:
    """User ids of the project's active moderators and the evaluators on the item."""
    moderators = Membership.objects.filter(project_id=item.round.project_id, is_moderator=True, is_active=True)
    ids = set(moderators.values_list("user_id", flat=True))
    ids |= set(Assignment.objects.filter(item=item).values_list("evaluator_id", flat=True))
    return sorted(ids)
