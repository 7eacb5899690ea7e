"""Interview instances in the taxonomy and the interviews row of Table 1."""

import io

import openpyxl
import pytest

from core.errors import InvalidInput, NotAllowed
from interviews import selectors, services
from interviews.models import FinalTag
from taxonomy import selectors as taxonomy_selectors
from tests.factories import LabelFactory, LeafFactory, NodeFactory, RoundFactory, RoundItemFactory

pytestmark = pytest.mark.django_db


def sheet(rows) -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", "Tag", "Status"])
    for row in rows:
        wb.active.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def imported(team):
    rows = [
        (1, "a", "b", "m", "Not enough training data.", "A"),
        (1, "a", "b", "m", "not enough  training data", "A"),
        (1, "a", "-", "m", "layers dimension mismatch", "A"),
        (1, "a", "b", "m", "generic problem", "R"),
        (2, "a", "b", "m", "missing preprocessing step (oversampling)", "A"),
        (2, "a", "b", "-", "-", "-"),
        (2, "a", "b", "m", "awaiting review", ""),
    ]
    services.coding_sheet_import(project=team.project, user=team.lead, filename="s.xlsx", data=sheet(rows))
    return team


def test_counts_join_leaves_by_normalised_label_in_one_query(imported, django_assert_num_queries):
    p = imported.project
    data = NodeFactory(project=p, name="Training data", code="3")
    leaf = LeafFactory(node=data, label=LabelFactory(project=p, name="not enough training data"))
    other = LeafFactory(node=data, label=LabelFactory(project=p, name="unused leaf"))
    with django_assert_num_queries(1):
        counts = selectors.interview_counts_by_leaf(p)
    assert counts == {leaf.id: 2}  # removed and pending tags do not count
    assert other.id not in counts
    assert selectors.interview_counts_by_leaf(p, rounds=["1", "2"]) == {}
    assert selectors.interview_counts_by_leaf(p, rounds=["interviews"]) == {leaf.id: 2}
    unmapped = {g["text"]: g["count"] for g in selectors.unmapped_final_tags(project=p)}
    assert unmapped == {"layers dimension mismatch": 1, "missing preprocessing step (oversampling)": 1}
    assert selectors.interview_unmapped_tags(p) == unmapped


def test_placing_unmapped_tags_under_a_leaf_or_as_a_new_leaf(imported):
    p = imported.project
    node = NodeFactory(project=p, name="Preprocessing", code="4")
    leaf = LeafFactory(node=node, label=LabelFactory(project=p, name="missing preprocessing step"))
    oversampling = FinalTag.objects.get(text__startswith="missing preprocessing")
    with pytest.raises(NotAllowed):
        services.final_tags_place(
            project=p, final_tag_ids=[oversampling.id], user=imported.evaluators[0], leaf_id=leaf.id
        )
    services.final_tags_place(project=p, final_tag_ids=[oversampling.id], user=imported.lead, leaf_id=leaf.id)
    layers = FinalTag.objects.get(text="layers dimension mismatch")
    placed = services.final_tags_place(project=p, final_tag_ids=[layers.id], user=imported.moderator, node_id=node.id)
    new_leaf = placed[0].leaf
    assert new_leaf.label.name == "layers dimension mismatch" and new_leaf.node == node
    assert selectors.interview_counts_by_leaf(p) == {leaf.id: 1, new_leaf.id: 1}
    ids = list(
        FinalTag.objects.filter(normalised="not enough training data").order_by("id").values_list("id", flat=True)
    )
    expected = {"normalised": "not enough training data", "text": "Not enough training data.", "count": 2}
    assert selectors.unmapped_final_tags(project=p) == [{**expected, "interviews": [1], "ids": ids}]
    with pytest.raises(InvalidInput):
        services.final_tags_place(
            project=p, final_tag_ids=[layers.id], user=imported.lead, leaf_id=leaf.id, node_id=node.id
        )
    with pytest.raises(InvalidInput):
        services.final_tags_place(project=p, final_tag_ids=[layers.id], user=imported.lead, leaf_id=10**9)


