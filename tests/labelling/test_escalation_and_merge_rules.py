"""Two rules at the edges of the labelling loop: an escalation that runs after its round was closed
sends the item to the moderators instead of assigning anyone, and a label merge re-evaluates the
undecided items whose annotations it made equal."""

import threading
import time

import pytest
from django.db import connection, transaction

from labelling import selectors, services
from labelling.models import Assignment, Round, RoundItem
from tests.factories import ArtefactFactory, ProjectFactory, member


def make_round(team, n=1, evaluators=None):
    evaluators = evaluators if evaluators is not None else team.evaluators[:2]
    artefacts = ArtefactFactory.create_batch(n, project=team.project)
    return services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in evaluators],
        artefact_ids=[a.id for a in artefacts],
    )


def pair(item):
    return list(item.assignments.order_by("order"))


def submit(assignment, **answer):
    return services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, **answer)


# --- escalation after the round was closed ---------------------------------------------------


def test_escalation_queued_before_the_round_closed_sends_the_item_to_the_moderators(
    team, django_capture_on_commit_callbacks
):
    rnd = make_round(team)
    item = rnd.items.get()
    a1, a2 = pair(item)
    submit(a1, label="a")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        submit(a2, label="b")
    assert len(queued) == 1  # the escalation task is in the queue…
    services.round_close(round=rnd, user=team.lead)
    queued[0]()  # …and the worker runs it after the lead closed the round

    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and item.is_conflict and item.had_disagreement
    assert "round closed" in item.conflict_reason.lower()
    assert Assignment.objects.filter(item=item).count() == 2  # nobody new was assigned
    assert set(rnd.evaluators.values_list("id", flat=True)) == {a1.evaluator_id, a2.evaluator_id}
    assert list(selectors.conflict_queue(project=team.project)) == [item]  # the moderators see it, with why
    assert services.item_escalate(item_id=item.id) == "noop"  # a redelivered task changes nothing


def test_escalation_in_an_open_round_still_assigns(team, django_capture_on_commit_callbacks):
    rnd = make_round(team)
    a1, a2 = pair(rnd.items.get())
    submit(a1, label="a")
    with django_capture_on_commit_callbacks(execute=True):
        submit(a2, label="b")
    third = Assignment.objects.get(item=a1.item_id, order=3)
    assert third.evaluator == team.evaluators[2]
    assert RoundItem.objects.get(pk=a1.item_id).status == RoundItem.Status.LABELLING


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_closing_the_round_while_the_escalation_runs_never_leaves_a_new_assignment_in_a_closed_round(monkeypatch):
    """The lead's close is in flight (its transaction holds the round row) when the task starts: the
    task waits for it and then sees the closed round, instead of assigning from a stale read."""
    from labelling.tasks import item_escalate_task

    project = ProjectFactory()
    lead = member(project, lead=True, username="lead")
    evaluators = [member(project, evaluator=True, username=f"eva{i}") for i in (1, 2, 3)]
    artefact = ArtefactFactory(project=project)
    rnd = services.round_create(
        project=project, user=lead, evaluator_ids=[e.id for e in evaluators[:2]], artefact_ids=[artefact.id]
    )
    item = rnd.items.get()
    monkeypatch.setattr(item_escalate_task, "delay", lambda *a, **k: None)  # queued, not run yet
    for assignment, label in zip(pair(item), ["a", "b"], strict=True):
        submit(assignment, label=label)

    closing, results = threading.Event(), {}

    def close_slowly():
        try:
            with transaction.atomic():
                services.round_close(round=Round.objects.get(pk=rnd.pk), user=lead)
                closing.set()
                time.sleep(0.5)  # the escalation starts meanwhile
        finally:
            connection.close()

    def escalate():
        try:
            assert closing.wait(10)
            results["outcome"] = services.item_escalate(item_id=item.id)
        finally:
            connection.close()

    threads = [threading.Thread(target=close_slowly), threading.Thread(target=escalate)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["outcome"] == "conflict"
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and "round closed" in item.conflict_reason.lower()
    assert Assignment.objects.filter(item=item).count() == 2
