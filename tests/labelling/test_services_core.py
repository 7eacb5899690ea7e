"""Services: rounds, annotations, decisions, escalation and conflicts; bad input writes nothing."""

from collections import Counter

import pytest

from collection.models import Artefact
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from labelling import services
from labelling.models import Annotation, Assignment, Label, Round, RoundItem, Verdict
from labelling.tasks import item_escalate_task
from tests.factories import ArtefactFactory, UserFactory, member, team_round


def pair(item):
    return list(item.assignments.order_by("order"))


def counts():
    return (Round.objects.count(), RoundItem.objects.count(), Assignment.objects.count(), Annotation.objects.count())


# --- rounds -------------------------------------------------------------------------------


def test_round_by_sample_is_seeded_filtered_and_balanced(team):
    ArtefactFactory.create_batch(30, project=team.project, kind=Artefact.Kind.SO_QUESTION, framework="keras")
    ArtefactFactory.create_batch(10, project=team.project, kind=Artefact.Kind.GH_ISSUE, framework="pytorch")
    ids = [e.id for e in team.evaluators]
    rnd = services.round_create(
        project=team.project, user=team.lead, evaluator_ids=ids, sample_size=12, seed=7, kinds=["so_question"]
    )
    assert rnd.number == 1 and rnd.seed == 7
    items = list(rnd.items.select_related("artefact"))
    assert len(items) == 12 and {i.artefact.kind for i in items} == {"so_question"}
    loads = Counter(Assignment.objects.filter(round=rnd).values_list("evaluator_id", flat=True))
    assert sum(loads.values()) == 24 and max(loads.values()) - min(loads.values()) <= 1
    # The same seed over the same pool picks the same artefacts.
    chosen = sorted(i.artefact_id for i in items)
    RoundItem.objects.filter(round=rnd).delete()
    again = services.round_create(
        project=team.project, user=team.lead, evaluator_ids=ids, sample_size=12, seed=7, kinds=["so_question"]
    )
    assert sorted(again.items.values_list("artefact_id", flat=True)) == chosen


def test_round_takes_only_the_unlabelled_pool(team):
    first = team_round(team, 2)
    used = list(first.items.values_list("artefact_id", flat=True))
    before = counts()
    with pytest.raises(InvalidInput) as err:
        services.round_create(
            project=team.project, user=team.lead, evaluator_ids=[e.id for e in team.evaluators], artefact_ids=used
        )
    assert err.value.field == "artefact_ids" and "pool" in err.value.message
    assert counts() == before


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"sample_size": 6}, "sample_size"),  # larger than the pool of 5
        ({"sample_size": 0}, "sample_size"),
        ({"sample_size": 2, "kinds": ["tweet"]}, "kinds"),
        ({"sample_size": 2, "artefact_ids": [1]}, "sample_size"),
        ({}, "sample_size"),
        ({"artefact_ids": []}, "artefact_ids"),
        ({"artefact_ids": [10**9]}, "artefact_ids"),
        ({"sample_size": 2, "evaluators": "one"}, "evaluator_ids"),
        ({"sample_size": 2, "evaluators": "outsider"}, "evaluator_ids"),
        ({"sample_size": 2, "evaluators": "moderator"}, "evaluator_ids"),
        ({"sample_size": 2, "number": 1}, "number"),
    ],
)
def test_round_bad_input_names_the_field_and_writes_nothing(team, kwargs, field):
    ArtefactFactory.create_batch(5, project=team.project)
    if kwargs.get("number") == 1:
        team_round(team, 1)
    evaluators = kwargs.pop("evaluators", "all")
    ids = {
        "all": [e.id for e in team.evaluators],
        "one": [team.evaluators[0].id],
        "outsider": [team.evaluators[0].id, UserFactory().id],
        "moderator": [team.evaluators[0].id, team.moderator.id],
    }[evaluators]
    before = counts()
    with pytest.raises(InvalidInput) as err:
        services.round_create(project=team.project, user=team.lead, evaluator_ids=ids, **kwargs)
    assert err.value.field == field and err.value.message
    assert counts() == before


def test_round_needs_the_lead_role(team):
    ArtefactFactory.create_batch(3, project=team.project)
    with pytest.raises(NotAllowed):
        services.round_create(
            project=team.project, user=team.moderator, evaluator_ids=[e.id for e in team.evaluators], sample_size=2
        )
    with pytest.raises(NotFound):
        services.round_create(
            project=team.project, user=UserFactory(), evaluator_ids=[e.id for e in team.evaluators], sample_size=2
        )
    assert Round.objects.count() == 0


