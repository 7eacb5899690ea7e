import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from collection.models import Artefact
from core.errors import InvalidInput
from taxonomy import selectors, services
from taxonomy.models import Leaf, Node
from tests.factories import ArtefactFactory, LeafFactory, NodeFactory, RoundFactory, RoundItemFactory
from tests.taxonomy.conftest import label, relevant


@pytest.fixture
def tree3(team, rounds):
    """Model > Layers > Activation, with leaves at levels 2 and 3 and artefacts in several rounds."""
    p = team.project
    model = NodeFactory(project=p, name="Model", round_created=rounds[0])
    layers = NodeFactory(project=p, name="Layers", parent=model, round_created=rounds[0])
    act = NodeFactory(project=p, name="Activation", parent=layers, round_created=rounds[1])
    gpu = NodeFactory(project=p, name="GPU", round_created=rounds[1])
    wrong_layer = LeafFactory(node=layers, label=label(p, "wrong layer"), round_created=rounds[0])
    relu = LeafFactory(node=act, label=label(p, "missing relu"), round_created=rounds[1])
    device = LeafFactory(node=gpu, label=label(p, "wrong device"), round_created=rounds[1])
    return {
        "model": model,
        "layers": layers,
        "act": act,
        "gpu": gpu,
        "wrong_layer": wrong_layer,
        "relu": relu,
        "device": device,
    }


def test_counts_distinct_artefacts_and_roll_up(team, rounds, tree3):
    p = team.project
    for _ in range(3):
        relevant(p, tree3["wrong_layer"].label, rounds[0], leaf=tree3["wrong_layer"])
    relevant(p, tree3["relu"].label, rounds[1])  # via label mapping
    relevant(p, tree3["relu"].label, rounds[2], kind=Artefact.Kind.GH_COMMIT)
    # one artefact decided in two rounds, under two different leaves of the same subtree: counted once above them
    shared = ArtefactFactory(project=p)
    relevant(p, tree3["wrong_layer"].label, rounds[1], leaf=tree3["wrong_layer"], artefact=shared)
    relevant(p, tree3["relu"].label, rounds[2], leaf=tree3["relu"], artefact=shared)
    relevant(p, tree3["device"].label, rounds[2])
    # not relevant (a verdict) and not decided: never counted
    RoundItemFactory(round=rounds[2], artefact=ArtefactFactory(project=p), status="agreed", final_verdict="generic")
    RoundItemFactory(round=rounds[2], artefact=ArtefactFactory(project=p))  # still being labelled

    tree = selectors.tree_build(p)
    n = {e.name: e.artefact_count for e in tree.walk()}
    assert n["wrong layer"] == 4
    assert n["missing relu"] == 3
    assert n["Activation"] == 3
    assert n["Layers"] == 6  # 4 + 3 with the shared artefact once
    assert n["Model"] == 6
    assert n["GPU"] == 1 and n["wrong device"] == 1
    assert tree.artefact_total == 7
    assert [e.depth for e in tree.walk() if e.name in ("Model", "Layers", "Activation", "missing relu")] == [1, 2, 3, 4]


def test_filters_by_round_and_source(team, rounds, tree3):
    p = team.project
    relevant(p, tree3["relu"].label, rounds[1])
    relevant(p, tree3["relu"].label, rounds[2], kind=Artefact.Kind.GH_COMMIT)
    relevant(p, tree3["wrong_layer"].label, rounds[0], kind=Artefact.Kind.GH_ISSUE)
    by_round = selectors.tree_build(p, filters=selectors.Filters(round_number=3))
    assert by_round.nodes[tree3["model"].id].artefact_count == 1
    commits = selectors.tree_build(p, filters=selectors.Filters(sources=frozenset({"gh_commit", "gh_issue"})))
    assert commits.nodes[tree3["model"].id].artefact_count == 2
    interviews_only = selectors.tree_build(p, filters=selectors.Filters(sources=frozenset({"interviews"})))
    assert interviews_only.artefact_total == 0


def test_filters_from_params_name_bad_values(team, rounds):
    from django.http import QueryDict

    with pytest.raises(InvalidInput) as exc:
        selectors.filters_from_params(QueryDict("source=tweets"), project=team.project)
    assert exc.value.field == "source"
    with pytest.raises(InvalidInput) as exc:
        selectors.filters_from_params(QueryDict("round=9"), project=team.project)
    assert exc.value.field == "round"
    f = selectors.filters_from_params(QueryDict("round=2&source=so_question&source=interviews"), project=team.project)
    assert f.round_number == 2 and f.sources == {"so_question", "interviews"} and not f.include_interviews


def test_no_interviews_means_zero(team, tree3):
    tree = selectors.tree_build(team.project)
    assert tree.interview_total == 0


