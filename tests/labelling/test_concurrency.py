"""Exactly once under real concurrency (PostgreSQL, separate connections, real threads) and with
the real Celery worker consuming from Redis. Marked `services`: skipped without them."""

import threading

import pytest
from celery.signals import task_postrun
from django.db import close_old_connections

from labelling import services
from labelling.models import Annotation, Assignment, RoundItem
from labelling.tasks import item_escalate_task
from tests.factories import ArtefactFactory, ProjectFactory, member
from tests.helpers import WAIT, in_threads, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def crew():
    project = ProjectFactory()
    lead = member(project, lead=True, username="lead")
    evaluators = [member(project, evaluator=True, username=f"eva{i}") for i in (1, 2, 3, 4)]
    return project, lead, evaluators


def two_evaluator_round(project, lead, evaluators, n):
    artefacts = ArtefactFactory.create_batch(n, project=project)
    return services.round_create(
        project=project, user=lead, evaluator_ids=[e.id for e in evaluators], artefact_ids=[a.id for a in artefacts]
    )


def test_two_second_labels_at_the_same_moment_make_exactly_one_third_assignment(crew):
    """For each of 12 items both evaluators submit different labels at the same instant (a barrier);
    whichever lands second must see the other's label, so each item gets exactly one third evaluator."""
    project, lead, (eva1, eva2, *_) = crew
    rnd = two_evaluator_round(project, lead, [eva1, eva2], 12)
    items = list(rnd.items.order_by("id"))
    plan = {
        user.id: [item.assignments.get(evaluator=user).id for item in items] for user in (eva1, eva2)
    }  # built before the threads start
    barrier = threading.Barrier(2)

    def evaluator(user, prefix):
        def work():
            outcomes = []
            for i, assignment_id in enumerate(plan[user.id]):
                barrier.wait(timeout=WAIT)
                services.annotation_submit(assignment_id=assignment_id, user=user, label=f"{prefix} {i}")
                outcomes.append(assignment_id)
            return outcomes

        return work

    in_threads(evaluator(eva1, "alpha"), evaluator(eva2, "beta"))

    assert Annotation.objects.filter(assignment__round=rnd).count() == 24  # no label lost
    for item in RoundItem.objects.filter(round=rnd):
        orders = sorted(Assignment.objects.filter(item=item).values_list("order", flat=True))
        assert orders == [1, 2, 3], f"item {item.id}: {orders}"
        assert item.had_disagreement and item.status == RoundItem.Status.LABELLING


def test_simultaneous_escalations_assign_one_evaluator(crew, monkeypatch):
    project, lead, (eva1, eva2, *_) = crew
    rnd = two_evaluator_round(project, lead, [eva1, eva2], 1)
    item = rnd.items.get()
    monkeypatch.setattr(item_escalate_task, "apply_async", lambda *a, **k: None)  # the task is "in the queue"
    for assignment, label in zip(item.assignments.order_by("order"), ["a", "b"], strict=True):
        services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label=label)
    assert Assignment.objects.filter(item=item).count() == 2
    outcomes = in_threads(*[lambda: services.item_escalate(item_id=item.id)] * 6, together=True)
    assert sorted(outcomes) == ["assigned"] + ["noop"] * 5
    assert Assignment.objects.filter(item=item).count() == 3


def test_many_evaluators_at_once_lose_nothing(crew):
    """Four evaluators hammer a shared round at once: every annotation is kept, no item has two
    extra evaluators, every decided item is decided by its annotations."""
    project, lead, evaluators = crew
    rnd = two_evaluator_round(project, lead, evaluators, 24)
    mine = {
        e.id: list(Assignment.objects.filter(round=rnd, evaluator=e).values_list("id", flat=True)) for e in evaluators
    }

    def work(user):
        def run():
            for assignment_id in mine[user.id]:
                label = "same" if assignment_id % 3 else f"own {user.username}"
                services.annotation_submit(assignment_id=assignment_id, user=user, label=label)

        return run

    in_threads(*[work(e) for e in evaluators], together=True)
    assert Annotation.objects.filter(assignment__round=rnd).count() == 48
    for item in RoundItem.objects.filter(round=rnd):
        n = Assignment.objects.filter(item=item).count()
        assert n == (3 if item.had_disagreement else 2)


def test_disagreement_task_runs_in_the_real_worker(crew, celery_worker_live):
    """The escalation is queued in Redis after commit and done by the worker thread; redelivered
    duplicates are no-ops."""
    project, lead, (eva1, eva2, *_) = crew
    rnd = two_evaluator_round(project, lead, [eva1, eva2], 1)
    item = rnd.items.get()
    ran_in = []

    def record(sender=None, retval=None, **kwargs):
        if sender is not None and sender.name == item_escalate_task.name:
            ran_in.append((threading.get_ident(), retval))

    task_postrun.connect(record, weak=False)
    try:
        for assignment, label in zip(item.assignments.order_by("order"), ["a", "b"], strict=True):
            services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label=label)
        # The task's outcome is recorded after its transaction commits: wait for both.
        wait_until(lambda: ran_in, message="the escalation task never finished in the worker")
        close_old_connections()
        third = Assignment.objects.get(item=item, order=3)
        assert third.evaluator.username == "eva3"
        assert ran_in[0][0] != threading.get_ident() and ran_in[0][1] == "assigned"
        # The broker delivers the task again (a worker restarted before acking), twice.
        again = [item_escalate_task.delay(item.id) for _ in range(2)]
        assert [r.get(timeout=WAIT) for r in again] == ["noop", "noop"]
        assert Assignment.objects.filter(item=item).count() == 3
    finally:
        task_postrun.disconnect(record)