def test_inactive_evaluator_cannot_join_a_round(team):
    gone = member(team.project, evaluator=True, active=False)
    with pytest.raises(InvalidInput) as err:
        team_round(team, 2, evaluators=[team.evaluators[0], gone])
    assert err.value.field == "evaluator_ids"


def test_closed_round_refuses_annotations(team):
    rnd = team_round(team, 1)
    services.round_close(round=rnd, user=team.lead)
    a1, _ = pair(rnd.items.get())
    with pytest.raises(Conflict):
        services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="x")
    assert Annotation.objects.count() == 0


# --- annotations --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"label": ""}, "label"),
        ({"label": "   "}, "label"),
        ({}, "label"),
        ({"label": "x" * 201}, "label"),
        ({"verdict": "maybe"}, "verdict"),
        ({"label": "x", "verdict": "generic"}, "verdict"),
        ({"label": "x", "note": "n" * (services.MAX_NOTE_LENGTH + 1)}, "note"),
    ],
)
def test_annotation_bad_input_names_the_field_and_writes_nothing(team, kwargs, field):
    rnd = team_round(team, 1)
    a1, _ = pair(rnd.items.get())
    with pytest.raises(InvalidInput) as err:
        services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, **kwargs)
    assert err.value.field == field
    assert Annotation.objects.count() == 0 and Label.objects.count() == 0
    a1.refresh_from_db()
    assert a1.completed_at is None


def test_label_of_exactly_200_characters_is_accepted(team):
    rnd = team_round(team, 1)
    a1, _ = pair(rnd.items.get())
    annotation = services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="  " + "y" * 200 + "  ")
    assert annotation.label.name == "y" * 200


def test_someone_elses_assignment_is_refused(team):
    rnd = team_round(team, 1)
    a1, a2 = pair(rnd.items.get())
    with pytest.raises(NotAllowed) as err:
        services.annotation_submit(assignment_id=a1.id, user=a2.evaluator, label="stolen")
    assert "another evaluator" in err.value.message
    with pytest.raises(NotFound):  # a non-member learns nothing
        services.annotation_submit(assignment_id=a1.id, user=UserFactory(), label="stolen")
    with pytest.raises(NotFound):
        services.annotation_submit(assignment_id=10**9, user=a1.evaluator, label="x")
    other_project = make_round_elsewhere()
    with pytest.raises(NotFound):  # the API names the project in the URL
        services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="x", project=other_project)
    assert Annotation.objects.count() == 0


def make_round_elsewhere():
    from tests.factories import ProjectFactory

    return ProjectFactory()


def test_edit_keeps_history_until_decided(team):
    rnd = team_round(team, 1)
    a1, a2 = pair(rnd.items.get())
    first = services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="Shape mismatch")
    assert first.was_created
    edited = services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, verdict="unclear", note="hm")
    assert not edited.was_created and edited.pk == first.pk
    assert edited.verdict == Verdict.UNCLEAR and edited.label is None
    assert [h["value"] for h in edited.history] == ["Shape mismatch"]
    services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, verdict="unclear")
    item = rnd.items.get()
    assert item.status == RoundItem.Status.AGREED and item.final_verdict == Verdict.UNCLEAR
    with pytest.raises(Conflict) as err:
        services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="changed my mind")
    assert "decided" in err.value.message
    assert Annotation.objects.get(pk=first.pk).verdict == Verdict.UNCLEAR


def test_equal_after_normalisation_agrees(team):
    rnd = team_round(team, 1)
    a1, a2 = pair(rnd.items.get())
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="Wrong  Loss Function.")
    services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="wrong loss function")
    item = rnd.items.get()
    assert item.status == RoundItem.Status.AGREED and not item.had_disagreement and not item.is_conflict
    assert item.final_label.normalised == "wrong loss function" and item.taxonomy_label == item.final_label
    assert Label.objects.filter(project=team.project).count() == 1
    assert Assignment.objects.filter(item=item).count() == 2


# --- disagreement, third evaluator, majority, conflict -------------------------------------


def disagree(rnd, django_capture_on_commit_callbacks, labels=("a", "b")):
    item = rnd.items.first()
    a1, a2 = pair(item)
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label=labels[0])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label=labels[1])
    return item, callbacks


