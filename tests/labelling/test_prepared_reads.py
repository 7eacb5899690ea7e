"""The labelling loop's reads in plain SQL (labelling/queries.py, prepared on PostgreSQL) return what
their ORM equivalents return, loaded the same way (types, related objects), at no extra query:
`assignment_next`'s fast path, the submission's locked read and answers, and the token check that
reads the membership of the URL's project."""

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import Membership, Notification
from core.prepared import prepared_forget, prepared_names, prepared_sql_enabled
from labelling import queries, selectors, services
from labelling.api.serializers import assignment_data
from labelling.models import Annotation, Assignment, EscalationOutbox, Round, RoundItem
from tests.factories import ArtefactFactory, ProjectFactory, member


def orm_next(project, user):
    related = ("round", "item__artefact", "item__final_label", "annotation__label")
    return selectors.evaluator_open_assignments(project=project, user=user).select_related(*related).first()


def make_round(team, evaluators, n):
    artefacts = ArtefactFactory.create_batch(
        n, project=team.project, tags=["keras", "shape"], metadata={"score": 3, "nested": {"a": [1, 2]}}
    )
    return services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in evaluators],
        artefact_ids=[a.id for a in artefacts],
    )


def test_fast_path_matches_the_orm_query_in_every_state(team, django_assert_num_queries):
    eva1, eva2, eva3 = team.evaluators
    closed = make_round(team, [eva1, eva2], 2)
    services.round_close(round=closed, user=team.lead)
    first = make_round(team, [eva1, eva2, eva3], 6)
    make_round(team, [eva1, eva2, eva3], 4)
    # Some answered work, an item decided meanwhile (skipped), and an open assignment that carries an
    # annotation without being completed (as an import can leave it): the annotation is shown.
    mine = list(Assignment.objects.filter(round=first, evaluator=eva1).order_by("id"))
    services.annotation_submit(assignment_id=mine[0].id, user=eva1, label="Shape mismatch")
    RoundItem.objects.filter(pk=mine[1].item_id).update(status=RoundItem.Status.CONFLICT, is_conflict=True)
    odd = mine[2]
    Annotation.objects.create(assignment=odd, label=services.label_get_or_create(project=team.project, name="x"))
    others = [member(team.project, evaluator=True, username=f"idle{i}") for i in range(2)]

    users = [eva1, eva2, eva3, *others, team.lead]
    seen = set()
    for _ in range(12):  # walk the queues: answer each one's next, compare again
        for user in users:
            expected = orm_next(team.project, user)
            with django_assert_num_queries(1):
                fast = selectors._next_open_fast(project=team.project, user=user)
                data = assignment_data(fast) if isinstance(fast, Assignment) else None
            found = selectors.assignment_next(project=team.project, user=user)  # falls back when fast is None
            assert (found and found.id) == (expected and expected.id), user
            has_open_work = Assignment.objects.filter(
                evaluator=user, completed_at__isnull=True, round__project=team.project, round__status="open"
            ).exists()
            assert (fast is selectors._NO_OPEN_WORK) == (not has_open_work)  # then no second query is needed
            if expected is None:
                assert fast is None or fast is selectors._NO_OPEN_WORK
                continue
            assert assignment_data(found) == assignment_data(expected)
            if fast is None:  # its first round with open work holds only decided items: the fallback decides
                open_work = Assignment.objects.filter(evaluator=user, completed_at__isnull=True, round__status="open")
                earliest = open_work.order_by("round__number").values_list("round", flat=True).first()
                assert earliest != expected.round_id
                assert not open_work.filter(round=earliest, item__status=RoundItem.Status.LABELLING).exists()
                services.annotation_submit(assignment_id=found.id, user=user, label="fallback")
                seen.add((user.username, "fallback"))
                continue
            assert data == assignment_data(expected), user
            assert isinstance(fast.item.artefact.tags, list) and isinstance(fast.item.artefact.metadata, dict)
            assert fast.created_at.tzinfo is not None and fast.round.status == Round.Status.OPEN
            seen.add((user.username, data["annotation"] is not None))
            services.annotation_submit(assignment_id=fast.id, user=user, label=f"answer {fast.id % 3}")
    assert ("eva1", True) in seen  # the odd open-but-annotated assignment was served with its annotation
    assert {name for name, _ in seen} == {"eva1", "eva2", "eva3"}
    assert ("eva1", "fallback") in seen  # the decided item in eva1's first round sent them down the ORM path
    assert all(orm_next(team.project, user) is None for user in users)  # every queue walked to its end