def test_search_shows_matches_with_ancestors(team, tree3):
    tree = selectors.tree_build(team.project, q="RELU")
    visible = {e.name for e in tree.walk() if e.visible}
    assert visible == {"Model", "Layers", "Activation", "missing relu"}
    assert [e.name for e in tree.walk() if e.match] == ["missing relu"]


def test_unmapped_labels(team, rounds, tree3):
    p = team.project
    relevant(p, label(p, "new thing"), rounds[0])
    relevant(p, label(p, "new thing"), rounds[1])
    relevant(p, tree3["relu"].label, rounds[1])  # mapped by label
    unmapped = selectors.unmapped_labels(p)
    assert [(u.name, u.artefact_count, u.first_round) for u in unmapped] == [("new thing", 2, 1)]


def test_new_categories_by_round_and_saturation(team, rounds, tree3):
    rows = selectors.new_categories_by_round(team.project)
    assert [(r["number"], r["new_inner"], r["new_leaves"]) for r in rows] == [
        (1, [1, 1, 0], 1),
        (2, [1, 0, 1], 2),
        (3, [0, 0, 0], 0),
    ]
    assert selectors.saturation_round(rows) == rounds[2]
    assert [(c["inner"], c["leaves"]) for c in selectors.cumulative_categories(rows)] == [(2, 1), (4, 3), (4, 3)]


def test_saturation_needs_growth_first_and_unrounded_row(team, rounds):
    NodeFactory(project=team.project, name="Late", round_created=rounds[2])
    NodeFactory(project=team.project, name="Undated", round_created=None)
    rows = selectors.new_categories_by_round(team.project)
    assert selectors.saturation_round(rows) is None  # rounds 1-2 added nothing, but nothing existed yet
    assert rows[-1]["round"] is None and rows[-1]["new_inner"] == [1]


def test_tree_queries_stay_flat_as_the_tree_grows(team, rounds):
    p = team.project

    def grow(n):
        for i in range(n):
            top = NodeFactory(project=p, round_created=rounds[i % 3])
            sub = NodeFactory(project=p, parent=top)
            leaf = LeafFactory(node=sub, label=label(p, f"label {top.id}"), round_created=rounds[0])
            relevant(p, leaf.label, rounds[i % 3], leaf=leaf if i % 2 else None)
            relevant(p, label(p, f"unmapped {top.id}"), rounds[1])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            tree = selectors.tree_build(p, q="label")
            selectors.unmapped_labels(p)
            selectors.new_categories_by_round(p)
        return len(ctx), tree

    grow(2)
    small, _ = count()
    grow(30)
    large, tree = count()
    assert large == small
    assert len(tree.leaves) == 32 and tree.artefact_total == 32


def test_tree_page_query_count_is_flat(client, team, rounds, django_assert_max_num_queries):
    p = team.project
    client.force_login(team.lead)
    url = f"/p/{p.slug}/taxonomy/"

    def grow(n):
        for _ in range(n):
            top = services.node_create(project=p, user=team.lead, name=f"Top {Node.objects.count()}")
            sub = services.node_create(project=p, user=team.lead, name="Sub", parent=top)
            lab = label(p, f"label {sub.id}")
            relevant(p, lab, rounds[0])
            services.leaf_attach(project=p, user=team.lead, node=sub, labels=[lab.id])
            relevant(p, label(p, f"free {sub.id}"), rounds[1])

    grow(2)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, {"node": Node.objects.first().id}).status_code == 200
    baseline = len(ctx)
    grow(40)
    with django_assert_max_num_queries(baseline):
        response = client.get(url, {"node": Node.objects.first().id})
    assert response.status_code == 200
    assert Leaf.objects.count() == 42


def test_coverage(team, tree3):
    comparison = services.comparison_create(project=team.project, user=team.lead, name="Older taxonomy")
    a, b, c = services.comparison_classes_add(comparison=comparison, user=team.lead, names=["A", "B", "C"])
    services.comparison_class_update(cls=a, user=team.lead, node_ids=[tree3["act"].id])
    services.comparison_class_update(cls=b, user=team.lead, node_ids=[tree3["act"].id], leaf_ids=[tree3["device"].id])
    coverage = selectors.comparison_coverage(comparison, selectors.tree_build(team.project))
    assert [x.name for x in coverage.direct[f"node-{tree3['act'].id}"]] == ["A", "B"]  # many to one
    unreached = {e.name for e in coverage.unreached}
    assert unreached == {"wrong layer", "missing relu"}
    assert f"node-{tree3['model'].id}" in coverage.reached  # through a descendant
    assert coverage.unmapped_classes == [c]  # partial mapping allowed
    assert (coverage.reached_count, coverage.total) == (5, 7)


def test_round_created_defaults_to_latest_open_round(team):
    RoundFactory(project=team.project, number=1, status="open")
    latest_open = RoundFactory(project=team.project, number=2, status="open")
    RoundFactory(project=team.project, number=3, status="closed")
    assert selectors.round_current(team.project) == latest_open