def test_disagreement_assigns_the_least_loaded_eligible_evaluator(team, django_capture_on_commit_callbacks):
    eva1, eva2, eva3 = team.evaluators
    eva4 = member(team.project, evaluator=True, username="eva4")
    member(team.project, evaluator=True, active=False, username="eva0-inactive")
    # eva3 has open work in the round, eva4 has none: eva4 is the third evaluator.
    rnd = team_round(team, 3, evaluators=[eva1, eva2, eva3])
    item = next(i for i in rnd.items.all() if {a.evaluator for a in i.assignments.all()} == {eva1, eva2})
    a1, a2 = pair(item)
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="a")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="b")
    assert len(callbacks) == 1
    item.refresh_from_db()
    assert item.had_disagreement and not item.is_conflict and item.status == RoundItem.Status.LABELLING
    third = Assignment.objects.get(item=item, order=3)
    assert third.evaluator == eva4 and third.is_extra and third.round == rnd
    assert rnd.evaluators.filter(pk=eva4.pk).exists()


def test_tie_between_candidates_is_broken_by_username(team, django_capture_on_commit_callbacks):
    member(team.project, evaluator=True, username="aaa-evaluator")
    rnd = team_round(team, 1)
    item, _ = disagree(rnd, django_capture_on_commit_callbacks)
    assert Assignment.objects.get(item=item, order=3).evaluator.username == "aaa-evaluator"


def test_majority_decides_and_counts_the_disagreement(team, django_capture_on_commit_callbacks):
    rnd = team_round(team, 1)
    item, _ = disagree(rnd, django_capture_on_commit_callbacks, labels=("missing softmax", "wrong loss"))
    third = Assignment.objects.get(item=item, order=3)
    services.annotation_submit(assignment_id=third.id, user=third.evaluator, label="Wrong loss!")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.MAJORITY and item.had_disagreement and not item.is_conflict
    assert item.final_label.normalised == "wrong loss"


def test_no_majority_at_the_cap_becomes_a_conflict(team, django_capture_on_commit_callbacks):
    rnd = team_round(team, 1)
    item, _ = disagree(rnd, django_capture_on_commit_callbacks)
    third = Assignment.objects.get(item=item, order=3)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.annotation_submit(assignment_id=third.id, user=third.evaluator, verdict="generic")
    assert len(callbacks) == 1  # the moderators' notification; no escalation is scheduled
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and item.is_conflict and item.had_disagreement
    assert "3 evaluators" in item.conflict_reason
    assert item.final_label is None and Assignment.objects.filter(item=item).count() == 3


def test_cap_of_four_asks_a_fourth_evaluator(team, django_capture_on_commit_callbacks):
    team.project.max_evaluators_per_artefact = 4
    team.project.save()
    fourth = member(team.project, evaluator=True, username="eva4")
    rnd = team_round(team, 1)
    item, _ = disagree(rnd, django_capture_on_commit_callbacks)
    third = Assignment.objects.get(item=item, order=3)
    with django_capture_on_commit_callbacks(execute=True):
        services.annotation_submit(assignment_id=third.id, user=third.evaluator, label="c")
    assert Assignment.objects.get(item=item, order=4).evaluator == fourth
    item.refresh_from_db()
    assert item.status == RoundItem.Status.LABELLING


def test_no_eligible_evaluator_sends_the_item_to_the_moderators_with_the_reason(
    team, django_capture_on_commit_callbacks
):
    rnd = team_round(team, 1)
    team.project.memberships.filter(user=team.evaluators[2]).update(is_active=False)
    item, _ = disagree(rnd, django_capture_on_commit_callbacks)
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and item.is_conflict
    assert item.conflict_reason == "No eligible evaluator left to break the tie."
    assert Assignment.objects.filter(item=item).count() == 2


def test_retried_or_duplicated_escalation_creates_nothing_extra(team, django_capture_on_commit_callbacks):
    rnd = team_round(team, 1)
    item, _ = disagree(rnd, django_capture_on_commit_callbacks)
    assert Assignment.objects.filter(item=item).count() == 3
    # The broker redelivers the task (worker restarted before the ack), twice.
    assert item_escalate_task.apply(args=[item.id]).get() == "noop"
    assert services.item_escalate(item_id=item.id) == "noop"
    assert Assignment.objects.filter(item=item).count() == 3
    # Still a no-op once the third evaluator answered and the item is decided.
    third = Assignment.objects.get(item=item, order=3)
    services.annotation_submit(assignment_id=third.id, user=third.evaluator, label="a")
    assert services.item_escalate(item_id=item.id) == "noop"
    assert services.item_escalate(item_id=10**9) == "noop"
    assert Assignment.objects.filter(item=item).count() == 3