def test_the_taxonomy_reads_the_same_interview_instances(imported):
    """The taxonomy counts interview tags through reverse relations; it agrees with this app's own reading,
    before and after a tag is placed, and its tree shows them as the MM of "NN+MM"."""
    p = imported.project
    node = NodeFactory(project=p)
    leaf = LeafFactory(node=node, label=LabelFactory(project=p, name="not enough training data"))
    assert taxonomy_selectors.interview_counts_by_leaf(p) == selectors.interview_counts_by_leaf(p) == {leaf.id: 2}
    unmapped = {g["text"]: g["count"] for g in selectors.unmapped_final_tags(project=p)}
    assert taxonomy_selectors.interview_unmapped_tags(p) == unmapped
    layers = FinalTag.objects.get(text="layers dimension mismatch")
    services.final_tags_place(project=p, final_tag_ids=[layers.id], user=imported.lead, leaf_id=leaf.id)
    assert taxonomy_selectors.interview_counts_by_leaf(p) == selectors.interview_counts_by_leaf(p) == {leaf.id: 3}
    assert taxonomy_selectors.interview_unmapped_tags(p) == {"missing preprocessing step (oversampling)": 1}
    tree = taxonomy_selectors.tree_build(p)
    assert tree.interview_total == 3 and tree.nodes[node.id].interview_count == 3


def test_stats_row_of_an_imported_project(imported):
    row = selectors.interview_stats_row(imported.project)
    assert row["round"] == "interviews"
    assert (row["analysed"], row["final"], row["removed"], row["relevant"]) == (7, 6, 1, 4)
    assert row["conflicts"] is None and row["disagreements"] is None
    assert row["pending_review"] == 1 and row["not_kept"] == 1
    assert row["final_per_interview"] == {"min": 2, "max": 4, "mean": 3.0}
    assert row["new_inner"] == [] and row["new_leaves"] == 0


def test_new_inner_categories_and_leaves_come_from_interviews_only(imported):
    p = imported.project
    rnd = RoundFactory(project=p, number=1)
    root = NodeFactory(project=p, name="Training", code="3", round_created=rnd)
    data = NodeFactory(project=p, name="Training data", code="3.1", parent=root)  # added for interviews
    model = NodeFactory(project=p, name="Model", code="1", round_created=rnd)
    layers = NodeFactory(project=p, name="Layers", code="1.1", parent=model, round_created=rnd)
    from_artefacts = LeafFactory(
        node=layers, label=LabelFactory(project=p, name="layers dimension mismatch"), round_created=rnd
    )
    RoundItemFactory(round=rnd, leaf=from_artefacts)
    LeafFactory(node=data, label=LabelFactory(project=p, name="not enough training data"))
    row = selectors.interview_stats_row(p)
    # "Training data" (second level) and its leaf exist only for interview tags; the layer leaf has artefacts.
    assert row["new_inner"] == [0, 1] and row["new_leaves"] == 1
    assert row["unmapped"] == 1


def test_table1_has_the_interviews_row_and_total(imported):
    from reports import table1 as stats

    table = stats.table1(imported.project)
    interviews = next(r for r in table["rows"] if r["round"] == "interviews")
    assert (interviews["analysed"], interviews["final"], interviews["removed"], interviews["relevant"]) == (7, 6, 1, 4)
    assert interviews["conflicts"] is None
    assert table["rows"][-1]["round"] == "total"


def test_stats_row_of_a_project_coded_in_concord_records_conflicts(coding):
    from tests.interviews.factories import tag

    i = coding.interview
    tag(i, coding.eva1, "learning rate was too high", "suboptimal learning rate")
    tag(i, coding.eva2, "learning rate was too high", "high learning rate")
    tag(i, coding.eva2, "labels were noisy", "noisy labels")
    services.coding_done(interview_id=i.id, user=coding.eva1)
    services.coding_done(interview_id=i.id, user=coding.eva2)
    row = selectors.interview_stats_row(coding.project)
    assert (row["analysed"], row["conflicts"], row["disagreements"], row["final"]) == (2, 1, 2, 0)
    assert row["final_per_interview"] == {"min": 0, "max": 0, "mean": 0.0}
