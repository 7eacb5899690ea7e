import pytest

from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from labelling.models import RoundItem
from taxonomy import selectors, services
from taxonomy.models import Comparison, Leaf, Node, TaxonomyChange
from tests.factories import ProjectFactory, member
from tests.taxonomy.conftest import label, relevant


def tree_shape(project):
    """{path: sorted leaf names} of the whole tree, for before/after comparisons."""
    tree = selectors.tree_build(project)
    shape = {}
    for entry in tree.walk():
        if not entry.is_leaf:
            path = " > ".join(e.name for e in tree.path(entry))
            shape[path] = (entry.code, entry.description, sorted(leaf.name for leaf in entry.leaves))
    return shape


def test_create_records_current_round_and_history(team, rounds):
    node = services.node_create(project=team.project, user=team.lead, name="Model", description="d")
    assert node.round_created == rounds[2]  # the open round
    child = services.node_create(project=team.project, user=team.moderator, name="Layers", parent=node, round=1)
    assert child.round_created == rounds[0]
    change = TaxonomyChange.objects.filter(project=team.project).first()
    assert change.user == team.moderator
    assert change.action == "node_create"
    assert "Layers" in change.summary and "Model" in change.summary


def test_names_are_stored_as_entered(team):
    name = '<b>Tensors</b> & "inputs"'
    node = services.node_create(project=team.project, user=team.lead, name=f"  {name} ")
    node.refresh_from_db()
    assert node.name == name


@pytest.mark.parametrize("bad", ["", "   ", "x" * 201])
def test_bad_names_are_400(team, bad):
    with pytest.raises(InvalidInput) as exc:
        services.node_create(project=team.project, user=team.lead, name=bad)
    assert exc.value.field == "name"
    assert not Node.objects.exists()


def test_duplicate_sibling_name_is_a_conflict_naming_it(team):
    top = services.node_create(project=team.project, user=team.lead, name="Training")
    services.node_create(project=team.project, user=team.lead, name="Loss Function", parent=top)
    with pytest.raises(Conflict) as exc:
        services.node_create(project=team.project, user=team.lead, name="loss function", parent=top)
    assert "Loss Function" in exc.value.message and "Training" in exc.value.message
    # the same name elsewhere is fine
    services.node_create(project=team.project, user=team.lead, name="Loss Function")
    assert Node.objects.filter(name="Loss Function").count() == 2


def test_evaluators_read_only_and_strangers_404(team):
    with pytest.raises(NotAllowed):
        services.node_create(project=team.project, user=team.evaluators[0], name="X")
    stranger = member(ProjectFactory(), lead=True)
    with pytest.raises(NotFound):
        services.node_create(project=team.project, user=stranger, name="X")
    assert not Node.objects.exists()


def test_move_under_own_descendant_is_refused_and_nothing_changes(team):
    a = services.node_create(project=team.project, user=team.lead, name="A")
    b = services.node_create(project=team.project, user=team.lead, name="B", parent=a)
    c = services.node_create(project=team.project, user=team.lead, name="C", parent=b)
    before = tree_shape(team.project)
    for target in (c, b, a):
        with pytest.raises(InvalidInput) as exc:
            services.node_move(node=a, user=team.lead, parent=target)
        assert exc.value.field == "parent" and '"A"' in exc.value.message
    assert tree_shape(team.project) == before


def test_move_subtree_and_duplicate_at_destination(team):
    a = services.node_create(project=team.project, user=team.lead, name="A")
    b = services.node_create(project=team.project, user=team.lead, name="B")
    x = services.node_create(project=team.project, user=team.lead, name="X", parent=a)
    services.node_create(project=team.project, user=team.lead, name="Y", parent=x)
    services.node_move(node=x, user=team.lead, parent=b)
    assert set(tree_shape(team.project)) == {"A", "B", "B > X", "B > X > Y"}
    services.node_create(project=team.project, user=team.lead, name="x", parent=a)
    with pytest.raises(Conflict):
        services.node_move(node=Node.objects.get(name="X"), user=team.lead, parent=a)
    services.node_move(node=Node.objects.get(name="X"), user=team.lead, parent=None)
    assert Node.objects.get(name="X").parent is None


