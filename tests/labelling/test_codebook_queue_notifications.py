"""The codebook where the evaluator works, the labelling page's bearings, and notifications (issue 9)."""

import pytest
from django.test import TestCase
from rest_framework.test import APIClient

from core import services as core_services
from core.models import Notification
from labelling import services
from labelling.models import Assignment, RoundItem
from taxonomy.models import Node
from tests.factories import member, team_round


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def coded(team):
    """Guidelines, round instructions, a catalogue label with a description, eva2's secret label on an
    undecided item, and categories with codes that sort differently as text and as numbers."""
    project = team.project
    core_services.project_guidelines_set(
        project=project, user=team.lead, guidelines="# Guide\\n\\nLabel the **root cause**. <script>x()</script>"
    )
    label = services.label_create(project=project, user=team.lead, name="wrong loss", description="The *loss* is wrong")
    services.label_update(label_id=label.id, user=team.lead, examples="softmax + MSE")
    eva1, eva2 = team.evaluators[:2]
    rnd = team_round(team, n=2)
    services.round_instructions_set(round=rnd, user=team.lead, instructions="Only **training** faults.")
    item = rnd.items.order_by("id").first()
    services.annotation_submit(assignment_id=item.assignments.get(evaluator=eva2).id, user=eva2, label="secret label")
    five = Node.objects.create(project=project, code="5", name="Training")
    for code in ["5.10", "5.8", "5.1"]:
        Node.objects.create(project=project, parent=five, code=code, name=f"Cat {code}")
    Node.objects.create(project=project, parent=five, code="", name="Uncoded")
    Node.objects.create(project=project, code="10", name="Ten", description="tenth")
    Node.objects.create(project=project, code="9", name="Nine")
    team.round, team.item, team.label = rnd, item, label
    return team


def test_codebook_api_respects_blindness_and_sorts_codes(coded):
    t = coded
    eva1 = t.evaluators[0]
    body = api(eva1).get(f"/api/projects/{t.project.slug}/codebook/").json()
    assert "<strong>root cause</strong>" in body["guidelines_html"] and "<script" not in body["guidelines_html"]
    assert body["rounds"][0]["instructions"] == "Only **training** faults."
    names = [label["name"] for label in body["labels"]]
    assert names == ["wrong loss"]  # eva2's label on an undecided item stays hidden
    assert body["labels"][0]["examples"] == "softmax + MSE"
    codes = [(c["code"], c["depth"]) for c in body["categories"]]
    assert codes == [("5", 0), ("5.1", 1), ("5.8", 1), ("5.10", 1), ("", 1), ("9", 0), ("10", 0)]
    own = api(t.evaluators[1]).get(f"/api/projects/{t.project.slug}/codebook/").json()
    assert {label["name"] for label in own["labels"]} == {"wrong loss", "secret label"}  # their own label
    stranger = member(t.project, username="outsider")
    t.project.memberships.filter(user=stranger).delete()
    assert api(stranger).get(f"/api/projects/{t.project.slug}/codebook/").status_code == 404


def test_codebook_panel_beside_the_artefact(client, coded):
    t = coded
    eva1 = t.evaluators[0]
    assignment = t.item.assignments.get(evaluator=eva1)
    client.force_login(eva1)
    page = client.get(f"/p/{t.project.slug}/a/{assignment.id}/").content.decode()
    assert 'id="codebook"' in page
    assert "<strong>root cause</strong>" in page and "<script>x()" not in page
    assert "Only <strong>training</strong> faults." in page
    assert "wrong loss" in page and "softmax + MSE" in page
    assert "secret label" not in page  # blind
    assert "autofocus" not in page  # nothing typed by a shortcut on load
    assert 'data-key-focus="/"' in page
    assert "1 of 2 in Round 1" in page
    categories = client.get(f"/p/{t.project.slug}/taxonomy/codebook/", HTTP_HX_REQUEST="true").content.decode()
    order = [categories.index(f"<strong>{code} ") for code in ["5.1", "5.8", "5.10", "9", "10"]]
    assert order == sorted(order)
    assert categories.index("Uncoded") > categories.index("<strong>5.10 ")


def test_autocomplete_shows_descriptions_only_of_visible_labels(client, coded):
    t = coded
    client.force_login(t.evaluators[0])
    fragment = client.get(f"/p/{t.project.slug}/suggest/?q=", HTTP_HX_REQUEST="true").content.decode()
    assert "wrong loss" in fragment and "The *loss* is wrong" in fragment
    assert "secret label" not in fragment


def test_round_instructions_only_by_leads(client, coded):
    t = coded
    client.force_login(t.moderator)
    response = client.post(
        f"/p/{t.project.slug}/rounds/{t.round.number}/", {"action": "instructions", "instructions": "x"}
    )
    assert response.status_code == 403
    client.force_login(t.lead)
    response = client.post(
        f"/p/{t.project.slug}/rounds/{t.round.number}/", {"action": "instructions", "instructions": "New"}
    )
    assert response.status_code == 302
    t.round.refresh_from_db()
    assert t.round.instructions == "New"


