"""Two rules at the edges of the labelling loop: an escalation that runs after its round was closed
sends the item to the moderators instead of assigning anyone, and a label merge re-evaluates the
undecided items whose annotations it made equal."""

import threading
import time

import pytest
from django.conf import settings
from django.db import connection, transaction

from labelling import selectors, services
from labelling.models import Assignment, Round, RoundItem
from tests.factories import ArtefactFactory, ProjectFactory, member
from tests.helpers import WAIT, join_all


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
    monkeypatch.setattr(item_escalate_task, "apply_async", lambda *a, **k: None)  # queued, not run yet
    for assignment, label in zip(pair(item), ["a", "b"], strict=True):
        submit(assignment, label=label)

    closing, results = threading.Event(), {}

    def close_slowly():
        try:
            with transaction.atomic():
                services.round_close(round=Round.objects.get(pk=rnd.pk), user=lead)
                closing.set()
                # Only widens the window in which the escalation starts while the close is uncommitted:
                # the assertions below hold whatever its length (0 s: the escalation reads the closed round;
                # longer: it waits for this transaction's lock, then reads it).
                time.sleep(0.5)
        finally:
            connection.close()

    def escalate():
        try:
            assert closing.wait(WAIT)
            results["outcome"] = services.item_escalate(item_id=item.id)
        finally:
            connection.close()

    threads = [threading.Thread(target=close_slowly), threading.Thread(target=escalate)]
    for t in threads:
        t.start()
    join_all(threads)
    assert results["outcome"] == "conflict"
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and "round closed" in item.conflict_reason.lower()
    assert Assignment.objects.filter(item=item).count() == 2


# --- a label merge re-evaluates what it made equal ---------------------------------------------


def label(team, name):
    return services.label_get_or_create(project=team.project, name=name)


def merge(team, source, target):
    return services.label_merge(source_id=label(team, source).id, target_id=label(team, target).id, user=team.lead)


def test_merge_decides_a_disagreement_whose_labels_it_made_one(team, django_capture_on_commit_callbacks):
    rnd = make_round(team, 2)
    disputed, untouched = rnd.items.order_by("id")
    a1, a2 = pair(disputed)
    submit(a1, label="Shape mismatch")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        submit(a2, label="wrong shape")
    b1, b2 = pair(untouched)
    submit(b1, label="wrong shape")
    submit(b2, verdict="unclear")  # a label against a verdict: no merge makes these agree
    assert RoundItem.objects.get(pk=disputed.pk).had_disagreement

    target = merge(team, "wrong shape", "shape mismatch")

    disputed.refresh_from_db()
    assert disputed.status == RoundItem.Status.AGREED and disputed.final_label == target
    assert disputed.taxonomy_label == target and disputed.decided_at is not None
    assert disputed.history[-1]["event"] == "decided after merge" and disputed.history[-1]["by"] == "lead"
    untouched.refresh_from_db()
    assert untouched.status == RoundItem.Status.LABELLING and untouched.final_label is None
    for task in queued:  # the escalation queued by the disagreement finds the item decided
        task()
    assert Assignment.objects.filter(item=disputed).count() == 2


def test_merge_waits_for_a_third_evaluator_already_asked_then_the_majority_decides(
    team, django_capture_on_commit_callbacks
):
    rnd = make_round(team)
    item = rnd.items.get()
    a1, a2 = pair(item)
    submit(a1, label="loss nan")
    with django_capture_on_commit_callbacks(execute=True):
        submit(a2, label="NaN in loss")
    third = Assignment.objects.get(item=item, order=3)

    merge(team, "NaN in loss", "loss nan")

    item.refresh_from_db()
    assert item.status == RoundItem.Status.LABELLING  # as when an edit makes the first two agree
    submit(third, label="something else")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.MAJORITY and item.final_label.name == "loss nan"


def test_merge_decides_a_conflict_it_gives_a_majority_and_takes_it_from_the_moderators(
    team, django_capture_on_commit_callbacks
):
    rnd = make_round(team, 2)
    item = rnd.items.order_by("id").first()
    a1, a2 = pair(item)
    submit(a1, label="a")
    with django_capture_on_commit_callbacks(execute=True):
        submit(a2, label="b")
    submit(Assignment.objects.get(item=item, order=3), label="c")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and item.is_conflict
    reason = item.conflict_reason
    assert list(selectors.conflict_queue(project=team.project)) == [item]

    target = merge(team, "c", "a")

    item.refresh_from_db()
    assert item.status == RoundItem.Status.MAJORITY and item.final_label == target
    assert not item.is_conflict and item.conflict_reason == "" and item.had_disagreement
    assert item.history[-1]["was"] == {"status": "conflict", "conflict_reason": reason}
    assert list(selectors.conflict_queue(project=team.project)) == []