def test_attach_labels_pins_items_and_takes_first_round(team, rounds):
    project = team.project
    node = services.node_create(project=project, user=team.lead, name="Layers")
    wrong = label(project, "wrong layer")
    relevant(project, wrong, rounds[1])
    relevant(project, wrong, rounds[2])
    other = label(project, "missing softmax")
    leaves = services.leaf_attach(project=project, user=team.lead, node=node, labels=[wrong.id, other.id])
    assert {leaf.label.name for leaf in leaves} == {"wrong layer", "missing softmax"}
    by_label = {leaf.label_id: leaf for leaf in leaves}
    assert by_label[wrong.id].round_created == rounds[1]  # first round with evidence
    assert by_label[other.id].round_created == rounds[2]  # no evidence: the current round
    assert RoundItem.objects.filter(leaf=by_label[wrong.id]).count() == 2
    with pytest.raises(Conflict) as exc:
        services.leaf_attach(project=project, user=team.lead, node=node, labels=[wrong.id])
    assert "wrong layer" in exc.value.message


def test_merge_moves_children_and_leaves_and_counts_add_up(team, rounds):
    project = team.project
    a = services.node_create(project=project, user=team.lead, name="Hyperparameters", round=2)
    b = services.node_create(project=project, user=team.lead, name="Training params", round=1)
    sub = services.node_create(project=project, user=team.lead, name="Learning rate", parent=b)
    lr, ep, shared = label(project, "lr too high"), label(project, "too few epochs"), label(project, "bad batch size")
    for lab, n in ((lr, 2), (ep, 3), (shared, 1)):
        for _ in range(n):
            relevant(project, lab, rounds[0])
    services.leaf_attach(project=project, user=team.lead, node=sub, labels=[lr.id])
    services.leaf_attach(project=project, user=team.lead, node=b, labels=[ep.id])
    services.leaf_attach(project=project, user=team.lead, node=a, labels=[shared.id])
    # the same label under both: its instances must end on one leaf
    leaf_b_shared = Leaf.objects.create(node=b, label=shared)
    RoundItem.objects.filter(id=relevant(project, shared, rounds[1]).id).update(leaf=leaf_b_shared)
    before = selectors.tree_build(project)
    total = before.nodes[a.id].artefact_count + before.nodes[b.id].artefact_count
    assert total == 1 + (2 + 3 + 1)

    services.node_merge(source=b, target=a, user=team.lead)
    tree = selectors.tree_build(project)
    merged = tree.nodes[a.id]
    assert not Node.objects.filter(id=b.id).exists()
    assert [c.name for c in merged.children] == ["Learning rate"]
    assert sorted(leaf.name for leaf in merged.leaves) == ["bad batch size", "too few epochs"]
    assert merged.artefact_count == total
    assert Leaf.objects.filter(node=a, label=shared).count() == 1
    assert merged.round_number == 1  # the earlier of the two


def test_merge_into_own_descendant_is_refused(team):
    a = services.node_create(project=team.project, user=team.lead, name="A")
    b = services.node_create(project=team.project, user=team.lead, name="B", parent=a)
    with pytest.raises(InvalidInput):
        services.node_merge(source=a, target=b, user=team.lead)
    with pytest.raises(InvalidInput):
        services.node_merge(source=a, target=a, user=team.lead)
    # merging a child into its parent flattens it
    services.node_merge(source=b, target=a, user=team.lead)
    assert list(Node.objects.values_list("name", flat=True)) == ["A"]


