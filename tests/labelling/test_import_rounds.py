"""Importing labelled rounds: the study's two real rounds, and the semantics on generated sheets."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collection.models import Artefact
from core.errors import InvalidInput
from core.models import Membership
from labelling.models import Annotation, Assignment, Label, Round, RoundImport, RoundItem
from reports.table1 import table1
from taxonomy.models import Leaf, Node
from taxonomy.round_import import round_import_file
from tests.factories import ArtefactFactory, member

from . import roundsheets

pytestmark = pytest.mark.django_db


def import_fixture(project, replication_dir, n, **kwargs):
    path = replication_dir / f"round_{n}.xlsx"
    outline = (replication_dir / "taxonomy_outline.csv").read_bytes()
    return round_import_file(
        project=project,
        data=path.read_bytes(),
        filename=path.name,
        number=n,
        outline_data=outline,
        outline_name="taxonomy_outline.csv",
        **kwargs,
    )


def row(table, name):
    return next(r for r in table["rows"] if r["round"] == name)


def snapshot(project):
    """Everything an import writes, with timestamps, to prove a re-import changes nothing."""
    return {
        "artefacts": list(Artefact.objects.filter(project=project).order_by("id").values()),
        "items": list(RoundItem.objects.filter(round__project=project).order_by("id").values()),
        "assignments": list(Assignment.objects.filter(round__project=project).order_by("id").values()),
        "annotations": list(Annotation.objects.filter(assignment__round__project=project).order_by("id").values()),
        "labels": list(Label.objects.filter(project=project).order_by("id").values()),
        "nodes": list(Node.objects.filter(project=project).order_by("id").values()),
        "leaves": list(Leaf.objects.filter(node__project=project).order_by("id").values()),
        "members": list(Membership.objects.filter(project=project).order_by("id").values()),
        "records": list(RoundImport.objects.filter(round__project=project).order_by("id").values()),
    }


# --- the study's rounds ---------------------------------------------------------------------------


def test_replication_rounds_give_the_papers_figures(project, replication_dir):
    first = import_fixture(project, replication_dir, 1)
    second = import_fixture(project, replication_dir, 2)
    assert (first["analysed"], first["conflicts"], first["relevant"]) == (29, 3, 5)
    assert (second["analysed"], second["conflicts"], second["relevant"]) == (110, 11, 16)
    assert first["skipped"] == [] and second["skipped"] == []
    table = table1(project)
    r1, r2 = row(table, "1"), row(table, "2")
    assert (r1["analysed"], r1["conflicts"], r1["relevant"]) == (29, 3, 5)
    assert (r2["analysed"], r2["conflicts"], r2["relevant"]) == (110, 11, 16)
    # round 2 has no Tag2 column: its disagreements were never recorded
    assert r1["disagreements"] is not None and r2["disagreements"] is None
    assert row(table, "subtotal")["analysed"] == 139


def test_replication_headers_differ_and_sheet_two_gives_codes(project, replication_dir):
    second = import_fixture(project, replication_dir, 2)
    assert "Tag2" not in second["columns"] and "NumberOfEvaluators" not in second["columns"]
    item = RoundItem.objects.get(round__number=2, artefact__url="https://stackoverflow.com/questions/40578598")
    assert item.category_code == "4.2.1"
    assert item.leaf.node.code == "4.2.1" and item.leaf.node.name == "Wrong Shape of Input Data"
    assert item.taxonomy_label.name == "wrong shape of input data for a layer (training)"
    # numbers in the second sheet are codes as written: 4.1, not 4.10 or 4.0999
    pull = RoundItem.objects.get(round__number=2, artefact__url="https://github.com/pyro-ppl/pyro/pull/286")
    assert pull.category_code == "4.1" and pull.artefact.kind == Artefact.Kind.GH_PULL
    assert pull.artefact.framework == "torch"
    # "false positive (refactoring)" is a verdict whose qualifier became the note
    qualified = Annotation.objects.get(
        assignment__item__artefact__url="https://github.com/dpressel/baseline/commit/b148258", assignment__order=3
    )
    assert (qualified.verdict, qualified.note, qualified.label_id) == ("false_positive", "refactoring", None)
    # Evaluator2 is named but round 2 kept no Tag2: an assignment without an annotation
    named_only = Assignment.objects.filter(round__number=2, order=2)
    assert named_only.count() == 110 and not Annotation.objects.filter(assignment__in=named_only).exists()


def test_replication_reimport_changes_nothing(project, replication_dir):
    import_fixture(project, replication_dir, 1)
    import_fixture(project, replication_dir, 2)
    before = snapshot(project)
    again = import_fixture(project, replication_dir, 2)
    assert again["changed"] is False
    assert again["items"] == {"created": 0, "updated": 0, "removed": 0}
    assert snapshot(project) == before


def test_evaluators_become_inactive_passwordless_members(project, replication_dir):
    import_fixture(project, replication_dir, 1)
    members = Membership.objects.filter(project=project, is_evaluator=True)
    assert sorted(members.values_list("external_id", flat=True)) == ["E1", "E2", "E3", "E4", "E5"]
    for m in members.select_related("user"):
        assert m.is_active is False
        assert not m.user.has_usable_password()
        assert m.user.username == f"{project.slug}-{m.external_id.lower()}"
    rnd = Round.objects.get(project=project, number=1)
    assert rnd.source == Round.Source.IMPORT and rnd.status == Round.Status.CLOSED
    assert rnd.evaluators.count() == 5


def test_node_rounds_are_the_first_round_with_a_relevant_artefact_below(project, replication_dir):
    import_fixture(project, replication_dir, 1)
    import_fixture(project, replication_dir, 2)
    nodes = {n.code: n for n in Node.objects.filter(project=project).select_related("round_created")}
    assert nodes["4"].round_created.number == 1  # 4.1 and 4.2.1 have round-1 artefacts
    assert nodes["2"].round_created.number == 2  # GPU usage first appears in round 2
    assert nodes["1.2.3"].round_created is None  # no artefact yet
    assert nodes["4.2.1"].parent == nodes["4.2"] and nodes["4.2"].parent == nodes["4"]
    shared = Leaf.objects.filter(node__project=project, label__normalised="wrong shape of input data for a layer")
    assert shared.count() == 1 and shared.get().round_created.number == 1


# --- generated sheets -------------------------------------------------------------------------------


def import_generated(project, data, *, number=9, filename="round.xlsx", outline=True):
    return round_import_file(
        project=project,
        data=data,
        filename=filename,
        number=number,
        outline_data=roundsheets.OUTLINE if outline else None,
        outline_name="outline.csv",
    )


def test_generated_round_semantics(project):
    report = import_generated(project, roundsheets.build())
    assert {k: report[k] for k in roundsheets.EXPECTED} == roundsheets.EXPECTED
    table = table1(project)
    r = row(table, "9")
    assert {k: r[k] for k in roundsheets.EXPECTED} == roundsheets.EXPECTED
    assert r["new_inner"] == [3, 4, 2] and r["new_leaves"] == 4  # the lying Stats sheet is ignored

    items = {i.artefact.url: i for i in RoundItem.objects.filter(round__project=project).select_related("artefact")}
    pull = items["https://github.com/org/repo/pull/7"]
    assert pull.artefact.kind == Artefact.Kind.GH_PULL and pull.had_disagreement and pull.is_conflict
    assert pull.status == RoundItem.Status.RESOLVED and pull.final_label.name == "b"
    changed = items["https://stackoverflow.com/questions/1004"]
    assert changed.final_label.name == "wrong tensor shape"
    assert changed.history == [{"field": "final_tag", "value": "x", "source": "import"}]
    fp = items["https://github.com/org/repo/commit/abc123"]
    assert fp.final_verdict == "false_positive" and fp.taxonomy_label is None and not fp.had_disagreement
    notes = dict(Annotation.objects.filter(assignment__item=fp).values_list("assignment__order", "note"))
    assert notes == {1: "", 2: "refactoring"}
    doubled = items["https://github.com/org/repo/issues/5"]
    assert set(Annotation.objects.filter(assignment__item=doubled).values_list("verdict", flat=True)) == {"generic"}
    # verdicts never become labels, let alone leaves
    assert not Label.objects.filter(project=project, normalised__in=["false positive", "generic", "unclear"]).exists()
    # the same label is a leaf under two nodes; an unknown code becomes a node named by it, under its parent
    shape = Leaf.objects.filter(node__project=project, label__normalised="wrong tensor shape")
    assert sorted(shape.values_list("node__code", flat=True)) == ["4.1", "4.2.1"]
    placeholder = Node.objects.get(project=project, code="1.2.9")
    assert placeholder.name == "1.2.9" and placeholder.parent.code == "1.2"


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_generated_reimport_changes_nothing(project, fmt):
    data = roundsheets.build(fmt)
    import_generated(project, data, filename=f"round.{fmt}")
    before = snapshot(project)
    again = import_generated(project, data, filename=f"round.{fmt}")
    assert again["changed"] is False and snapshot(project) == before


def test_without_conflict_column_conflicts_are_derived_as_the_core_does(project):
    report = import_generated(project, roundsheets.build(drop=("conflict",)))
    # the pull request had a majority (b, b): the team met in the study, but no majority is lacking
    assert report["conflicts"] == 2
    item = RoundItem.objects.get(round__project=project, artefact__url="https://stackoverflow.com/questions/1004")
    assert item.is_conflict and item.conflict_reason == "No majority after 4 evaluators."


def test_taxonomy_tag_from_the_second_sheet_when_the_first_lacks_it(project):
    report = import_generated(project, roundsheets.build(drop=("taxonomy",)))
    assert report["relevant"] == 4


def test_without_any_taxonomy_tag_relevance_is_never_recorded(project):
    report = import_generated(project, roundsheets.build("csv", drop=("taxonomy",)), filename="r.csv")
    assert report["relevant"] is None
    assert row(table1(project), "9")["relevant"] is None


def test_reimporting_a_corrected_file_makes_the_round_what_the_file_says(project):
    import_generated(project, roundsheets.build())
    fewer = [dict(r) for r in roundsheets.ROWS[:-1]]
    fewer[0]["t2"] = "other"
    report = import_generated(project, roundsheets.build(rows=fewer))
    assert report["items"]["removed"] == 1 and report["items"]["updated"] == 1
    assert RoundItem.objects.filter(round__project=project).count() == 7
    assert Annotation.objects.get(assignment__item__artefact__url=fewer[0]["link"], assignment__order=2).label.name == (
        "other"
    )
    # the leaf of the removed row's node no longer counts in the round
    assert Node.objects.get(project=project, code="1.2.9").round_created is None


def test_bad_rows_are_skipped_with_row_number_and_reason(project):
    rows = [dict(r) for r in roundsheets.ROWS]
    rows[1]["link"] = "not a link"
    rows.append(dict(rows[0]))  # the same link again
    rows.append({"entity_type": "so-keras", "t1": "orphan"})  # no link at all
    report = import_generated(project, roundsheets.build(rows=rows))
    reasons = {s["row"]: s["reason"] for s in report["skipped"]}
    assert reasons[3] == "link 'not a link' is not an http(s) URL"
    assert reasons[10] == "same link as row 2"
    assert reasons[11] == "no link"
    assert report["analysed"] == 7


def test_no_link_column_changes_nothing(project):
    before = snapshot(project)
    with pytest.raises(InvalidInput, match="no Link column"):
        import_generated(project, roundsheets.build(drop=("link",)))
    assert snapshot(project) == before
    assert not Round.objects.filter(project=project).exists()


def test_unreadable_file_changes_nothing_and_the_command_fails(project, tmp_path):
    bad = tmp_path / "round.xlsx"
    bad.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(CommandError, match="Unreadable XLSX"):
        call_command("import_round", project.slug, str(bad), "--round", "1")
    assert not Round.objects.exists()
    with pytest.raises(CommandError, match="no Link column"):
        no_link = tmp_path / "nolink.csv"
        no_link.write_text("EntityType,Tag1\nso-keras,wrong\n")
        call_command("import_round", "brand-new", str(no_link), "--round", "1", "--lead", "alice")
    assert not Round.objects.exists()
    from core.models import Project

    assert not Project.objects.filter(slug="brand-new").exists()  # the project's creation rolled back too


def test_a_round_labelled_in_concord_is_never_overwritten(team):
    ArtefactFactory(project=team.project)
    from labelling import services

    services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in team.evaluators[:2]],
        artefact_ids=list(Artefact.objects.filter(project=team.project).values_list("id", flat=True)),
        number=1,
    )
    with pytest.raises(InvalidInput, match="labelled in Concord"):
        import_generated(team.project, roundsheets.build(), number=1)


def test_import_does_not_apply_the_cores_limits(project):
    rows = [dict(r) for r in roundsheets.ROWS]
    long_tag = "a very long tag " * 20  # over 200 characters
    rows[0].update(t1=long_tag.strip(), t2=long_tag.strip(), final="wrong loss")
    report = import_generated(project, roundsheets.build(rows=rows))
    assert report["skipped"] == []
    note = Annotation.objects.get(assignment__item__artefact__url=rows[0]["link"], assignment__order=1).note
    assert note == f"Full tag: {long_tag.strip()}"
    # four evaluators on one artefact although the project's cap is 3
    assert project.max_evaluators_per_artefact == 3
    assert Assignment.objects.filter(item__artefact__url=rows[3]["link"]).count() == 4


def test_evaluator_ids_map_to_existing_members_case_insensitively(project):
    existing = member(project, evaluator=True, username="carla")
    Membership.objects.filter(user=existing).update(external_id="e1")
    import_generated(project, roundsheets.build())
    assert Assignment.objects.filter(round__project=project, evaluator=existing).exists()
    assert not Membership.objects.filter(project=project, external_id="E1").exists()


def test_command_prints_only_json_and_creates_project_with_lead(tmp_path, capsys, db):
    path = tmp_path / "round.xlsx"
    path.write_bytes(roundsheets.build())
    outline = tmp_path / "outline.csv"
    outline.write_bytes(roundsheets.OUTLINE)
    call_command("import_round", "new-study", str(path), "--round", "3", "--outline", str(outline), "--lead", "lena")
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["round"] == 3 and report["conflicts"] == 3
    assert "Created project new-study" in err and "[100%]" in err
    membership = Membership.objects.get(project__slug="new-study", user__username="lena")
    assert membership.is_lead


def test_category_codes_as_numbers_and_text(project):
    import io

    import openpyxl

    rows = [dict(r) for r in roundsheets.ROWS]
    rows[6]["code"] = "4.10"  # text: the tenth child of 4, not 4.1
    workbook = openpyxl.load_workbook(io.BytesIO(roundsheets.build(rows=rows)))
    second = workbook.worksheets[1]
    for line in second.iter_rows(min_row=2):
        if line[1].value == rows[0]["link"]:
            line[3].value, line[3].number_format = 5.2, "0.00"  # a number shown with two decimals: "5.20"
    buffer = io.BytesIO()
    workbook.save(buffer)
    import_generated(project, buffer.getvalue())
    codes = dict(RoundItem.objects.filter(round__project=project).values_list("artefact__url", "category_code"))
    assert codes[rows[3]["link"]] == "4.1" and codes[rows[6]["link"]] == "4.10"
    assert codes[rows[0]["link"]] == "5.20"
    assert Node.objects.get(project=project, code="4.10").parent.code == "4"
    assert Node.objects.get(project=project, code="4.1").name == "Wrong Tensor Shape"


def test_tag_history_is_kept_on_the_annotation(project):
    rows = [dict(r) for r in roundsheets.ROWS]
    rows[0]["t1"] = "wrong optimiser -> wrong loss"
    import_generated(project, roundsheets.build(rows=rows))
    annotation = Annotation.objects.get(assignment__item__artefact__url=rows[0]["link"], assignment__order=1)
    assert annotation.label.name == "wrong loss"
    assert annotation.history == [{"value": "wrong optimiser", "source": "import"}]
    item = RoundItem.objects.get(artefact__url=rows[0]["link"])
    assert not item.had_disagreement  # current values agree
