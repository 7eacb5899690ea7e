import csv
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.management import CommandError, call_command

from core.models import Project
from taxonomy import exports, selectors, services
from taxonomy.models import Leaf, Node, TaxonomyChange
from taxonomy.svg import figure_svg, wrap
from tests.factories import ProjectFactory, member
from tests.taxonomy.conftest import label, relevant

SVG = "{http://www.w3.org/2000/svg}"
NASTY = "Wrong <input> & \"shape\" 'n' </text><script>alert(1)</script>"


@pytest.fixture
def built(team, rounds):
    p = team.project
    model = services.node_create(project=p, user=team.lead, name="Model", code="1", description="The model", round=1)
    layers = services.node_create(project=p, user=team.lead, name=NASTY, parent=model, code="1.2", round=2)
    empty = services.node_create(project=p, user=team.lead, name="GPU Usage", code="2")
    wrong = label(p, "wrong layer & co")
    for _ in range(3):
        relevant(p, wrong, rounds[0])
    tricky = label(p, '<b>label</b> &amp; "quotes"')
    relevant(p, tricky, rounds[1])
    services.leaf_attach(project=p, user=team.lead, node=layers, labels=[wrong.id, tricky.id])
    relevant(p, label(p, "nobody placed me"), rounds[2])
    return {"project": p, "model": model, "layers": layers, "empty": empty}


def test_json_shape(built):
    data = json.loads(exports.export(built["project"], "json"))
    assert set(data) == {"nodes", "unmapped"}
    assert [n["name"] for n in data["nodes"]] == ["Model", "GPU Usage"]  # only real top-level nodes
    model = data["nodes"][0]
    for key in ("name", "code", "description", "artefact_count", "interview_count", "children"):
        assert key in model
    assert (model["code"], model["description"], model["artefact_count"], model["interview_count"]) == (
        "1",
        "The model",
        4,
        0,
    )
    (layers,) = model["children"]
    assert layers["name"] == NASTY  # exactly as entered, not escaped
    leaves = {c["name"]: c for c in layers["children"]}
    assert set(leaves) == {"wrong layer & co", '<b>label</b> &amp; "quotes"'}
    assert all(leaf["children"] == [] and leaf["kind"] == "leaf" for leaf in leaves.values())
    assert leaves["wrong layer & co"]["artefact_count"] == 3
    assert data["nodes"][1]["children"] == [] and data["nodes"][1]["kind"] == "node"
    assert data["unmapped"] == [{"name": "nobody placed me", "artefact_count": 1, "interview_count": 0}]


def test_csv_has_path_level_and_counts(built):
    rows = list(csv.DictReader(io.StringIO(exports.export(built["project"], "csv"))))
    assert list(rows[0]) == exports.CSV_HEADER
    by_path = {r["path"]: r for r in rows}
    assert by_path["Model"]["level"] == "1" and by_path["Model"]["artefact_count"] == "4"
    assert by_path[f"Model > {NASTY}"]["level"] == "2"
    leaf = by_path[f"Model > {NASTY} > wrong layer & co"]
    assert (leaf["level"], leaf["kind"], leaf["artefact_count"], leaf["round"]) == ("3", "leaf", "3", "1")
    assert by_path["nobody placed me"]["kind"] == "unmapped"


def test_svg_is_standalone_xml_with_every_full_name(built):
    svg = exports.export(built["project"], "svg")
    assert svg.startswith("<?xml")
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    for name in ("Model", NASTY, "GPU Usage", "wrong layer & co", '<b>label</b> &amp; "quotes"'):
        assert name in texts, name
    assert "4+0" in texts and "3+0" in texts
    assert "<script>" not in svg  # escaped, never raw markup
    assert not list(root.iter(f"{SVG}script"))


def test_svg_readable_with_a_hundred_leaves(team, rounds):
    p = team.project
    tops = [services.node_create(project=p, user=team.lead, name=f"Category {i}") for i in range(5)]
    subs = [services.node_create(project=p, user=team.lead, name=f"Sub {i}", parent=tops[i % 5]) for i in range(19)]
    for i in range(100):
        node = subs[i % len(subs)]
        lab = label(p, f"a fairly long label name number {i} about tensors and shapes")
        relevant(p, lab, rounds[0])
        services.leaf_attach(project=p, user=team.lead, node=node, labels=[lab.id])
    root = ET.fromstring(figure_svg(selectors.tree_build(p)).encode())
    width, height = float(root.get("width")), float(root.get("height"))
    assert width >= 600 and height / width < 4  # laid out in columns, not one endless strip
    leaves = [g for g in root.iter(f"{SVG}g") if g.get("class") == "leaf"]
    assert len(leaves) == 100
    sizes = {float(t.get("font-size")) for t in root.iter(f"{SVG}text")}
    assert min(sizes) >= 9


