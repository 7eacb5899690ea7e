"""`assignment_next`'s fast path (plain SQL, prepared on PostgreSQL) returns what the general ORM
query returns, loaded the same way (types, related objects, the own annotation), at no extra query."""

import pytest
from django.db import connection

from labelling import selectors, services
from labelling.api.serializers import assignment_data
from labelling.models import Annotation, Assignment, Round, RoundItem
from tests.factories import ArtefactFactory, member


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
                data = assignment_data(fast) if fast is not None else None
            found = selectors.assignment_next(project=team.project, user=user)  # falls back when fast is None
            assert (found and found.id) == (expected and expected.id), user
            if expected is None:
                assert fast is None
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
    assert selectors._next_open_fast(project=team.project, user=eva1) is None
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
    connection._concord_prepared = None  # bookkeeping lost, statement still there: no duplicate
    assert selectors.assignment_next(project=team.project, user=eva1).id == expected
    connection.close()  # a new session has no prepared statement: it is prepared again
    assert selectors.assignment_next(project=team.project, user=eva1).id == expected
    assert prepared() == 1 and connection._concord_prepared[0] is connection.connection