def test_delete_refuses_nodes_with_instances_or_children(team, rounds):
    project = team.project
    a = services.node_create(project=project, user=team.lead, name="GPU Usage")
    b = services.node_create(project=project, user=team.lead, name="Child", parent=a)
    with pytest.raises(Conflict) as exc:
        services.node_delete(node=a, user=team.lead)
    assert "GPU Usage" in exc.value.message and "Child" in exc.value.message
    lab = label(project, "wrong device")
    relevant(project, lab, rounds[0])
    services.leaf_attach(project=project, user=team.lead, node=b, labels=[lab.id])
    with pytest.raises(Conflict) as exc:
        services.node_delete(node=b, user=team.lead)
    assert '"Child" still has instances (1 artefacts' in exc.value.message
    assert Leaf.objects.filter(node=b).exists()
    # an instance-less leaf goes with its node
    empty = services.node_create(project=project, user=team.lead, name="Empty")
    services.leaf_attach(project=project, user=team.lead, node=empty, labels=["name:never used"])
    services.node_delete(node=empty, user=team.lead)
    assert not Node.objects.filter(name="Empty").exists()


def test_label_mapping_counts_without_a_pinned_leaf(team, rounds):
    """Items decided after the leaf exists carry only the label: they still count."""
    project = team.project
    node = services.node_create(project=project, user=team.lead, name="Loss")
    lab = label(project, "wrong loss")
    services.leaf_attach(project=project, user=team.lead, node=node, labels=[lab.id])
    relevant(project, lab, rounds[2])  # leaf stays empty
    tree = selectors.tree_build(project)
    assert tree.nodes[node.id].artefact_count == 1
    with pytest.raises(Conflict):
        services.node_delete(node=node, user=team.lead)


def test_detach_makes_label_unmapped_again(team, rounds):
    project = team.project
    node = services.node_create(project=project, user=team.lead, name="Loss")
    lab = label(project, "wrong loss")
    relevant(project, lab, rounds[0])
    assert [u.name for u in selectors.unmapped_labels(project)] == ["wrong loss"]
    (leaf,) = services.leaf_attach(project=project, user=team.lead, node=node, labels=[lab.id])
    assert selectors.unmapped_labels(project) == []
    services.leaf_detach(leaf=leaf, user=team.lead)
    assert [u.name for u in selectors.unmapped_labels(project)] == ["wrong loss"]
    assert RoundItem.objects.filter(leaf__isnull=False).count() == 0


def test_leaf_move(team, rounds):
    project = team.project
    a = services.node_create(project=project, user=team.lead, name="A")
    b = services.node_create(project=project, user=team.lead, name="B")
    lab = label(project, "l")
    relevant(project, lab, rounds[0])
    (leaf,) = services.leaf_attach(project=project, user=team.lead, node=a, labels=[lab.id])
    services.leaf_move(leaf=leaf, user=team.lead, node=b)
    tree = selectors.tree_build(project)
    assert tree.nodes[a.id].artefact_count == 0 and tree.nodes[b.id].artefact_count == 1
    Leaf.objects.create(node=a, label=lab)
    with pytest.raises(Conflict):
        services.leaf_move(leaf=Leaf.objects.get(node=b), user=team.lead, node=a)


def test_undo_restores_each_kind_of_change(team, rounds):
    project = team.project
    top = services.node_create(project=project, user=team.lead, name="Training", code="5", description="t")
    other = services.node_create(project=project, user=team.lead, name="Optimisation", code="9")
    sub = services.node_create(project=project, user=team.lead, name="Loss", parent=other)
    lab = label(project, "wrong loss")
    items = [relevant(project, lab, rounds[0]) for _ in range(2)]
    services.leaf_attach(project=project, user=team.lead, node=sub, labels=[lab.id])
    services.leaf_attach(project=project, user=team.lead, node=top, labels=["name:unused"])
    start = tree_shape(project)

    def roundtrip(change):
        change()
        assert tree_shape(project) != start
        services.change_undo(project=project, user=team.moderator)
        assert tree_shape(project) == start
        assert set(
            RoundItem.objects.filter(id__in=[i.id for i in items]).values_list("leaf__node__name", flat=True)
        ) == {"Loss"}

    roundtrip(lambda: services.node_update(node=top, user=team.lead, name="Train", description="new", code="5.9"))
    roundtrip(lambda: services.node_move(node=sub, user=team.lead, parent=top))
    roundtrip(lambda: services.node_merge(source=other, target=top, user=team.lead))
    roundtrip(lambda: services.node_create(project=project, user=team.lead, name="New", parent=sub))
    roundtrip(lambda: services.leaf_detach(leaf=Leaf.objects.get(label=lab), user=team.lead))
    roundtrip(lambda: services.leaf_move(leaf=Leaf.objects.get(label=lab), user=team.lead, node=top))