def test_public_selector_falls_back_to_the_orm_query_when_the_first_round_has_only_decided_work(team):
    eva1, eva2, _ = team.evaluators
    first = make_round(team, [eva1, eva2], 2)
    second = make_round(team, [eva1, eva2], 2)
    RoundItem.objects.filter(round=first).update(status=RoundItem.Status.CONFLICT, is_conflict=True)
    assert selectors._next_open_fast(project=team.project, user=eva1) is None  # open work, none on the fast path
    found = selectors.assignment_next(project=team.project, user=eva1)
    assert found is not None and found.round_id == second.id
    assert found.id == orm_next(team.project, eva1).id


@pytest.mark.django_db(transaction=True)
def test_prepared_statement_is_made_once_per_database_session(team):
    eva1, eva2, _ = team.evaluators
    make_round(team, [eva1, eva2], 2)
    expected = orm_next(team.project, eva1).id

    def prepared():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'concord_assignment_next'")
            return cursor.fetchone()[0]

    assert selectors.assignment_next(project=team.project, user=eva1).id == expected
    assert selectors.assignment_next(project=team.project, user=eva1).id == expected  # reuses it
    if connection.vendor != "postgresql":
        return
    assert prepared() == 1
    prepared_forget(connection)  # bookkeeping lost, statement still there: no duplicate
    assert selectors.assignment_next(project=team.project, user=eva1).id == expected
    connection.close()  # a new session has no prepared statement: it is prepared again
    assert selectors.assignment_next(project=team.project, user=eva1).id == expected
    assert prepared() == 1 and "concord_assignment_next" in prepared_names(connection)


