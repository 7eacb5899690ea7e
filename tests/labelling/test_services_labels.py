"""Label catalogue services: create, update, rename and merge (a merge rewrites annotations and decisions)."""

import pytest

from core.errors import InvalidInput, NotAllowed, NotFound
from labelling import services
from labelling.models import Annotation, Label, RoundItem
from taxonomy.models import Leaf
from tests.factories import ArtefactFactory, LabelFactory, LeafFactory, NodeFactory, ProjectFactory, UserFactory


@pytest.fixture
def decided(team):
    """Two decided items: one agreed on "shape mismatch", one on "wrong shape"; one open item."""
    artefacts = ArtefactFactory.create_batch(3, project=team.project)
    rnd = services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in team.evaluators[:2]],
        artefact_ids=[a.id for a in artefacts],
    )
    items = list(rnd.items.order_by("id"))
    for item, label in zip(items[:2], ["Shape mismatch", "wrong shape"], strict=True):
        for a in item.assignments.all():
            services.annotation_submit(assignment_id=a.id, user=a.evaluator, label=label)
    open_a = items[2].assignments.order_by("order").first()
    services.annotation_submit(assignment_id=open_a.id, user=open_a.evaluator, label="wrong shape")
    return [RoundItem.objects.get(pk=i.pk) for i in items]


def test_lead_adds_a_catalogue_label(team):
    label = services.label_create(project=team.project, user=team.lead, name="  Wrong   optimiser ", description="d")
    assert label.name == "Wrong optimiser" and label.in_catalogue and label.description == "d"
    again = services.label_create(project=team.project, user=team.lead, name="wrong optimiser.")
    assert again.pk == label.pk
    with pytest.raises(InvalidInput) as err:
        services.label_create(project=team.project, user=team.lead, name=" ")
    assert err.value.field == "name"
    with pytest.raises(NotAllowed):
        services.label_create(project=team.project, user=team.evaluators[0], name="x")


def test_label_update_toggles_the_catalogue(team):
    label = LabelFactory(project=team.project)
    services.label_update(label_id=label.id, user=team.lead, in_catalogue=True, description="why")
    label.refresh_from_db()
    assert label.in_catalogue and label.description == "why"
    with pytest.raises(NotAllowed):
        services.label_update(label_id=label.id, user=team.moderator, in_catalogue=False)
    with pytest.raises(NotFound):
        services.label_update(label_id=10**9, user=team.lead, in_catalogue=False)


def test_rename_follows_everywhere_and_records_history(team, decided):
    label = decided[0].final_label
    renamed = services.label_rename(label_id=label.id, user=team.lead, name="Tensor shape mismatch")
    assert renamed.normalised == "tensor shape mismatch"
    item = RoundItem.objects.get(pk=decided[0].pk)
    assert item.final_label.name == "Tensor shape mismatch"
    assert item.history[-1]["event"] == "rename"
    assert (item.history[-1]["from"], item.history[-1]["to"], item.history[-1]["by"]) == (
        "Shape mismatch",
        "Tensor shape mismatch",
        "lead",
    )
    assert Annotation.objects.filter(label=label).count() == 2
    # A case-only change is a rename too.
    services.label_rename(label_id=label.id, user=team.lead, name="tensor Shape mismatch")
    assert Label.objects.get(pk=label.pk).name == "tensor Shape mismatch"


def test_rename_onto_another_label_is_refused(team, decided):
    label = decided[0].final_label
    with pytest.raises(InvalidInput) as err:
        services.label_rename(label_id=label.id, user=team.lead, name="Wrong shape.")
    assert err.value.field == "name" and "merge" in err.value.message
    with pytest.raises(InvalidInput):
        services.label_rename(label_id=label.id, user=team.lead, name="x" * 201)
    with pytest.raises(NotAllowed):
        services.label_rename(label_id=label.id, user=team.evaluators[0], name="y")
    with pytest.raises(NotFound):
        services.label_rename(label_id=label.id, user=UserFactory(), name="y")
    assert Label.objects.get(pk=label.pk).name == "Shape mismatch"


def test_merge_rewrites_annotations_decisions_and_leaves(team, decided):
    source = decided[1].final_label  # "wrong shape": one decided item, three annotations
    target = decided[0].final_label  # "Shape mismatch"
    source.in_catalogue = True
    source.save()
    node_both, node_source = NodeFactory(project=team.project), NodeFactory(project=team.project)
    leaf_target = LeafFactory(node=node_both, label=target)
    leaf_twin = LeafFactory(node=node_both, label=source)
    leaf_alone = LeafFactory(node=node_source, label=source)
    RoundItem.objects.filter(pk=decided[1].pk).update(leaf=leaf_twin)

    result = services.label_merge(source_id=source.id, target_id=target.id, user=team.lead)

    assert result == target and not Label.objects.filter(pk=source.pk).exists()
    assert Label.objects.get(pk=target.pk).in_catalogue
    assert Annotation.objects.filter(label=target).count() == 5
    item = RoundItem.objects.get(pk=decided[1].pk)
    assert item.final_label == target and item.taxonomy_label == target and item.leaf == leaf_target
    assert item.history[-1]["event"] == "merge" and item.history[-1]["from"] == "wrong shape"
    merged = Annotation.objects.filter(assignment__item=decided[2], label=target).get()
    assert merged.history[-1]["value"] == "wrong shape"
    assert not Leaf.objects.filter(pk=leaf_twin.pk).exists()
    assert Leaf.objects.get(pk=leaf_alone.pk).label == target


def test_merged_labels_can_agree_afterwards(team, decided):
    """The open item's first annotation said "wrong shape"; after the merge, "shape mismatch" agrees."""
    services.label_merge(source_id=decided[1].final_label_id, target_id=decided[0].final_label_id, user=team.lead)
    second = decided[2].assignments.get(order=2)
    services.annotation_submit(assignment_id=second.id, user=second.evaluator, label="shape mismatch")
    assert RoundItem.objects.get(pk=decided[2].pk).status == RoundItem.Status.AGREED


@pytest.mark.parametrize("case", ["self", "other-project", "missing-source", "missing-target", "evaluator", "stranger"])
def test_bad_merges_write_nothing(team, decided, case):
    source, target = decided[1].final_label, decided[0].final_label
    user, error, field = team.lead, InvalidInput, "target_id"
    if case == "self":
        target = source
    elif case == "other-project":
        target = LabelFactory(project=ProjectFactory())
    elif case == "missing-source":
        source, error, field = Label(id=10**9), NotFound, "source_id"
    elif case == "missing-target":
        target = Label(id=10**9)
    elif case == "evaluator":
        user, error, field = team.evaluators[0], NotAllowed, None
    else:
        user, error, field = UserFactory(), NotFound, None
    with pytest.raises(error) as err:
        services.label_merge(source_id=source.id, target_id=target.id, user=user)
    assert err.value.field == field
    assert Label.objects.filter(pk=decided[1].final_label_id).exists()
    assert Annotation.objects.filter(label_id=decided[1].final_label_id).count() == 3