def test_edit_to_agree_before_the_task_runs_decides_and_the_task_does_nothing(team):
    rnd = team_round(team, 1)
    item = rnd.items.get()
    a1, a2 = pair(item)
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="a")
    services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="b")  # task not run yet
    services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="A")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.AGREED
    assert services.item_escalate(item_id=item.id) == "noop"
    assert Assignment.objects.filter(item=item).count() == 2


# --- conflicts ----------------------------------------------------------------------------


@pytest.fixture
def conflict(team, django_capture_on_commit_callbacks):
    rnd = team_round(team, 2)
    item, _ = disagree(rnd, django_capture_on_commit_callbacks, labels=("a", "b"))
    third = Assignment.objects.get(item=item, order=3)
    services.annotation_submit(assignment_id=third.id, user=third.evaluator, label="c", note="none fits")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT
    return item


def test_moderator_picks_an_annotation(team, conflict):
    picked = Annotation.objects.get(assignment__item=conflict, assignment__order=3)
    item = services.conflict_resolve(item_id=conflict.id, user=team.moderator, annotation_id=picked.id, note="met")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.RESOLVED and item.is_conflict
    assert item.final_label == picked.label and item.taxonomy_label == picked.label
    assert item.resolved_by == team.moderator and item.resolved_at and item.resolution_note == "met"


def test_moderator_types_a_new_label_or_a_verdict(team, conflict):
    item = services.conflict_resolve(item_id=conflict.id, user=team.moderator, label="Brand new label")
    assert item.final_label.name == "Brand new label"
    other = conflict.round.items.exclude(pk=conflict.pk).get()
    a1, a2 = pair(other)
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="p")
    services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="q")
    RoundItem.objects.filter(pk=other.pk).update(status=RoundItem.Status.CONFLICT, is_conflict=True)
    item = services.conflict_resolve(item_id=other.id, user=team.moderator, verdict="false_positive")
    assert item.final_verdict == Verdict.FALSE_POSITIVE and item.final_label is None


@pytest.mark.parametrize(
    "kwargs, error, field",
    [
        ({}, InvalidInput, "label"),
        ({"label": "x", "verdict": "generic"}, InvalidInput, "label"),
        ({"verdict": "nonsense"}, InvalidInput, "verdict"),
        ({"label": "x" * 201}, InvalidInput, "label"),
        ({"annotation_id": 10**9}, InvalidInput, "annotation_id"),
        ({"label": "x", "note": "n" * (services.MAX_NOTE_LENGTH + 1)}, InvalidInput, "note"),
    ],
)
def test_bad_resolutions_name_the_field_and_write_nothing(team, conflict, kwargs, error, field):
    labels = Label.objects.count()
    with pytest.raises(error) as err:
        services.conflict_resolve(item_id=conflict.id, user=team.moderator, **kwargs)
    assert err.value.field == field
    conflict.refresh_from_db()
    assert conflict.status == RoundItem.Status.CONFLICT and conflict.resolved_by is None
    assert Label.objects.count() == labels


def test_resolving_what_is_not_a_conflict_is_refused(team, conflict):
    labelling = conflict.round.items.exclude(pk=conflict.pk).get()
    with pytest.raises(Conflict) as err:
        services.conflict_resolve(item_id=labelling.id, user=team.moderator, label="x")
    assert "not a conflict" in err.value.message
    services.conflict_resolve(item_id=conflict.id, user=team.moderator, label="x")
    with pytest.raises(Conflict):  # resolved already
        services.conflict_resolve(item_id=conflict.id, user=team.moderator, label="y")
    conflict.refresh_from_db()
    assert conflict.final_label.name == "x"


def test_only_moderators_resolve(team, conflict):
    with pytest.raises(NotAllowed):
        services.conflict_resolve(item_id=conflict.id, user=team.lead, label="x")
    with pytest.raises(NotAllowed):
        services.conflict_resolve(item_id=conflict.id, user=team.evaluators[0], label="x")
    with pytest.raises(NotFound):
        services.conflict_resolve(item_id=conflict.id, user=UserFactory(), label="x")
    with pytest.raises(NotFound):
        services.conflict_resolve(item_id=conflict.id, user=team.moderator, label="x", project=make_round_elsewhere())
    conflict.refresh_from_db()
    assert conflict.status == RoundItem.Status.CONFLICT
