"""API query counts stay flat as data grows (queue, next, submit and the lists)."""

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.prepared import prepared_sql_enabled
from labelling import services
from labelling.models import Assignment, RoundItem
from tests.factories import ArtefactFactory

# Upper bounds, asserted with django_assert_max_num_queries; the equality checks below prove flatness.
# The token and the membership of the URL's project are one query (labelling/api/authentication.py).
MAX_QUERIES = {
    "assignments/": 3,
    "assignments/next/": 2,
    "submit": 8,  # 6 (a first label), plus SAVEPOINT and RELEASE inside the test transaction
    # 7 in the request (the item marked with its outbox row in one), then 4 for the eager escalation
    # after commit (the item locked, who is assigned, the candidate, then the assignment with its
    # notification and the settled outbox row in one), plus SAVEPOINT and RELEASE around each inside
    # the test transaction; with CONCORD_PREPARED_SQL off, their ORM equivalents run more
    "disagree": 15 if prepared_sql_enabled() else 25,
    "artefacts/": 4,
    "rounds/": 4,
    "labels/suggest/?q=lab": 2,
    "conflicts/": 4,
    "rounds/1/progress/": 5,
}


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def grow(team, n):
    """A round of n more artefacts for eva1 and eva2; eva1 annotates half of theirs, some items agree,
    some become conflicts (so every list has rows)."""
    eva1, eva2 = team.evaluators[:2]
    artefacts = ArtefactFactory.create_batch(n, project=team.project)
    rnd = services.round_create(
        project=team.project, user=team.lead, evaluator_ids=[eva1.id, eva2.id], artefact_ids=[a.id for a in artefacts]
    )
    items = list(rnd.items.order_by("id"))
    for i, item in enumerate(items[: n // 2]):
        a1, a2 = item.assignments.order_by("order")
        services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label=f"label {i % 5}")
        if i % 2:
            services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label=f"label {i % 5}")
    conflicts = items[n // 2 : n // 2 + n // 4]
    for i, item in enumerate(conflicts):  # both answer, differently; the moderators get them
        for assignment, label in zip(item.assignments.order_by("order"), ["label 1", f"other {i}"], strict=True):
            services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label=label)
    RoundItem.objects.filter(id__in=[i.id for i in conflicts]).update(
        status=RoundItem.Status.CONFLICT, is_conflict=True
    )
    return rnd


def count(client, team, path, method="get", data=None):
    url = f"/api/projects/{team.project.slug}/{path}"
    with CaptureQueriesContext(connection) as ctx, TestCase.captureOnCommitCallbacks(execute=True):
        response = getattr(client, method)(url, data, format="json")
    assert response.status_code in (200, 201), response.content
    return len(ctx.captured_queries)


def open_assignment(team, user):
    return (
        Assignment.objects.filter(
            evaluator=user, completed_at__isnull=True, round__number=1, item__status=RoundItem.Status.LABELLING
        )
        .order_by("-id")
        .first()
    )


READS = [
    ("assignments/", "evaluator"),
    ("assignments/next/", "evaluator"),
    ("artefacts/", "evaluator"),
    ("rounds/", "evaluator"),
    ("labels/suggest/?q=lab", "evaluator"),
    ("conflicts/", "moderator"),
    ("rounds/1/progress/", "lead"),
]


@pytest.mark.parametrize("path, role", READS, ids=[p for p, _ in READS])
def test_reads_stay_flat(team, path, role, django_assert_max_num_queries):
    user = {"evaluator": team.evaluators[0], "moderator": team.moderator, "lead": team.lead}[role]
    grow(team, 8)
    client = client_for(user)
    with django_assert_max_num_queries(MAX_QUERIES[path]):
        small = count(client, team, path)
    grow(team, 80)
    with django_assert_max_num_queries(MAX_QUERIES[path]):
        large = count(client, team, path)
    assert large == small, (small, large)


def test_submit_stays_flat(team, django_assert_max_num_queries):
    grow(team, 8)
    eva1 = team.evaluators[0]
    client = client_for(eva1)

    def submit():
        assignment = open_assignment(team, eva1)
        with django_assert_max_num_queries(MAX_QUERIES["submit"]):
            return count(client, team, f"assignments/{assignment.id}/annotation/", "post", data={"label": "label 1"})

    small = submit()
    grow(team, 80)
    large = submit()
    assert large == small, (small, large)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="counts the PostgreSQL statements")
def test_a_disagreement_with_its_escalation_stays_flat(team, django_assert_max_num_queries):
    """A second label that disagrees: the annotation, its outbox row, and (eagerly, after commit) the
    third evaluator's assignment with its notification, in as many queries at any size."""
    eva1, eva2 = team.evaluators[:2]

    def disagree():
        artefact = ArtefactFactory(project=team.project)
        rnd = services.round_create(
            project=team.project,
            user=team.lead,
            evaluator_ids=[eva1.id, eva2.id, team.evaluators[2].id],
            artefact_ids=[artefact.id],
        )
        first, second = rnd.items.get().assignments.order_by("order")
        services.annotation_submit(assignment_id=first.id, user=first.evaluator, label="label 1")
        client = client_for(second.evaluator)
        client_for(first.evaluator)  # tokens exist before counting
        path = f"assignments/{second.id}/annotation/"
        with django_assert_max_num_queries(MAX_QUERIES["disagree"]):
            n = count(client, team, path, "post", data={"label": "label 2"})
        assert rnd.items.get().assignments.count() == 3
        return n

    grow(team, 8)  # the labels exist
    small = disagree()
    grow(team, 80)
    large = disagree()
    assert large == small, (small, large)