def test_undo_of_delete_recreates_with_same_ids(team):
    project = team.project
    a = services.node_create(project=project, user=team.lead, name="A", code="1")
    b = services.node_create(project=project, user=team.lead, name="B", parent=a, description="keep me")
    (leaf,) = services.leaf_attach(project=project, user=team.lead, node=b, labels=["name:spare"])
    services.node_delete(node=b, user=team.lead)
    assert not Node.objects.filter(id=b.id).exists()
    change = services.change_undo(project=project, user=team.lead)
    assert change.undone_by == team.lead and change.undone_at
    restored = Node.objects.get(id=b.id)
    assert (restored.name, restored.parent_id, restored.description) == ("B", a.id, "keep me")
    assert Leaf.objects.filter(id=leaf.id, node=restored).exists()
    # successive undos walk back through the history, then stop
    services.change_undo(project=project, user=team.lead)  # the attach
    services.change_undo(project=project, user=team.lead)  # B's creation
    services.change_undo(project=project, user=team.lead)  # A's creation
    assert not Node.objects.exists()
    with pytest.raises(Conflict):
        services.change_undo(project=project, user=team.lead)


def test_undo_needs_an_editor(team):
    services.node_create(project=team.project, user=team.lead, name="A")
    with pytest.raises(NotAllowed):
        services.change_undo(project=team.project, user=team.evaluators[0])
    assert Node.objects.count() == 1


def test_rounds_from_evidence(team, rounds):
    project = team.project
    top = services.node_create(project=project, user=team.lead, name="Top")  # current round: 3
    sub = services.node_create(project=project, user=team.lead, name="Sub", parent=top)
    lab = label(project, "evidence")
    relevant(project, lab, rounds[1])
    services.leaf_attach(project=project, user=team.lead, node=sub, labels=[lab.id], round=3)
    changed = services.taxonomy_rounds_from_evidence(project=project, user=team.lead)
    assert changed == 3
    assert Node.objects.get(id=top.id).round_created == rounds[1]
    assert Leaf.objects.get(label=lab).round_created == rounds[1]
    services.change_undo(project=project, user=team.lead)
    assert Node.objects.get(id=top.id).round_created == rounds[2]


def test_comparison_mapping_survives_merge_and_undo(team):
    project = team.project
    a = services.node_create(project=project, user=team.lead, name="A")
    b = services.node_create(project=project, user=team.lead, name="B")
    comparison = services.comparison_create(
        project=project, user=team.lead, name="DeepCrime operators", kind=Comparison.Kind.MUTATION_OPERATORS
    )
    (op1, op2) = services.comparison_classes_add(
        comparison=comparison, user=team.lead, names="Change loss\nRemove layer\n"
    )
    services.comparison_class_update(cls=op1, user=team.lead, node_ids=[b.id])
    services.node_merge(source=b, target=a, user=team.lead)
    assert list(op1.nodes.all()) == [a]
    services.change_undo(project=project, user=team.lead)
    assert list(op1.nodes.values_list("id", flat=True)) == [b.id]
    with pytest.raises(NotFound):
        services.comparison_class_update(cls=op2, user=team.lead, node_ids=[999999])
    with pytest.raises(NotAllowed):
        services.comparison_class_update(cls=op2, user=team.evaluators[0], node_ids=[a.id])