def test_wrap_keeps_the_name():
    name = "a very long category name that will need more than one line in its box"
    lines = wrap(name, 20)
    assert len(lines) > 2 and "".join(lines) == name
    assert "".join(wrap("x" * 50, 10)) == "x" * 50


def test_export_command_writes_each_format(built, tmp_path, capsys):
    slug = built["project"].slug
    call_command("export_taxonomy", slug, "--format", "json")
    out = capsys.readouterr().out
    assert json.loads(out)["nodes"][0]["name"] == "Model"  # stdout carries only the JSON
    for fmt in ("csv", "svg", "json"):
        target = tmp_path / f"t.{fmt}"
        call_command("export_taxonomy", slug, "--format", fmt, "--output", str(target))
        assert target.read_text(encoding="utf-8") == exports.export(built["project"], fmt)
    call_command("export_taxonomy", slug, "--format", "json", "--round", "1", "--source", "so_question")
    assert json.loads(capsys.readouterr().out)["nodes"][0]["artefact_count"] == 3
    with pytest.raises(CommandError):
        call_command("export_taxonomy", "no-such-project", "--format", "json")
    with pytest.raises(CommandError, match="round"):
        call_command("export_taxonomy", slug, "--round", "99")


def test_json_round_trip_into_another_project(built, tmp_path, capsys):
    source = built["project"]
    path = tmp_path / "taxonomy.json"
    call_command("export_taxonomy", source.slug, "--format", "json", "--output", str(path))
    target = ProjectFactory(slug="copy")
    lead = member(target, lead=True, username="copylead")
    call_command("import_taxonomy", "copy", str(path))
    report = json.loads(capsys.readouterr().out)
    assert report["nodes_created"] == 3 and report["leaves_created"] == 2

    def shape(project):
        tree = selectors.tree_build(project)
        return [(e.kind, e.name, e.code, e.description, e.depth) for e in tree.walk()]

    assert shape(target) == shape(source)
    change = TaxonomyChange.objects.get(project=target)
    assert change.user == lead and change.action == "import"
    # importing again changes nothing
    call_command("import_taxonomy", "copy", str(path))
    report = json.loads(capsys.readouterr().out)
    assert report["nodes_created"] == 0 and report["nodes_existing"] == 3 and report["leaves_existing"] == 2
    assert TaxonomyChange.objects.filter(project=target).count() == 1


def test_json_import_into_the_same_project_keeps_counts_and_rounds(built):
    p = built["project"]
    document = json.loads(exports.export(p, "json"))
    Leaf.objects.all().delete()
    Node.objects.filter(parent__isnull=False).delete()
    Node.objects.all().delete()
    user = p.memberships.filter(is_lead=True).first().user
    services.taxonomy_import_json(project=p, user=user, data=document)
    again = json.loads(exports.export(p, "json"))
    assert again == document


@pytest.mark.parametrize(
    "document, field",
    [
        ([], "nodes"),
        ({"nodes": "x"}, "nodes"),
        ({"nodes": [{"name": ""}]}, "nodes[0].name"),
        ({"nodes": [{"name": "A", "children": [{"name": "x" * 201}]}]}, "nodes[0].children[0].name"),
        ({"nodes": [{"name": "A", "kind": "leaf"}]}, "nodes[0]"),
        ({"nodes": [{"name": "A", "children": [{"name": "B", "round": "soon"}]}]}, "nodes[0].children[0].round"),
    ],
)
def test_json_import_errors_name_the_entry_and_write_nothing(team, document, field):
    with pytest.raises(Exception) as exc:
        services.taxonomy_import_json(project=team.project, user=team.lead, data=document)
    assert getattr(exc.value, "field", None) == field
    assert not Node.objects.exists()


def test_outline_import_uses_the_round_import_outline_and_can_be_undone(team, replication_dir, capsys):
    outline = replication_dir / "taxonomy_outline.csv"
    call_command("import_taxonomy", team.project.slug, str(outline), "--user", "moderator")
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "outline" and report["nodes_created"] == Node.objects.count() > 10
    tree = selectors.tree_build(team.project)
    assert [r.name for r in tree.roots][:2] == ["Model", "GPU Usage"]
    assert tree.max_depth == 3
    call_command("import_taxonomy", team.project.slug, str(outline))  # again: nothing new
    assert json.loads(capsys.readouterr().out)["nodes_created"] == 0
    services.change_undo(project=team.project, user=team.lead)
    assert not Node.objects.exists()


def test_import_command_creates_the_project(tmp_path, db, capsys):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"nodes": [{"name": "Training", "children": []}]}))
    call_command("import_taxonomy", "fresh", str(path), "--lead", "newlead")
    assert Project.objects.get(slug="fresh").taxonomy_nodes.get().name == "Training"
    with pytest.raises(CommandError, match="nodes"):
        bad = tmp_path / "bad.json"
        bad.write_text("[]")
        call_command("import_taxonomy", "fresh", str(bad))
