"""Table 1 and the taxonomy page count a category's level the same way: its depth in the tree."""

from reports.table1 import table1
from taxonomy.selectors import new_categories_by_round
from tests.factories import LeafFactory, NodeFactory, RoundFactory


def test_a_coded_node_under_a_missing_parent_counts_at_its_depth(project):
    rnd = RoundFactory(project=project, number=1)
    top = NodeFactory(project=project, code="4", name="Tensors & Inputs", round_created=rnd)
    # The outline lacked 4.2, so 4.2.1 sits directly under 4: second level, whatever its code says.
    orphan = NodeFactory(project=project, code="4.2.1", name="4.2.1", parent=top, round_created=rnd)
    LeafFactory(node=orphan, round_created=rnd)

    stats_row = next(r for r in table1(project)["rows"] if r["round"] == "1")
    taxonomy_row = next(r for r in new_categories_by_round(project) if r["number"] == 1)

    assert stats_row["new_inner"] == [1, 1]
    assert taxonomy_row["new_inner"] == [1, 1]
    assert stats_row["new_leaves"] == taxonomy_row["new_leaves"] == 1
