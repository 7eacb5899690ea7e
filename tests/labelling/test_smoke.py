from labelling import services
from labelling.models import Assignment, RoundItem
from tests.factories import ArtefactFactory


def test_disagreement_assigns_third_and_majority_decides(team, django_capture_on_commit_callbacks):
    artefacts = ArtefactFactory.create_batch(3, project=team.project)
    rnd = services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in team.evaluators[:2]],
        artefact_ids=[a.id for a in artefacts],
    )
    item = rnd.items.first()
    a1, a2 = item.assignments.order_by("order")
    services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label="Wrong loss")
    with django_capture_on_commit_callbacks(execute=True):
        services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label="missing softmax")
    item.refresh_from_db()
    assert item.had_disagreement and item.status == RoundItem.Status.LABELLING
    third = Assignment.objects.get(item=item, order=3)
    assert third.evaluator == team.evaluators[2]
    services.annotation_submit(assignment_id=third.id, user=third.evaluator, label="wrong loss.")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.MAJORITY
    assert item.final_label.normalised == "wrong loss"