def test_merge_leaves_a_conflict_without_majority_with_the_moderators(team, django_capture_on_commit_callbacks):
    rnd = make_round(team)
    item = rnd.items.get()
    a1, a2 = pair(item)
    submit(a1, label="a")
    with django_capture_on_commit_callbacks(execute=True):
        submit(a2, label="b")
    submit(Assignment.objects.get(item=item, order=3), verdict="generic")
    label(team, "unrelated")

    merge(team, "unrelated", "a")

    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and item.is_conflict


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_merge_while_the_second_labels_land_decides_every_item_and_never_deadlocks(monkeypatch):
    """eva1 answered "src" everywhere; eva2 answers "tgt" item by item while the lead merges src into
    tgt. Whichever comes first on an item, it ends agreed: a submission before the merge is
    re-evaluated by it, one after it reads the merged answers."""
    from labelling.tasks import item_escalate_task

    monkeypatch.setattr(item_escalate_task, "apply_async", lambda *a, **k: None)  # no worker in this test
    project = ProjectFactory()
    lead = member(project, lead=True, username="lead")
    eva1, eva2 = (member(project, evaluator=True, username=f"eva{i}") for i in (1, 2))
    artefacts = ArtefactFactory.create_batch(16, project=project)
    rnd = services.round_create(
        project=project, user=lead, evaluator_ids=[eva1.id, eva2.id], artefact_ids=[a.id for a in artefacts]
    )
    items = list(rnd.items.order_by("id"))
    for item in items:
        submit(item.assignments.get(evaluator=eva1), label="src")
    second = [item.assignments.get(evaluator=eva2).id for item in items]
    source = services.label_get_or_create(project=project, name="src")
    target = services.label_get_or_create(project=project, name="tgt")
    started, errors = threading.Event(), []

    def answer():
        try:
            for i, assignment_id in enumerate(second):
                if i == 4:
                    started.set()
                services.annotation_submit(assignment_id=assignment_id, user=eva2, label="tgt")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            started.set()
            connection.close()

    def merge_now():
        try:
            assert started.wait(WAIT)
            services.label_merge(source_id=source.id, target_id=target.id, user=lead)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer), threading.Thread(target=merge_now)]
    for t in threads:
        t.start()
    join_all(threads)
    assert not errors, errors
    statuses = list(RoundItem.objects.filter(round=rnd).values_list("status", "final_label_id"))
    assert statuses == [(RoundItem.Status.AGREED, target.id)] * len(items)
    assert Assignment.objects.filter(round=rnd).count() == 2 * len(items)


@pytest.mark.services
@pytest.mark.skipif(
    not settings.CONCORD_PREPARED_SQL,
    reason="a property of the prepared escalation read (FOR SHARE of the round); the ORM cannot share-lock",
)
@pytest.mark.django_db(transaction=True)
def test_escalations_in_one_round_do_not_wait_for_each_other(monkeypatch):
    """The round's row is only share-locked by an escalation: a second escalation in the same round
    goes through while the first one's transaction is still open (a lock wait would time out)."""
    from labelling.tasks import item_escalate_task

    project = ProjectFactory()
    lead = member(project, lead=True, username="lead")
    evaluators = [member(project, evaluator=True, username=f"eva{i}") for i in (1, 2, 3)]
    artefacts = ArtefactFactory.create_batch(6, project=project)
    rnd = services.round_create(
        project=project, user=lead, evaluator_ids=[e.id for e in evaluators], artefact_ids=[a.id for a in artefacts]
    )
    monkeypatch.setattr(item_escalate_task, "apply_async", lambda *a, **k: None)
    first, second = list(rnd.items.order_by("id"))[:2]
    for item in (first, second):
        for assignment, label in zip(pair(item), ["a", "b"], strict=True):
            submit(assignment, label=label)

    holding, release, results = threading.Event(), threading.Event(), {}

    def escalate_and_hold():
        try:
            with transaction.atomic():
                results["first"] = services.item_escalate(item_id=first.id)
                holding.set()
                release.wait(WAIT)
        finally:
            holding.set()
            connection.close()

    def escalate_meanwhile():
        try:
            assert holding.wait(WAIT)
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '500ms'")
                results["second"] = services.item_escalate(item_id=second.id)
        except Exception as exc:  # noqa: BLE001 - reported below
            results["second"] = repr(exc)
        finally:
            release.set()
            connection.close()

    threads = [threading.Thread(target=escalate_and_hold), threading.Thread(target=escalate_meanwhile)]
    for t in threads:
        t.start()
    join_all(threads)
    assert results == {"first": "assigned", "second": "assigned"}
    assert Assignment.objects.filter(item__in=[first, second], order=3).count() == 2
