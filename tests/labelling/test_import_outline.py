"""The taxonomy outline (code,name): nodes keyed by code, placeholders for unknown codes, idempotent."""

import json

import pytest
from django.core.management import call_command

from core.errors import InvalidInput
from taxonomy.models import Node
from taxonomy.outline import NodeIndex, code_ancestors, outline_import
from taxonomy.round_import import outline_import_file, round_import_file

from . import roundsheets

pytestmark = pytest.mark.django_db


def nodes(project):
    return {n.code: (n.name, n.parent.code if n.parent else None) for n in Node.objects.filter(project=project)}


def test_study_outline_builds_the_tree_and_reimport_changes_nothing(project, replication_dir):
    data = (replication_dir / "taxonomy_outline.csv").read_bytes()
    report = outline_import_file(project=project, data=data, filename="taxonomy_outline.csv")
    assert report["nodes_created"] == 24 and report["skipped"] == []
    tree = nodes(project)
    assert tree["4.2.1"] == ("Wrong Shape of Input Data", "4.2")
    assert tree["1"] == ("Model", None)
    before = list(Node.objects.filter(project=project).order_by("id").values())
    again = outline_import_file(project=project, data=data, filename="taxonomy_outline.csv")
    assert again["nodes_created"] == 0 and again["renamed"] == [] and again["reparented"] == []
    assert list(Node.objects.filter(project=project).order_by("id").values()) == before


def test_unknown_codes_become_placeholders_that_a_later_outline_names_and_places(project):
    index = NodeIndex(project)
    deep = index.node_for_code("4.3.7")
    assert (deep.name, deep.parent) == ("4.3.7", None)  # no ancestor yet
    outline_import(project=project, rows=[(2, "4", "Tensors & Inputs"), (3, "4.3", "New Branch"), (4, "4.3.7", "Deep")])
    tree = nodes(project)
    assert tree["4.3.7"] == ("Deep", "4.3") and tree["4.3"] == ("New Branch", "4")


def test_a_name_given_in_concord_is_kept(project):
    outline_import(project=project, rows=[(2, "5", "Training")])
    Node.objects.filter(project=project, code="5").update(name="Training process (renamed)")
    report = outline_import(project=project, rows=[(2, "5", "Training")])
    assert report["kept_names"] == [{"code": "5", "name": "Training process (renamed)", "outline": "Training"}]
    assert Node.objects.get(project=project, code="5").name == "Training process (renamed)"


def test_outline_without_header_and_with_bad_rows(project):
    data = b"1,Model\n1.2,Layers\n,nameless code\n1.2,Layers again\nx y!,bad code\n"
    report = outline_import_file(project=project, data=data, filename="o.csv")
    assert nodes(project) == {"1": ("Model", None), "1.2": ("Layers", "1")}
    assert [s["row"] for s in report["skipped"]] == [3, 4, 5]


def test_empty_outline_is_refused(project):
    with pytest.raises(InvalidInput):
        outline_import_file(project=project, data=b"code,name\n", filename="o.csv")


def test_outline_after_a_round_names_its_placeholder_nodes(project):
    round_import_file(project=project, data=roundsheets.build(), filename="r.xlsx", number=1)
    assert nodes(project)["4.2.1"] == ("4.2.1", None)
    outline_import_file(project=project, data=roundsheets.OUTLINE, filename="o.csv")
    tree = nodes(project)
    assert tree["4.2.1"] == ("Wrong Shape of Input Data", "4.2") and tree["4.2"] == ("Wrong Input", "4")
    assert Node.objects.get(project=project, code="4").round_created.number == 1  # rounds recomputed


def test_code_helpers():
    assert code_ancestors("4.2.1") == ["4.2", "4"] and code_ancestors("4") == []


def test_import_outline_command(project, replication_dir, capsys):
    call_command("import_outline", project.slug, str(replication_dir / "taxonomy_outline.csv"))
    assert json.loads(capsys.readouterr().out)["nodes_created"] == 24
