"""A moderator sends a conflict back to some of its evaluators with a reason: their assignments reopen
(first in their queue, with a badge and the reason, a notification), the others' answers stand, and once
they all answered the item is decided again by the usual rules — agreement or majority decides it, a
disagreement asks for a tie-break or goes back to the moderators. Never another evaluator's label."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core import services as core_services
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import AuditEvent, Membership, Notification
from labelling import selectors, services
from labelling.models import Assignment, RoundItem
from tests.factories import ProjectFactory, member, team_round

REASON = "The stack trace shows a shape mismatch; look at the reshape again."


def submit(assignment, **answer):
    return services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, **answer)


@pytest.fixture
def conflict(team, django_capture_on_commit_callbacks):
    """An item three evaluators answered differently (the cap): a conflict with the moderators."""
    rnd = team_round(team)
    item = rnd.items.get()
    a1, a2 = item.assignments.order_by("order")
    submit(a1, label="exploding gradients")
    with django_capture_on_commit_callbacks(execute=True):
        submit(a2, label="wrong loss function")
    a3 = item.assignments.get(order=3)
    with django_capture_on_commit_callbacks(execute=True):
        submit(a3, label="noisy training data")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT
    team.item, team.a1, team.a2, team.a3 = item, a1, a2, a3
    return team


def send_back(team, *evaluators, reason=REASON, user=None):
    return services.conflict_send_back(
        item_id=team.item.id,
        user=user or team.moderator,
        evaluator_ids=[e.id for e in evaluators],
        reason=reason,
    )


def fresh(assignment):
    return Assignment.objects.get(id=assignment.id)


def test_send_back_reopens_the_chosen_assignments_notifies_and_records(conflict):
    t = conflict
    eva1, eva2, _ = t.evaluators
    item = send_back(t, eva1, eva2)

    item.refresh_from_db()
    assert item.status == RoundItem.Status.LABELLING and item.sent_back and item.is_conflict
    for assignment in (t.a1, t.a2):
        reopened = fresh(assignment)
        assert reopened.completed_at is None and reopened.is_sent_back
        assert reopened.sent_back_reason == REASON and reopened.sent_back_by == t.moderator
    assert fresh(t.a3).completed_at is not None and not fresh(t.a3).is_sent_back
    assert list(selectors.conflict_queue(project=t.project)) == []  # out of the moderators' queue meanwhile
    assert [a.id for a in selectors.conflict_sent_back(item=item)] == [t.a1.id, t.a2.id]
    assert item.history[-1]["event"] == "sent back" and item.history[-1]["to"] == ["eva1", "eva2"]

    sent = Notification.objects.filter(kind=Notification.Kind.SENT_BACK).order_by("user__username")
    assert [(n.user, n.url) for n in sent] == [
        (eva1, f"/p/{t.project.slug}/a/{t.a1.id}/"),
        (eva2, f"/p/{t.project.slug}/a/{t.a2.id}/"),
    ]
    assert "exploding" not in sent[0].text and "wrong loss" not in sent[0].text  # no label in the notification
    event = AuditEvent.objects.get(action="conflict.send_back")
    assert event.actor_name == "moderator" and event.target == f"item {item.id}"
    assert event.details == {"evaluators": ["eva1", "eva2"], "reason": REASON}


def test_sent_back_work_comes_first_in_the_queue_and_the_api(conflict):
    t = conflict
    eva1 = t.evaluators[0]
    later = team_round(t, n=2, evaluators=[eva1, t.evaluators[2]])  # open work of a later round…
    tie_break = later.items.first().assignments.get(evaluator=eva1)
    Assignment.objects.filter(id=tie_break.id).update(order=3)  # …one of it a tie-break
    send_back(t, eva1)

    queue = list(selectors.evaluator_queue(project=t.project, user=eva1))
    assert queue[0].id == t.a1.id and queue[0].is_sent_back and queue[0].sent_back_reason == REASON
    assert queue[1].id == tie_break.id and queue[1].is_tie_break
    mine = list(selectors.assignments_mine(project=t.project, user=eva1))
    assert mine[0].id == t.a1.id

    api = APIClient()
    api.force_authenticate(eva1)
    listed = api.get(f"/api/projects/{t.project.slug}/assignments/").json()["results"]
    assert listed[0]["id"] == t.a1.id and listed[0]["sent_back_reason"] == REASON
    assert listed[0]["annotation"]["label"] == "exploding gradients"  # their own answer, to revise
    assert "wrong loss" not in str(listed) and "noisy" not in str(listed)  # never the others' labels


def test_confirmed_disagreement_goes_back_to_the_moderators(conflict, django_capture_on_commit_callbacks):
    t = conflict
    send_back(t, t.evaluators[0])
    with django_capture_on_commit_callbacks(execute=True):
        submit(fresh(t.a1), label="exploding gradients")  # confirmed as it was
    t.item.refresh_from_db()
    assert t.item.status == RoundItem.Status.CONFLICT and not t.item.sent_back
    assert list(selectors.conflict_queue(project=t.project)) == [t.item]
    assert Notification.objects.filter(kind=Notification.Kind.CONFLICT, user=t.moderator).count() == 2
    assert fresh(t.a1).completed_at is not None and not fresh(t.a1).is_sent_back


def test_a_revision_that_makes_a_majority_decides_the_item(conflict):
    t = conflict
    send_back(t, t.evaluators[0])
    submit(fresh(t.a1), label="Wrong loss function")  # now as evaluator 2
    t.item.refresh_from_db()
    assert t.item.status == RoundItem.Status.MAJORITY and t.item.final_label.name == "wrong loss function"
    assert t.item.is_conflict  # it did reach the moderators (Table 1)


def test_the_item_waits_for_everyone_it_was_sent_back_to_then_agreement_decides(team):
    team.project.max_evaluators_per_artefact = 2
    team.project.save()
    item = team_round(team).items.get()
    a1, a2 = item.assignments.order_by("order")
    submit(a1, verdict="generic")
    submit(a2, label="missing softmax")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT
    team.item = item
    send_back(team, *team.evaluators[:2])

    submit(fresh(a2), verdict="generic")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.LABELLING and item.sent_back  # evaluator 1 has not answered yet
    submit(fresh(a1), verdict="generic")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.AGREED and item.final_verdict == "generic" and not item.sent_back


def test_a_disagreement_below_the_cap_asks_for_a_tie_break(team, django_capture_on_commit_callbacks):
    """A conflict for want of a third evaluator: sent back and still disagreeing, it is escalated again —
    to an evaluator who joined in the meantime."""
    for evaluator in team.evaluators[2:]:
        Membership.objects.filter(project=team.project, user=evaluator).update(is_evaluator=False)
    item = team_round(team).items.get()
    a1, a2 = item.assignments.order_by("order")
    submit(a1, label="a")
    with django_capture_on_commit_callbacks(execute=True):
        submit(a2, label="b")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and "No eligible evaluator" in item.conflict_reason
    newcomer = member(team.project, evaluator=True, username="newcomer")
    team.item = item
    send_back(team, team.evaluators[0])
    with django_capture_on_commit_callbacks(execute=True):
        submit(fresh(a1), label="a")
    tie_break = Assignment.objects.get(item=item, order=3)
    assert tie_break.evaluator == newcomer and tie_break.completed_at is None
    item.refresh_from_db()
    assert item.status == RoundItem.Status.LABELLING and not item.sent_back


def test_only_the_evaluators_it_went_back_to_may_answer(conflict):
    t = conflict
    send_back(t, t.evaluators[0])
    with pytest.raises(Conflict, match="sent this artefact back to other evaluators"):
        submit(fresh(t.a2), label="exploding gradients")
    assert fresh(t.a2).annotation.label.name == "wrong loss function"
    eva2 = t.evaluators[1]
    assert not selectors.assignment_editable(
        assignment=selectors.evaluator_assignment(project=t.project, user=eva2, assignment_id=t.a2.id)
    )
    assert selectors.assignment_editable(
        assignment=selectors.evaluator_assignment(project=t.project, user=t.evaluators[0], assignment_id=t.a1.id)
    )


def test_rules_of_sending_back(conflict):
    t = conflict
    eva1, eva2, eva3 = t.evaluators
    for who in (t.lead, eva1):
        with pytest.raises(NotAllowed):
            send_back(t, eva1, user=who)
    with pytest.raises(InvalidInput) as error:
        send_back(t, eva1, reason="  ")
    assert error.value.field == "reason"
    with pytest.raises(InvalidInput) as error:
        send_back(t)
    assert error.value.field == "evaluator_ids"
    with pytest.raises(InvalidInput, match="who labelled"):
        send_back(t, eva1, t.moderator)
    Membership.objects.filter(project=t.project, user=eva3).update(is_active=False)
    with pytest.raises(InvalidInput, match="eva3"):
        send_back(t, eva3)
    other = ProjectFactory()
    member(other, moderator=True, username="elsewhere")
    with pytest.raises(NotFound):
        services.conflict_send_back(
            item_id=t.item.id, user=t.moderator, evaluator_ids=[eva1.id], reason="x", project=other
        )
    assert not t.item.assignments.filter(sent_back_at__isnull=False).exists()  # nothing written so far

    send_back(t, eva1)
    with pytest.raises(Conflict, match="not a conflict"):  # sent back already: not in the queue
        send_back(t, eva2)
    t.item.round.status = "closed"
    t.item.round.save()
    RoundItem.objects.filter(id=t.item.id).update(status=RoundItem.Status.CONFLICT)
    with pytest.raises(Conflict, match="round is closed"):
        send_back(t, eva2)


def test_a_merge_leaves_a_sent_back_item_to_its_evaluators(conflict):
    t = conflict
    send_back(t, t.evaluators[0])
    loss = t.a2.annotation.label
    services.label_merge(source_id=t.a3.annotation.label_id, target_id=loss.id, user=t.lead)  # now a majority
    t.item.refresh_from_db()
    assert t.item.status == RoundItem.Status.LABELLING and t.item.sent_back
    submit(fresh(t.a1), label="exploding gradients")
    t.item.refresh_from_db()
    assert t.item.status == RoundItem.Status.MAJORITY and t.item.final_label == loss


def test_a_member_who_leaves_keeps_their_earlier_answer(conflict, django_capture_on_commit_callbacks):
    t = conflict
    send_back(t, t.evaluators[0])
    membership = Membership.objects.get(project=t.project, user=t.evaluators[0])
    with django_capture_on_commit_callbacks(execute=True):
        report = core_services.member_deactivate(project=t.project, by=t.lead, membership_id=membership.id)
    assert report["moved"] == []  # an answered assignment is never handed to someone else
    assert fresh(t.a1).evaluator == t.evaluators[0] and fresh(t.a1).completed_at is not None
    t.item.refresh_from_db()
    assert t.item.status == RoundItem.Status.CONFLICT and not t.item.sent_back  # decided again: still no majority


def test_pages_show_the_reason_and_the_discussion_never_the_other_labels(conflict):
    t = conflict
    eva1, eva2, _ = t.evaluators
    moderator = Client()
    moderator.force_login(t.moderator)
    page = f"/p/{t.project.slug}/conflicts/{t.item.id}/"
    assert 'id="send-back-form"' in moderator.get(page).content.decode()
    response = moderator.post(page, {"action": "send_back", "reason": REASON})
    assert response.status_code == 400 and "Choose at least one evaluator" in response.content.decode()
    response = moderator.post(page, {"action": "send_back", "evaluator_ids": [eva1.id], "reason": ""})
    assert response.status_code == 400 and "Say why the artefact goes back" in response.content.decode()
    assert 'aria-invalid="true" aria-describedby="reason-error"' in response.content.decode()
    response = moderator.post(page, {"action": "send_back", "evaluator_ids": [eva1.id], "reason": REASON})
    assert response.status_code == 302
    assert fresh(t.a1).is_sent_back
    detail = moderator.get(page).content.decode()
    assert 'id="sent-back-status"' in detail and REASON in detail

    evaluator = Client()
    evaluator.force_login(eva1)
    queue = evaluator.get(f"/p/{t.project.slug}/queue/").content.decode()
    assert "Sent back" in queue and "shape mismatch" in queue
    labelling = evaluator.get(f"/p/{t.project.slug}/a/{t.a1.id}/").content.decode()
    assert REASON in labelling and f"/conflicts/{t.item.id}/discussion/" in labelling
    assert 'id="annotation-form"' in labelling and "exploding gradients" in labelling  # their own, to revise
    assert "wrong loss function" not in labelling and "noisy training data" not in labelling
    discussion = evaluator.post(f"/p/{t.project.slug}/conflicts/{t.item.id}/discussion/", {"body": "I see it now."})
    assert discussion.status_code == 302  # the item left blind labelling: the discussion stays open

    other = Client()
    other.force_login(eva2)
    theirs = other.get(f"/p/{t.project.slug}/a/{t.a2.id}/").content.decode()
    assert 'id="annotation-form"' not in theirs and "sent this artefact back to other evaluators" in theirs
    assert "exploding gradients" not in theirs and REASON not in theirs


def test_the_api_sends_back_and_names_the_field_of_a_refusal(conflict):
    t = conflict
    api = APIClient()
    api.force_authenticate(t.moderator)
    url = f"/api/projects/{t.project.slug}/conflicts/{t.item.id}/send-back/"
    refused = api.post(url, {"evaluator_ids": [t.lead.id], "reason": REASON}, format="json")
    assert refused.status_code == 400 and "evaluator_ids" in refused.json()
    sent = api.post(url, {"evaluator_ids": [t.evaluators[1].id], "reason": REASON}, format="json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["status"] == "labelling" and sent.json()["sent_back"] is True
    assert fresh(t.a2).is_sent_back
    again = api.post(url, {"evaluator_ids": [t.evaluators[1].id], "reason": REASON}, format="json")
    assert again.status_code == 409
