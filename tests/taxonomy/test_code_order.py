"""Categories sort by their code numerically everywhere (5.8 after 5.1 … 5.7, 10 after 9); a category
without a code sorts after its coded siblings."""

from taxonomy import selectors
from taxonomy.models import Node
from tests.factories import LabelFactory, LeafFactory


def test_tree_node_list_and_leaf_list_sort_codes_numerically(project):
    five = Node.objects.create(project=project, code="5", name="Training", position=5)
    # positions as a builder might have left them: not the code order
    for position, code in enumerate(["5.10", "5.8", "5.2", "5.1"]):
        Node.objects.create(project=project, parent=five, code=code, name=f"Cat {code}", position=position)
    Node.objects.create(project=project, parent=five, code="", name="Aaa uncoded", position=0)
    Node.objects.create(project=project, code="10", name="Ten", position=0)
    Node.objects.create(project=project, code="9", name="Nine", position=1)
    tree = selectors.tree_build(project)
    assert [root.code for root in tree.roots] == ["5", "9", "10"]
    assert [child.code for child in tree.roots[0].children] == ["5.1", "5.2", "5.8", "5.10", ""]
    assert [n.code for n in selectors.node_list(project=project)] == ["5", "5.1", "5.2", "5.8", "5.10", "9", "10", ""]
    for node in Node.objects.filter(project=project, code__in=["5.10", "5.8"]):
        LeafFactory(node=node, label=LabelFactory(project=project))
    assert [leaf.node.code for leaf in selectors.leaf_list(project=project)] == ["5.8", "5.10"]