def _disagree(team, rnd):
    eva1, eva2 = team.evaluators[:2]
    item = rnd.items.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.annotation_submit(assignment_id=item.assignments.get(evaluator=eva1).id, user=eva1, label="alpha-x")
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.annotation_submit(assignment_id=item.assignments.get(evaluator=eva2).id, user=eva2, label="beta-y")
    return item


def test_tie_break_notifies_the_third_and_comes_first_in_the_queue(client, team):
    eva3 = team.evaluators[2]
    older = team_round(team, n=2, evaluators=[eva3, team.evaluators[0]])
    rnd = team_round(team, n=1)
    item = _disagree(team, rnd)
    tie_break = Assignment.objects.get(item=item, evaluator=eva3)
    assert tie_break.order == 3
    note = Notification.objects.get(user=eva3, kind=Notification.Kind.TIE_BREAK)
    assert note.url == f"/p/{team.project.slug}/a/{tie_break.id}/"
    for text in Notification.objects.values_list("text", flat=True):  # blind: no label in any notification
        assert "alpha-x" not in text and "beta-y" not in text
    client.force_login(eva3)
    page = client.get(f"/p/{team.project.slug}/queue/").content.decode()
    queue = page[page.index('id="queue-list"') :]
    first_row = queue.index(f"/a/{tie_break.id}/")
    assert all(first_row < queue.index(f"/a/{a.id}/") for a in older.assignments.filter(evaluator=eva3))
    assert 'class="badge tie-break"' in queue
    assert "Continue labelling" in page
    # the bell counts it; reading clears it
    home = client.get("/").content.decode()
    assert "Notifications: " in home and 'class="count"' in home
    client.post("/notifications/read/")
    assert not Notification.objects.filter(user=eva3, read_at__isnull=True).exists()


def test_conflict_notifies_moderators_and_rounds_notify_evaluators(team):
    rnd = team_round(team, n=1, evaluators=team.evaluators[:2])
    assert Notification.objects.filter(kind=Notification.Kind.ROUND_OPENED).count() == 2
    item = _disagree(team, rnd)
    eva3 = team.evaluators[2]
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.annotation_submit(assignment_id=item.assignments.get(evaluator=eva3).id, user=eva3, label="c")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT
    assert Notification.objects.filter(user=team.moderator, kind=Notification.Kind.CONFLICT).count() == 1
    assert not Notification.objects.filter(user__in=team.evaluators, kind=Notification.Kind.CONFLICT).exists()
    services.round_close(round=rnd, user=team.lead)
    assert Notification.objects.filter(kind=Notification.Kind.ROUND_CLOSED).count() == 3


def test_continue_labelling_goes_to_the_round_with_the_oldest_open_work(team):
    from labelling.selectors import evaluator_continue

    first = team_round(team, n=1)
    team_round(team, n=1)
    eva1 = team.evaluators[0]
    assert evaluator_continue(project=team.project, user=eva1).round_id == first.id
    services.annotation_submit(assignment_id=first.assignments.get(evaluator=eva1).id, user=eva1, label="x")
    assert evaluator_continue(project=team.project, user=eva1).round.number == 2


# --- the discussion of a conflict ------------------------------------------------------------


def test_discussion_only_after_blind_labelling_and_only_for_participants(client, team):
    eva1, eva2, eva3 = team.evaluators
    rnd = team_round(team, n=1)
    item = rnd.items.get()
    base = f"/api/projects/{team.project.slug}/conflicts/{item.id}/discussion/"
    assert api(team.moderator).get(base).status_code == 404  # still blind: no discussion yet
    _disagree(team, rnd)
    assert api(eva1).get(base).status_code == 404  # the tie-break is still blind
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.annotation_submit(assignment_id=item.assignments.get(evaluator=eva3).id, user=eva3, label="c")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT
    posted = api(team.moderator).post(base, {"body": "Is it the loss or the optimiser?"}, format="json")
    assert posted.status_code == 201, posted.content
    reply = api(eva2).post(base, {"body": "The loss: see line 3."}, format="json")
    assert reply.status_code == 201
    assert [c["author"] for c in api(eva1).get(base).json()] == ["moderator", "eva2"]
    assert Notification.objects.filter(user=eva1, kind=Notification.Kind.DISCUSSION).count() == 2
    assert Notification.objects.filter(user=team.moderator, kind=Notification.Kind.DISCUSSION).count() == 1
    outsider = member(team.project, evaluator=True, username="eva4")
    assert api(outsider).get(base).status_code == 403
    assert api(team.moderator).post(base, {"body": "  "}, format="json").status_code == 400
    client.force_login(eva1)
    page = client.get(f"/p/{team.project.slug}/conflicts/{item.id}/discussion/").content.decode()
    assert "The loss: see line 3." in page


def test_discussion_page_refuses_items_in_blind_labelling(client, team):
    rnd = team_round(team, n=1)
    item = rnd.items.get()
    client.force_login(team.evaluators[0])
    assert client.get(f"/p/{team.project.slug}/conflicts/{item.id}/discussion/").status_code == 404
