"""The labelling loop's hot queries in plain SQL (see core.prepared), each beside its ORM equivalent.

The SQL runs while CONCORD_PREPARED_SQL is on (the default); the ORM equivalent runs when it is off,
and tests (tests/labelling/test_prepared_reads.py) compare the two in every state."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, Subquery, Value, When

from collection.models import Artefact
from core.models import Membership, Notification, Project
from core.prepared import (
    PreparedRead,
    PreparedWrite,
)
from labelling.models import Annotation, Assignment, EscalationOutbox, Label, Round, RoundItem

# The assignment with its round, project and item, the item's row locked (only that row: submissions
# for the same artefact are serialised here), and the project's label with a normalised name, if any.
User = get_user_model()


# --- the queue's order ------------------------------------------------------------------------------
# An evaluator's open work in queue order (the queue page, `next` in the API, the page's next after a
# submission): what a moderator sent back first, then tie-breaks (a third or later evaluator on a
# disagreed item), then round number, then id. Read on open assignments, where a set `sent_back_at`
# means sent back and not answered again yet.

SENT_BACK_FIRST = Case(When(sent_back_at__isnull=False, then=Value(1)), default=Value(0), output_field=IntegerField())
TIE_BREAK_FIRST = Case(When(order__gt=2, then=Value(1)), default=Value(0), output_field=IntegerField())
QUEUE_ORDER = (SENT_BACK_FIRST.desc(), TIE_BREAK_FIRST.desc(), "round__number", "id")
# The open work that comes before the rest (the partial indexes assignment_open_sent_back and
# assignment_open_tie_break hold it: a handful of rows per evaluator).
AHEAD_OF_THE_QUEUE = Q(sent_back_at__isnull=False) | Q(order__gt=2)


# --- the ORM equivalents -----------------------------------------------------------------------------


def _assignment_for_submit_orm(*, assignment, key):
    found = Assignment.objects.filter(id=assignment).select_related("round__project").order_by().first()
    if found is None:
        return []
    item = RoundItem.objects.select_for_update(of=("self",)).get(id=found.item_id)
    rnd = found.round
    label = Label.objects.filter(project_id=rnd.project_id, normalised=key).values_list("id", "name").first()
    return [(found, rnd, item, rnd.project, *(label or (None, None)))]


def _item_answers_orm(*, item):
    rows = []
    for a in Assignment.objects.filter(item_id=item).select_related("annotation__label").order_by("order"):
        n = getattr(a, "annotation", None)
        label = n.label if n is not None else None
        rows.append((label, a.id, a.order, *((n.id, n.label_id, n.verdict) if n is not None else (None,) * 3)))
    return rows


def _annotation_insert_orm(*, assignment, label, verdict, note, history, now):
    created = Annotation.objects.create(
        assignment_id=assignment, label_id=label, verdict=verdict, note=note, history=history
    )
    Annotation.objects.filter(id=created.id).update(created_at=now, updated_at=now)
    return (created.id,)


def _assignment_done_orm(*, assignment, now):
    Assignment.objects.filter(id=assignment).update(completed_at=now)


def _item_for_escalation_orm(*, item):
    # The round is locked too (FOR NO KEY UPDATE; the SQL share-locks it): closing waits for a running
    # escalation, and escalations in a round wait for each other (the SQL lets them run side by side).
    found = (
        RoundItem.objects.select_related("round__project")
        .select_for_update(of=("self", "round"), no_key=True)
        .filter(id=item)
        .order_by()
        .first()
    )
    if found is None:
        return []
    return [(found, found.round, found.round.project)]


def _item_assigned_orm(*, item):
    rows = (
        Assignment.objects.filter(item_id=item).order_by("order").values_list("evaluator_id", "order", "completed_at")
    )
    return [(evaluator, order, int(completed is None)) for evaluator, order, completed in rows]


def _escalation_candidate_orm(*, project, item, round):
    on_item = Assignment.objects.filter(item_id=item, evaluator_id=OuterRef("user_id"))
    in_round = Round.evaluators.through.objects.filter(round_id=round, user_id=OuterRef("user_id"))
    rows = (
        Membership.objects.filter(project_id=project, is_evaluator=True, is_active=True, user__is_active=True)
        .exclude(Exists(on_item))
        .annotate(
            open_work=Count(
                "user__assignments",
                filter=Q(user__assignments__round_id=round, user__assignments__completed_at__isnull=True),
            ),
            in_round=Exists(in_round),
        )
        .order_by("open_work", "user__username", "user_id")
        .values_list("user_id", "in_round")[:1]
    )
    return list(rows)


def _next_open_orm(*, user, project, labelling, open):
    """The user's first open assignment in queue order (QUEUE_ORDER) whose item is being labelled, or a row
    saying whether they have open work in an open round at all (1) or none (2). As the SQL reads it: the
    first of what was sent back or is a tie-break, else the first by id in the first open round (by
    number) holding open work of the user; when that round holds none being labelled, 1."""
    work = Assignment.objects.filter(
        evaluator_id=user, completed_at__isnull=True, round__project_id=project, round__status=open
    )
    ahead = work.filter(AHEAD_OF_THE_QUEUE, item__status=labelling).order_by(*QUEUE_ORDER).values("id")[:1]
    first = work.order_by("round__number").annotate(ahead=Subquery(ahead)).values_list("round_id", "ahead").first()
    if first is None:
        return [(None, None, None, None, None, None, 2)]
    first_round, ahead_id = first
    candidates = (
        Assignment.objects.filter(id=ahead_id)
        if ahead_id is not None
        else work.filter(round_id=first_round, item__status=labelling)
    )
    found = candidates.select_related("round", "item__artefact", "annotation__label").order_by("id").first()
    if found is None:
        return [(None, None, None, None, None, None, 1)]
    annotation = getattr(found, "annotation", None)
    label = annotation.label if annotation is not None else None
    return [(found, found.round, found.item, found.item.artefact, annotation, label, 0)]


# --- the statements --------------------------------------------------------------------------------

# The assignment's columns the labelling loop reads (the send-back ones: the page and the API show them).
ASSIGNMENT_COLUMNS = (
    *("id", "round_id", "item_id", "evaluator_id", "order", "created_at", "completed_at"),
    *("sent_back_at", "sent_back_reason"),
)


def _item_escalation_owed_orm(*, item, now):
    RoundItem.objects.filter(id=item).update(had_disagreement=True, updated_at=now)
    entry = EscalationOutbox.objects.create(item_id=item)
    EscalationOutbox.objects.filter(id=entry.id).update(created_at=now)
    return (entry.id,)


def _escalation_assign_orm(*, round, item, evaluator, order, project, kind, text, url, now):
    assignment = Assignment.objects.create(round_id=round, item_id=item, evaluator_id=evaluator, order=order)
    Assignment.objects.filter(id=assignment.id).update(created_at=now)
    notification = Notification.objects.create(
        user_id=evaluator, project_id=project, kind=kind, text=text, url=f"{url}{assignment.id}/"
    )
    Notification.objects.filter(id=notification.id).update(created_at=now)
    EscalationOutbox.objects.filter(item_id=item).delete()
    return (assignment.id,)


ASSIGNMENT_FOR_SUBMIT = PreparedRead(
    "concord_assignment_for_submit",
    orm=_assignment_for_submit_orm,
    tables=(
        ("a", Assignment, ASSIGNMENT_COLUMNS),
        ("r", Round, ("id", "project_id", "number", "name", "status")),
        ("i", RoundItem, tuple(f.attname for f in RoundItem._meta.concrete_fields)),
        ("p", Project, tuple(f.attname for f in Project._meta.concrete_fields)),
    ),
    params=(("assignment", "bigint"), ("key", "text")),
    build=lambda n: (
        [
            f"(SELECT l.{n.col(Label, field)} FROM {n.table(Label)} l WHERE l.{n.col(Label, 'project')}"
            f" = r.{n.col(Round, 'project')} AND l.{n.col(Label, 'normalised')} = %(key)s)"
            for field in ("id", "name")
        ],
        f"FROM {n.table(Assignment)} a"
        f" INNER JOIN {n.table(Round)} r ON r.{n.col(Round, 'id')} = a.{n.col(Assignment, 'round')}"
        f" INNER JOIN {n.table(RoundItem)} i ON i.{n.col(RoundItem, 'id')} = a.{n.col(Assignment, 'item')}"
        f" INNER JOIN {n.table(Project)} p ON p.{n.col(Project, 'id')} = r.{n.col(Round, 'project')}"
        f" WHERE a.{n.col(Assignment, 'id')} = %(assignment)s" + n.for_update_of("i"),
    ),
)


# Every assignment of an item in order, with its annotation's id and answer (None where not answered):
# (the answer's label or None, assignment id, order, annotation id, label id, verdict). The labels come
# along so that a decision for any of them is shown without reading its name again.
ITEM_ANSWERS = PreparedRead(
    "concord_item_answers",
    orm=_item_answers_orm,
    tables=(("l", Label, ("id", "name")),),
    params=(("item", "bigint"),),
    build=lambda n: (
        [f"a.{n.col(Assignment, 'id')}", f"a.{n.col(Assignment, 'order')}"]
        + [f"n.{n.col(Annotation, field)}" for field in ("id", "label", "verdict")],
        f"FROM {n.table(Assignment)} a LEFT OUTER JOIN {n.table(Annotation)} n"
        f" ON n.{n.col(Annotation, 'assignment')} = a.{n.col(Assignment, 'id')}"
        f" LEFT OUTER JOIN {n.table(Label)} l ON l.{n.col(Label, 'id')} = n.{n.col(Annotation, 'label')}"
        f" WHERE a.{n.col(Assignment, 'item')} = %(item)s ORDER BY a.{n.col(Assignment, 'order')}",
    ),
)


# A first answer: the annotation (every column, so a field added to the model fails here, not silently)…
ANNOTATION_FIELDS = ("id", "assignment_id", "label_id", "verdict", "note", "history", "created_at", "updated_at")
assert tuple(f.attname for f in Annotation._meta.concrete_fields) == ANNOTATION_FIELDS, "update the INSERT below"


ANNOTATION_INSERT = PreparedWrite(
    "concord_annotation_insert",
    orm=_annotation_insert_orm,
    params=(
        *(("assignment", "bigint"), ("label", "bigint"), ("verdict", "text"), ("note", "text")),
        *(("history", "jsonb"), ("now", "timestamptz")),
    ),
    prep={"history": (Annotation, "history"), "now": (Annotation, "created_at")},
    statement=lambda n: (
        f"INSERT INTO {n.table(Annotation)} ({', '.join(n.col(Annotation, f) for f in ANNOTATION_FIELDS[1:])})"
        " VALUES (%(assignment)s, %(label)s, %(verdict)s, %(note)s, %(history)s, %(now)s, %(now)s)"
        f" RETURNING {n.col(Annotation, 'id')}"
    ),
)


# …and the assignment done.
ASSIGNMENT_DONE = PreparedWrite(
    "concord_assignment_done",
    orm=_assignment_done_orm,
    params=(("assignment", "bigint"), ("now", "timestamptz")),
    prep={"now": (Assignment, "completed_at")},
    statement=lambda n: (
        f"UPDATE {n.table(Assignment)} SET {n.col(Assignment, 'completed_at')} = %(now)s"
        f" WHERE {n.col(Assignment, 'id')} = %(assignment)s"
    ),
)


# The item with its round and project. The item's row is locked (as a submission locks it); the round's
# row is share-locked: escalations do not wait for each other, but closing the round (an UPDATE) waits
# for the running ones, and one starting after the close waits for it and reads the closed status.
ITEM_FOR_ESCALATION = PreparedRead(
    "concord_item_for_escalation",
    orm=_item_for_escalation_orm,
    tables=(
        ("i", RoundItem, tuple(f.attname for f in RoundItem._meta.concrete_fields)),
        ("r", Round, tuple(f.attname for f in Round._meta.concrete_fields)),
        ("p", Project, tuple(f.attname for f in Project._meta.concrete_fields)),
    ),
    params=(("item", "bigint"),),
    build=lambda n: (
        [],
        f"FROM {n.table(RoundItem)} i"
        f" INNER JOIN {n.table(Round)} r ON r.{n.col(Round, 'id')} = i.{n.col(RoundItem, 'round')}"
        f" INNER JOIN {n.table(Project)} p ON p.{n.col(Project, 'id')} = r.{n.col(Round, 'project')}"
        f" WHERE i.{n.col(RoundItem, 'id')} = %(item)s" + n.locking("FOR UPDATE OF i FOR SHARE OF r"),
    ),
)


# Who is on an item, in order, and whether their assignment is still open.
ITEM_ASSIGNED = PreparedRead(
    "concord_item_assigned",
    orm=_item_assigned_orm,
    tables=(),
    params=(("item", "bigint"),),
    build=lambda n: (
        [
            f"a.{n.col(Assignment, 'evaluator')}",
            f"a.{n.col(Assignment, 'order')}",
            f"CASE WHEN a.{n.col(Assignment, 'completed_at')} IS NULL THEN 1 ELSE 0 END",
        ],
        f"FROM {n.table(Assignment)} a WHERE a.{n.col(Assignment, 'item')} = %(item)s"
        f" ORDER BY a.{n.col(Assignment, 'order')}",
    ),
)


# The extra evaluator for an item: an active member with the evaluator role (an active user) not yet on
# the item, with the fewest open assignments in the round, ties broken by username then id. The count
# per member reads only that evaluator's open work in the round (the partial index assignment_open_queue).
ESCALATION_CANDIDATE = PreparedRead(
    "concord_escalation_candidate",
    orm=_escalation_candidate_orm,
    tables=(),
    params=(("project", "bigint"), ("item", "bigint"), ("round", "bigint")),
    build=lambda n: (
        [
            f"m.{n.col(Membership, 'user')}",
            # whether they take part in the round already (then the round's evaluators need no insert)
            f"EXISTS (SELECT 1 FROM {n.quote(Round.evaluators.through._meta.db_table)} e"
            f" WHERE e.{n.col(Round.evaluators.through, 'round')} = %(round)s"
            f" AND e.{n.col(Round.evaluators.through, 'user')} = m.{n.col(Membership, 'user')})",
        ],
        f"FROM {n.table(Membership)} m INNER JOIN {n.table(User)} u"
        f" ON u.{n.col(User, 'id')} = m.{n.col(Membership, 'user')}"
        f" WHERE m.{n.col(Membership, 'project')} = %(project)s AND m.{n.col(Membership, 'is_evaluator')}"
        f" AND m.{n.col(Membership, 'is_active')} AND u.{n.col(User, 'is_active')}"
        f" AND NOT EXISTS (SELECT 1 FROM {n.table(Assignment)} x WHERE x.{n.col(Assignment, 'item')} = %(item)s"
        f" AND x.{n.col(Assignment, 'evaluator')} = m.{n.col(Membership, 'user')})"
        f" ORDER BY (SELECT COUNT(*) FROM {n.table(Assignment)} o"
        f" WHERE o.{n.col(Assignment, 'evaluator')} = m.{n.col(Membership, 'user')}"
        f" AND o.{n.col(Assignment, 'round')} = %(round)s AND o.{n.col(Assignment, 'completed_at')} IS NULL),"
        f" u.{n.col(User, 'username')}, m.{n.col(Membership, 'user')} LIMIT 1",
    ),
)


ANNOTATION_COLUMNS = ("id", "assignment_id", "label_id", "verdict", "note", "history", "created_at", "updated_at")


def _open_first(n, alias: str, condition: str, order: str) -> str:
    """The id of the user's first open assignment (by `order`) meeting `condition`, in an open round of
    the project, whose item is being labelled. The item's status is read per row found (a few rows): a
    join would let a generic plan hash every item of the table when it misjudges the partial index."""
    a, r, i = alias, f"{alias}r", f"{alias}i"
    return (
        f"(SELECT {a}.{n.col(Assignment, 'id')} FROM {n.table(Assignment)} {a}"
        f" INNER JOIN {n.table(Round)} {r} ON {r}.{n.col(Round, 'id')} = {a}.{n.col(Assignment, 'round')}"
        f" WHERE {a}.{n.col(Assignment, 'evaluator')} = %(user)s AND {a}.{n.col(Assignment, 'completed_at')} IS NULL"
        f" AND {condition} AND {r}.{n.col(Round, 'project')} = %(project)s AND {r}.{n.col(Round, 'status')} = %(open)s"
        f" AND (SELECT {i}.{n.col(RoundItem, 'status')} FROM {n.table(RoundItem)} {i}"
        f" WHERE {i}.{n.col(RoundItem, 'id')} = {a}.{n.col(Assignment, 'item')}) = %(labelling)s"
        f" ORDER BY {order} LIMIT 1)"
    )


def _next_open_statement(n, columns):
    order = n.col(Assignment, "order")
    number = n.col(Round, "number")
    # What was sent back, tie-breaks first (a few rows of the partial index `assignment_open_sent_back`)…
    sent_back = _open_first(
        n,
        "s",
        f"s.{n.col(Assignment, 'sent_back_at')} IS NOT NULL",
        f"CASE WHEN s.{order} > 2 THEN 0 ELSE 1 END, sr.{number}, s.{n.col(Assignment, 'id')}",
    )
    # …else the first tie-break (a few rows of the partial index `assignment_open_tie_break`)…
    tie_break = _open_first(n, "t", f"t.{order} > 2", f"tr.{number}, t.{n.col(Assignment, 'id')}")
    # …else the first open round of the project holding open work of the user (a few rows of the partial
    # index `assignment_open_queue`), then the first of that work by id whose item is being labelled.
    rest = (
        f"(SELECT q.{n.col(Assignment, 'id')} FROM {n.table(Assignment)} q"
        f" INNER JOIN {n.table(RoundItem)} qi ON qi.{n.col(RoundItem, 'id')} = q.{n.col(Assignment, 'item')}"
        f" WHERE q.{n.col(Assignment, 'evaluator')} = %(user)s AND q.{n.col(Assignment, 'completed_at')} IS NULL"
        f" AND qi.{n.col(RoundItem, 'status')} = %(labelling)s"
        f" AND q.{n.col(Assignment, 'round')} = (SELECT r2.{n.col(Round, 'id')} FROM {n.table(Round)} r2"
        f" WHERE r2.{n.col(Round, 'project')} = %(project)s AND r2.{n.col(Round, 'status')} = %(open)s"
        f" AND EXISTS (SELECT 1 FROM {n.table(Assignment)} u WHERE u.{n.col(Assignment, 'evaluator')} = %(user)s"
        f" AND u.{n.col(Assignment, 'round')} = r2.{n.col(Round, 'id')}"
        f" AND u.{n.col(Assignment, 'completed_at')} IS NULL)"
        f" ORDER BY r2.{number} LIMIT 1)"
        f" ORDER BY q.{n.col(Assignment, 'id')} LIMIT 1)"
    )
    return (
        # The assignment found, with what its API representation shows…
        f"SELECT * FROM (SELECT {', '.join(columns)}, 0 AS missing FROM {n.table(Assignment)} a"
        f" INNER JOIN {n.table(RoundItem)} i ON i.{n.col(RoundItem, 'id')} = a.{n.col(Assignment, 'item')}"
        f" INNER JOIN {n.table(Round)} r ON r.{n.col(Round, 'id')} = a.{n.col(Assignment, 'round')}"
        f" INNER JOIN {n.table(Artefact)} f ON f.{n.col(Artefact, 'id')} = i.{n.col(RoundItem, 'artefact')}"
        f" LEFT OUTER JOIN {n.table(Annotation)} n"
        f" ON n.{n.col(Annotation, 'assignment')} = a.{n.col(Assignment, 'id')}"
        f" LEFT OUTER JOIN {n.table(Label)} l ON l.{n.col(Label, 'id')} = n.{n.col(Annotation, 'label')}"
        f" WHERE a.{n.col(Assignment, 'id')} = COALESCE({sent_back}, {tie_break}, {rest})) found"
        # …or, when there is none, a row of NULLs saying whether the user has open work in an open round of
        # the project at all (1: the general query decides, 2: nothing to do).
        f" UNION ALL SELECT {', '.join(['NULL'] * len(columns))}, CASE WHEN EXISTS (SELECT 1"
        f" FROM {n.table(Assignment)} u INNER JOIN {n.table(Round)} r3"
        f" ON r3.{n.col(Round, 'id')} = u.{n.col(Assignment, 'round')}"
        f" WHERE u.{n.col(Assignment, 'evaluator')} = %(user)s AND u.{n.col(Assignment, 'completed_at')} IS NULL"
        f" AND r3.{n.col(Round, 'project')} = %(project)s AND r3.{n.col(Round, 'status')} = %(open)s)"
        f" THEN 1 ELSE 2 END ORDER BY {len(columns) + 1} LIMIT 1"
    )


# The user's next open assignment in queue order (see assignment_next): what its API representation
# shows. The subqueries are tried in turn (COALESCE stops at the first that finds one); each reads a few
# index rows however large the project grows.
NEXT_OPEN = PreparedRead(
    "concord_assignment_next",
    orm=_next_open_orm,
    tables=(
        ("a", Assignment, ASSIGNMENT_COLUMNS),
        ("r", Round, ("id", "project_id", "number", "status")),
        ("i", RoundItem, ("id", "round_id", "artefact_id", "status", "final_label_id", "final_verdict")),
        ("f", Artefact, ("id", "kind", "framework", "tags", "url", "title", "body", "metadata")),
        (
            "n",
            Annotation,
            ("id", "assignment_id", "label_id", "verdict", "note", "history", "created_at", "updated_at"),
        ),
        ("l", Label, ("id", "name")),
    ),
    params=(("user", "bigint"), ("project", "bigint"), ("labelling", "text"), ("open", "text")),
    statement=_next_open_statement,
)


# A disagreement that calls for another evaluator: the item marked, and its escalation owed (the outbox
# row, sent to Celery after commit), in one statement. The columns are listed, so a field added to
# either model fails here rather than going unwritten.
OUTBOX_FIELDS = ("id", "item_id", "created_at", "dispatched_at", "attempts", "last_error")
assert tuple(f.attname for f in EscalationOutbox._meta.concrete_fields) == OUTBOX_FIELDS, "update the INSERT below"

ITEM_ESCALATION_OWED = PreparedWrite(
    "concord_item_escalation_owed",
    orm=_item_escalation_owed_orm,
    postgresql_only=True,  # a data-modifying WITH
    params=(("item", "bigint"), ("now", "timestamptz")),
    prep={"now": (RoundItem, "updated_at")},
    statement=lambda n: (
        f"WITH flagged AS (UPDATE {n.table(RoundItem)} SET {n.col(RoundItem, 'had_disagreement')} = TRUE,"
        f" {n.col(RoundItem, 'updated_at')} = %(now)s WHERE {n.col(RoundItem, 'id')} = %(item)s)"
        f" INSERT INTO {n.table(EscalationOutbox)} ({', '.join(n.col(EscalationOutbox, f) for f in OUTBOX_FIELDS[1:])})"
        " VALUES (%(item)s, %(now)s, NULL, 0, '')"
        f" RETURNING {n.col(EscalationOutbox, 'id')}"
    ),
)


# The extra evaluator's assignment, their notification (its URL ends with the assignment's id) and the
# item's owed escalation settled, in one statement.
# every column of an assignment, for its INSERT (the labelling loop reads ASSIGNMENT_COLUMNS, a subset)
ASSIGNMENT_FIELDS = (
    *("id", "round_id", "item_id", "evaluator_id", "order", "created_at", "completed_at"),
    *("sent_back_at", "sent_back_by_id", "sent_back_reason"),
)
assert tuple(f.attname for f in Assignment._meta.concrete_fields) == ASSIGNMENT_FIELDS, "update the INSERT below"
NOTIFICATION_FIELDS = ("id", "user_id", "project_id", "kind", "text", "url", "created_at", "read_at", "emailed_at")
assert tuple(f.attname for f in Notification._meta.concrete_fields) == NOTIFICATION_FIELDS, "update the INSERT below"

ESCALATION_ASSIGN = PreparedWrite(
    "concord_escalation_assign",
    orm=_escalation_assign_orm,
    postgresql_only=True,  # a data-modifying WITH
    params=(
        *(("round", "bigint"), ("item", "bigint"), ("evaluator", "bigint"), ("order", "integer")),
        *(("project", "bigint"), ("kind", "text"), ("text", "text"), ("url", "text"), ("now", "timestamptz")),
    ),
    prep={"now": (Assignment, "created_at")},
    statement=lambda n: (
        f"WITH assigned AS (INSERT INTO {n.table(Assignment)}"
        f" ({', '.join(n.col(Assignment, f) for f in ASSIGNMENT_FIELDS[1:])})"
        " VALUES (%(round)s, %(item)s, %(evaluator)s, %(order)s, %(now)s, NULL, NULL, NULL, '')"
        f" RETURNING {n.col(Assignment, 'id')}),"
        f" told AS (INSERT INTO {n.table(Notification)}"
        f" ({', '.join(n.col(Notification, f) for f in NOTIFICATION_FIELDS[1:])})"
        f" SELECT %(evaluator)s, %(project)s, %(kind)s, %(text)s, %(url)s || assigned.{n.col(Assignment, 'id')} || '/',"
        f" %(now)s, NULL, NULL FROM assigned),"
        f" settled AS (DELETE FROM {n.table(EscalationOutbox)} WHERE {n.col(EscalationOutbox, 'item')} = %(item)s)"
        f" SELECT {n.col(Assignment, 'id')} FROM assigned"
    ),
)
