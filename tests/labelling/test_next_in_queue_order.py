"""Every "next" follows the queue page's order: what a moderator sent back first, then tie-breaks, then
round number, then id. `GET assignments/next/`, the API's next after a submission and the page's next
after a submission, with CONCORD_PREPARED_SQL on (the prepared statement) and off (its ORM equivalent)."""

import pytest
from rest_framework.test import APIClient

from labelling import selectors, services
from labelling.models import Assignment
from tests.factories import team_round
from tests.labelling.test_views import make_conflict, url


@pytest.fixture(params=[True, False], ids=["prepared-sql", "orm"])
def prepared(request, settings):
    settings.CONCORD_PREPARED_SQL = request.param
    return request.param


@pytest.fixture
def queue(team, prepared):
    """eva1's open work: three items of round 1; in round 2 a conflict sent back to them; in round 3 a
    tie-break (eva2 and eva3 disagreed). The queue page lists the sent-back one, the tie-break, then
    round 1 by id."""
    eva1, eva2, eva3 = team.evaluators
    first = team_round(team, n=3)
    conflict = make_conflict(team_round(team).items.get())  # eva1, eva2, then eva3 as the third
    sent_back_item = services.conflict_send_back(
        item_id=conflict.id, user=team.moderator, evaluator_ids=[eva1.id], reason="Look at the trace again."
    )
    disagreed = team_round(team, evaluators=[eva2, eva3]).items.get()
    for assignment, label in zip(disagreed.assignments.order_by("order"), ("A", "B"), strict=True):
        services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label=label)
    assert services.item_escalate(item_id=disagreed.id) == "assigned"

    team.sent_back = Assignment.objects.get(item=sent_back_item, evaluator=eva1)
    team.tie_break = Assignment.objects.get(item=disagreed, order=3)
    team.normal = list(Assignment.objects.filter(round=first, evaluator=eva1).order_by("id"))
    assert team.sent_back.is_sent_back and team.tie_break.evaluator == eva1
    queued = [a.id for a in selectors.evaluator_queue(project=team.project, user=eva1)]
    assert queued == [team.sent_back.id, team.tie_break.id, *(a.id for a in team.normal)]
    return team


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_next_offers_what_was_sent_back_then_the_tie_break(queue):
    t = queue
    eva1 = t.evaluators[0]
    client = api_for(eva1)
    base = f"/api/projects/{t.project.slug}/assignments/"
    assert client.get(f"{base}next/").json()["id"] == t.sent_back.id
    assert selectors.assignment_next(project=t.project, user=eva1).id == t.sent_back.id

    # a submission of round 1's first item answers with the queue's head, not round 1's second
    response = client.post(f"{base}{t.normal[0].id}/annotation/", {"label": "x"}, format="json")
    assert response.status_code == 201 and response.json()["next"]["id"] == t.sent_back.id
    response = client.post(f"{base}{t.sent_back.id}/annotation/", {"label": "revised"}, format="json")
    assert response.status_code == 200 and response.json()["next"]["id"] == t.tie_break.id  # an answer revised
    assert client.get(f"{base}next/").json()["id"] == t.tie_break.id
    response = client.post(f"{base}{t.tie_break.id}/annotation/", {"label": "A"}, format="json")
    assert response.status_code == 201 and response.json()["next"]["id"] == t.normal[1].id
    assert client.get(f"{base}next/").json()["id"] == t.normal[1].id


def test_the_page_goes_on_to_what_was_sent_back_then_the_tie_break(queue, client):
    t = queue
    client.force_login(t.evaluators[0])

    def submit(assignment, label):
        response = client.post(url("assignment", t.project, assignment_id=assignment.id), {"label": label})
        assert response.status_code == 302
        return response["Location"]

    assert submit(t.normal[0], "x") == url("assignment", t.project, assignment_id=t.sent_back.id)
    assert submit(t.sent_back, "revised") == url("assignment", t.project, assignment_id=t.tie_break.id)
    assert submit(t.tie_break, "A") == url("assignment", t.project, assignment_id=t.normal[1].id)
    # then round 1 onwards from where the evaluator is, wrapping round as before
    assert submit(t.normal[2], "y") == url("assignment", t.project, assignment_id=t.normal[1].id)
    assert submit(t.normal[1], "z") == url("queue", t.project)


def test_the_project_page_continues_with_the_queues_head(queue, client):
    t = queue
    client.force_login(t.evaluators[0])
    response = client.get(url("project", t.project))
    assert response.context["next_assignment"].id == t.sent_back.id