def fields(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_submission_reads_load_what_the_orm_loads(team, django_assert_num_queries):
    eva1, eva2, _ = team.evaluators
    rnd = make_round(team, [eva1, eva2], 2)
    item = rnd.items.order_by("id").first()
    a1, a2 = item.assignments.order_by("order")
    services.annotation_submit(assignment_id=a1.id, user=eva1, label="Wrong Loss!", note="n")
    services.label_get_or_create(project=team.project, name="unused")
    for key, expected in [("wrong loss", "Wrong Loss!"), ("nothing like it", None), ("", None)]:
        with django_assert_num_queries(1):
            found = queries.ASSIGNMENT_FOR_SUBMIT.fetch(assignment=a2.id, key=key)
        assignment, rnd_, item_, project, label_id, label_name = found
        orm = Assignment.objects.select_related("round__project", "item").get(pk=a2.pk)
        assert fields(assignment) == fields(orm)
        assert {k: getattr(rnd_, k) for k in ("id", "project_id", "number", "name", "status")} == {
            k: getattr(orm.round, k) for k in ("id", "project_id", "number", "name", "status")
        }
        assert fields(item_) == fields(orm.item) and fields(project) == fields(orm.round.project)
        assert isinstance(item_.history, list) and item_.updated_at.tzinfo is not None
        assert label_name == expected and (label_id is None) == (expected is None)
    assert queries.ASSIGNMENT_FOR_SUBMIT.fetch(assignment=10**9, key="") is None
    (label1, *answer1), (label2, *answer2) = queries.ITEM_ANSWERS.fetch_all(item=item.id)
    annotation = a1.annotation
    assert answer1 == [a1.id, 1, annotation.id, annotation.label_id, ""] and answer2 == [a2.id, 2, None, None, None]
    assert (label1.id, label1.name, label2) == (annotation.label_id, "Wrong Loss!", None)


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def test_token_and_membership_are_one_query_and_refusals_stay_as_they_were(team, django_assert_num_queries):
    eva1, eva2, _ = team.evaluators
    make_round(team, [eva1, eva2], 1)
    url = f"/api/projects/{team.project.slug}/assignments/next/"
    client = token_client(eva1)
    with django_assert_num_queries(2):  # the token with the membership, then the next assignment
        assert client.get(url).status_code == 200
    mine = Assignment.objects.get(evaluator=eva1)
    services.annotation_submit(assignment_id=mine.id, user=eva1, label="done")
    with django_assert_num_queries(2):  # an empty queue is known from the same query
        assert client.get(url).status_code == 204
    assert token_client(team.lead).get(url).status_code == 403  # a member without the role
    outsider = member(ProjectFactory(), evaluator=True, username="outsider")
    assert token_client(outsider).get(url).status_code == 404  # a member of another project only
    assert token_client(eva1).get("/api/projects/no-such-project/assignments/next/").status_code == 404
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = bad.get(url)
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Token"
    assert APIClient().get(url).status_code == 401
    Membership.objects.filter(user=eva2).update(is_active=False)
    assert token_client(eva2).get(url).status_code == 404  # an inactive membership is none
    eva1.is_active = False
    eva1.save()
    response = token_client(eva1).get(url)
    assert response.status_code == 401 and "inactive" in response.json()["detail"].lower()
    session = APIClient()
    session.force_login(team.evaluators[2])  # session authentication is untouched
    assert session.get(url).status_code in (200, 204)


def test_a_first_answer_written_by_prepared_statements_is_what_the_orm_reads_back(team):
    eva1, eva2, _ = team.evaluators
    rnd = make_round(team, [eva1, eva2], 1)
    a1, a2 = rnd.items.get().assignments.order_by("order")
    first = services.annotation_submit(assignment_id=a1.id, user=eva1, label="Shape  mismatch.", note="n")
    second = services.annotation_submit(assignment_id=a2.id, user=eva2, verdict="generic")
    for written in (first, second):
        stored = Annotation.objects.get(pk=written.pk)
        assert fields(written) == fields(stored) and written.was_created
        assert stored.history == [] and stored.created_at == stored.updated_at and stored.created_at.tzinfo
        done = Assignment.objects.get(pk=stored.assignment_id)
        assert done.completed_at == stored.created_at
    assert first.label.name == "Shape mismatch." and Annotation.objects.get(pk=first.pk).note == "n"
    assert second.label is None and second.verdict == "generic"
    edited = services.annotation_submit(assignment_id=a1.id, user=eva1, label="other")  # the ORM path
    assert not edited.was_created and fields(edited) == fields(Annotation.objects.get(pk=first.pk))


def _plain(value):
    """Rows compared by value: model instances by class, primary key and the fields both loaded."""
    if isinstance(value, tuple | list):
        return tuple(_plain(v) for v in value)
    if hasattr(value, "_meta"):
        return (type(value).__name__, value.pk)
    return value


def test_every_statement_returns_what_its_orm_equivalent_returns(team):
    """The SQL and the ORM equivalent that runs with CONCORD_PREPARED_SQL off, compared on live data."""
    from labelling import queries

    eva1, eva2, eva3 = team.evaluators
    rnd = make_round(team, [eva1, eva2], 3)
    first, second = Assignment.objects.filter(round=rnd).order_by("item_id", "order")[:2]
    services.annotation_submit(assignment_id=first.id, user=first.evaluator, label="Shape mismatch")
    services.annotation_submit(assignment_id=second.id, user=second.evaluator, label="Other")  # escalates
    item = first.item
    calls = [
        (queries.ASSIGNMENT_FOR_SUBMIT, {"assignment": second.id, "key": "shape mismatch"}),
        (queries.ASSIGNMENT_FOR_SUBMIT, {"assignment": second.id, "key": "none such"}),
        (queries.ASSIGNMENT_FOR_SUBMIT, {"assignment": 10**9, "key": ""}),
        (queries.ITEM_ANSWERS, {"item": item.id}),
        (queries.ITEM_FOR_ESCALATION, {"item": item.id}),
        (queries.ITEM_ASSIGNED, {"item": item.id}),
        (queries.ESCALATION_CANDIDATE, {"project": team.project.id, "item": item.id, "round": rnd.id}),
    ]
    for user in (eva1, eva2, eva3, team.lead):
        calls.append(
            (
                queries.NEXT_OPEN,
                {"user": user.id, "project": team.project.id, "labelling": "labelling", "open": "open"},
            )
        )
    for statement, values in calls:
        assert _plain(statement.fetch_all(**values)) == _plain(statement.orm(**values)), (statement.name, values)


def test_next_open_puts_sent_back_work_then_tie_breaks_first_in_sql_and_orm(team, django_assert_num_queries):
    """NEXT_OPEN and its ORM equivalent walk a queue holding what was sent back and tie-breaks (some of
    them in later rounds, one both, one on an item decided meanwhile) in the queue page's order.
    (States set directly; the services' own send-back and escalation: test_next_in_queue_order.py.)"""
    eva1, eva2, eva3 = team.evaluators
    first, second, third = (make_round(team, [eva1, eva2], 3) for _ in range(3))
    mine = {
        rnd.id: list(Assignment.objects.filter(round=rnd, evaluator=eva1).order_by("id"))
        for rnd in (first, second, third)
    }
    now = timezone.now()
    late, both, tie_late = mine[third.id]
    early_tie_break, normal_second, decided = mine[second.id]
    Assignment.objects.filter(id__in=[late.id, decided.id]).update(sent_back_at=now)
    Assignment.objects.filter(id=both.id).update(sent_back_at=now, order=3)
    Assignment.objects.filter(id__in=[tie_late.id, early_tie_break.id]).update(order=3)
    RoundItem.objects.filter(id=decided.item_id).update(status=RoundItem.Status.CONFLICT, is_conflict=True)
    expected = [both, late, early_tie_break, tie_late, *mine[first.id], normal_second]
    walked = []
    for _ in range(len(expected) + 1):
        for user in (eva1, eva2, eva3, team.lead):
            values = {"user": user.id, "project": team.project.id, "labelling": "labelling", "open": "open"}
            assert _plain(queries.NEXT_OPEN.fetch_all(**values)) == _plain(queries.NEXT_OPEN.orm(**values)), values
        with django_assert_num_queries(1 if prepared_sql_enabled() else 2):  # the ORM equivalent: two
            fast = selectors._next_open_fast(project=team.project, user=eva1)
        found = selectors.assignment_next(project=team.project, user=eva1)
        head = selectors.evaluator_queue(project=team.project, user=eva1).first()
        assert (found and found.id) == (head and head.id)
        if found is None:
            assert fast is None  # open work left, on the decided item only: the general query said none
            break
        assert isinstance(fast, Assignment) and fast.id == found.id
        walked.append(found)
        Assignment.objects.filter(id=found.id).update(completed_at=now)
    assert [a.id for a in walked] == [a.id for a in expected]


def test_the_labelling_loop_runs_with_prepared_sql_off(team, settings):
    settings.CONCORD_PREPARED_SQL = False
    eva1, eva2, eva3 = team.evaluators
    rnd = make_round(team, [eva1, eva2], 2)
    for user, label in ((eva1, "a"), (eva2, "b")):
        nxt = selectors.assignment_next(project=team.project, user=user)
        services.annotation_submit(assignment_id=nxt.id, user=user, label=label)
    services.item_escalate(item_id=nxt.item_id)
    third = Assignment.objects.get(item_id=nxt.item_id, order=3)
    assert third.evaluator == eva3 and third.round == rnd
    assert selectors.assignment_next(project=team.project, user=eva3).id == third.id


def _escalated(team, item, settings, prepared: bool):
    """Both answers differ, then the escalation: what the two writes left (the item, its outbox rows after
    the disagreement, the third assignment and the evaluator's notification, the outbox after)."""
    settings.CONCORD_PREPARED_SQL = prepared
    for assignment, label in zip(item.assignments.order_by("order"), ("Shape mismatch", "Other"), strict=True):
        services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label=label)
    item.refresh_from_db()
    owed = list(EscalationOutbox.objects.filter(item=item).values("dispatched_at", "attempts", "last_error"))
    owed_at = EscalationOutbox.objects.get(item=item).created_at
    assert services.item_escalate(item_id=item.id) == "assigned"
    third = item.assignments.get(order=3)
    told = Notification.objects.get(
        user=third.evaluator, kind=Notification.Kind.TIE_BREAK, url__endswith=f"/{third.id}/"
    )
    return {
        "item": (item.status, item.had_disagreement, item.updated_at == owed_at),
        "owed": owed,
        "third": (
            third.evaluator_id,
            third.order,
            third.round_id,
            third.completed_at,
            third.created_at.tzinfo is not None,
        ),
        # the assignment's id in the link differs; only it (a bare replace would also hit the slug's digits)
        "told": (told.project_id, told.text, told.url.removesuffix(f"/{third.id}/"), told.read_at, told.emailed_at),
        "settled": EscalationOutbox.objects.filter(item=item).exists(),
    }


def test_the_escalation_writes_leave_what_their_orm_equivalents_leave(team, settings):
    """The disagreement's mark with its outbox row, and the escalation's assignment, notification and
    settled row: written by the SQL (one statement each on PostgreSQL) and by the ORM, the same rows.
    (Elsewhere both runs are the ORM's, and the test checks what it leaves.)"""
    eva1, eva2, eva3 = team.evaluators
    rnd = make_round(team, [eva1, eva2], 2)
    with_sql, with_orm = (
        _escalated(team, item, settings, prepared)
        for item, prepared in zip(rnd.items.order_by("id"), (True, False), strict=True)
    )
    assert with_sql == with_orm
    assert with_sql["item"] == (RoundItem.Status.LABELLING, True, True)
    assert with_sql["owed"] == [{"dispatched_at": None, "attempts": 0, "last_error": ""}]
    assert with_sql["third"][:2] == (eva3.id, 3) and not with_sql["settled"]
    assert with_sql["told"][2] == f"/p/{team.project.slug}/a"
