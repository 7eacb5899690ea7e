"""Exports: a round in the study's layout (import → export → import gives the same Table 1) and JSON Lines."""

import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from core.models import Job
from labelling import services
from labelling.exports import annotations_export_jsonl, round_export_csv, round_export_xlsx
from labelling.models import Annotation, Round, RoundItem
from reports.table1 import table1
from taxonomy.round_import import round_import_file
from tests.factories import ArtefactFactory, ProjectFactory, member

from . import roundsheets

pytestmark = pytest.mark.django_db


def import_round(project, data, number, filename, outline):
    return round_import_file(
        project=project, data=data, filename=filename, number=number, outline_data=outline, outline_name="o.csv"
    )


@pytest.fixture
def study(project, replication_dir):
    outline = (replication_dir / "taxonomy_outline.csv").read_bytes()
    for n in (1, 2):
        import_round(project, (replication_dir / f"round_{n}.xlsx").read_bytes(), n, f"round_{n}.xlsx", outline)
    project.outline = outline
    return project


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_import_export_import_gives_the_same_table1(study, fmt):
    export = round_export_xlsx if fmt == "xlsx" else round_export_csv
    copy = ProjectFactory()
    for n in (1, 2):
        data = export(Round.objects.get(project=study, number=n))
        report = import_round(copy, data, n, f"export.{fmt}", study.outline)
        assert report["skipped"] == []
    assert table1(copy) == table1(study)


def test_reimporting_an_export_into_the_same_round_changes_nothing(study):
    rnd = Round.objects.get(project=study, number=1)
    report = import_round(study, round_export_xlsx(rnd), 1, "export.xlsx", None)
    assert report["changed"] is False


def test_generated_round_round_trips_with_history_qualifiers_and_codes(project):
    import_round(project, roundsheets.build(), 9, "r.xlsx", roundsheets.OUTLINE)
    data = round_export_xlsx(Round.objects.get(project=project, number=9))
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Round 9 All", "Round 9 Relevant"]
    first = workbook.worksheets[0]
    header = [c.value for c in first[1]]
    assert header[:4] == ["EntityType", "Link", "Conflict", "NumberOfEvaluators"]
    assert header[-2:] == ["Final Tag", "Taxonomy Tag"] and "Tag4" in header
    rows = {r[1]: dict(zip(header, r, strict=True)) for r in first.iter_rows(min_row=2, values_only=True)}
    pull = rows["https://github.com/org/repo/pull/7"]
    assert (pull["EntityType"], pull["Conflict"], pull["NumberOfEvaluators"]) == ("issue-torch", 1, 3)
    assert rows["https://stackoverflow.com/questions/1004"]["Final Tag"] == "x -> wrong tensor shape"
    assert rows["https://github.com/org/repo/commit/abc123"]["Tag2"] == "false positive (refactoring)"
    assert rows["https://stackoverflow.com/questions/1006"]["Tag2"] is None  # named, no tag
    relevant = list(workbook.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert sorted(r[5] for r in relevant) == ["1.2.9", "4.1", "4.2.1", "5.2"]  # codes as text
    copy = ProjectFactory()
    import_round(copy, data, 9, "export.xlsx", roundsheets.OUTLINE)
    assert table1(copy) == table1(project)
    note = Annotation.objects.get(
        assignment__round__project=copy,
        assignment__item__artefact__url="https://github.com/org/repo/commit/abc123",
        assignment__order=2,
    ).note
    assert note == "refactoring"


def test_annotations_jsonl(study):
    lines = [json.loads(line) for line in annotations_export_jsonl(study)]
    annotations = [x for x in lines if x["type"] == "annotation"]
    decisions = [x for x in lines if x["type"] == "decision"]
    assert len(annotations) == Annotation.objects.filter(assignment__round__project=study).count()
    assert len(decisions) == 139
    fp = next(a for a in annotations if a["note"] == "refactoring")
    assert (fp["verdict"], fp["label"], fp["evaluator_id"], fp["round"]) == ("false_positive", None, "E4", 2)
    relevant = [d for d in decisions if d["leaf"]]
    assert len(relevant) == 21 and all(d["taxonomy_label"] == d["leaf"]["label"] for d in relevant)


def test_export_commands(study, tmp_path, capsys):
    target = tmp_path / "r1.xlsx"
    call_command("export_round", study.slug, "--round", "1", "--output", str(target))
    assert openpyxl.load_workbook(target).sheetnames == ["Round 1 All", "Round 1 Relevant"]
    capsys.readouterr()
    call_command("export_annotations", study.slug)
    out, _ = capsys.readouterr()
    assert all(json.loads(line)["project"] == study.slug for line in out.splitlines())


# --- pages --------------------------------------------------------------------------------------


def test_round_export_download_and_background_job(study, client, django_capture_on_commit_callbacks):
    lead = member(study, lead=True, username="lead")
    client.force_login(lead)
    url = reverse("labelling:export_round", args=[study.slug, 2])
    response = client.get(url, {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines()[0].startswith("EntityType,Link,Conflict")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"format": "xlsx"})
    job = Job.objects.get(project=study, kind=Job.Kind.EXPORT_ROUND)
    assert response.status_code == 302 and response["Location"] == reverse(
        "labelling:task_progress", args=[study.slug, job.id]
    )
    page = client.get(response["Location"]).content.decode()
    assert "Download" in page and job.result_name in page
    download = client.get(reverse("labelling:job_download", args=[study.slug, job.id]))
    assert openpyxl.load_workbook(io.BytesIO(download.content)).sheetnames[0] == "Round 2 All"


def test_annotation_export_page(study, client):
    client.force_login(member(study, lead=True, username="lead"))
    response = client.get(reverse("labelling:export_annotations", args=[study.slug]))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) > 139 and json.loads(lines[0])["type"] == "annotation"


def test_exports_are_for_leads_only(study, client):
    client.force_login(member(study, moderator=True, evaluator=True, username="mod"))
    assert client.get(reverse("labelling:export_round", args=[study.slug, 1])).status_code == 403
    assert client.get(reverse("labelling:export_annotations", args=[study.slug])).status_code == 403
    client.force_login(member(ProjectFactory(), lead=True, username="stranger"))
    assert client.get(reverse("labelling:export_round", args=[study.slug, 1])).status_code == 404


def test_a_lead_with_open_work_cannot_export_others_labels(team, client):
    ArtefactFactory.create_batch(2, project=team.project)
    from core.models import Membership

    Membership.objects.filter(project=team.project, user=team.lead).update(is_evaluator=True)
    rnd = services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[team.lead.id, team.evaluators[0].id],
        artefact_ids=list(team.project.artefacts.values_list("id", flat=True)),
    )
    client.force_login(team.lead)
    assert client.get(reverse("labelling:export_round", args=[team.project.slug, rnd.number])).status_code == 403
    assert client.get(reverse("labelling:export_annotations", args=[team.project.slug])).status_code == 403
    for assignment in rnd.assignments.filter(evaluator=team.lead):
        services.annotation_submit(assignment_id=assignment.id, user=team.lead, label="wrong loss")
    response = client.get(reverse("labelling:export_round", args=[team.project.slug, rnd.number]), {"format": "csv"})
    assert response.status_code == 200
    assert RoundItem.objects.filter(round=rnd).count() == 2


def test_a_concord_round_exported_and_imported_keeps_its_people_and_figures(team, django_capture_on_commit_callbacks):
    artefacts = ArtefactFactory.create_batch(4, project=team.project)
    rnd = services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in team.evaluators[:2]],
        artefact_ids=[a.id for a in artefacts],
    )
    answers = [("wrong loss", "wrong loss"), ("a", "b"), (None, None), ("x", "x")]
    for item, (first, second) in zip(rnd.items.order_by("id"), answers, strict=True):
        a1, a2 = item.assignments.order_by("order")
        with django_capture_on_commit_callbacks(execute=True):
            for assignment, label in ((a1, first), (a2, second)):
                if label:
                    services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label=label)
                else:
                    services.annotation_submit(
                        assignment_id=assignment.id, user=assignment.evaluator, verdict="generic"
                    )
    third = Annotation.objects.none()
    pending = rnd.assignments.filter(order=3, completed_at__isnull=True).first()
    if pending:  # the disagreement's third evaluator sides with "b"
        services.annotation_submit(assignment_id=pending.id, user=pending.evaluator, label="b")
        third = Annotation.objects.filter(assignment=pending)
    assert third.exists()
    original = next(r for r in table1(team.project)["rows"] if r["round"] == str(rnd.number))
    report = import_round(team.project, round_export_xlsx(rnd), 7, "export.xlsx", None)
    assert report["evaluators_created"] == []  # usernames map back to the members
    copy = next(r for r in table1(team.project)["rows"] if r["round"] == "7")
    assert {k: copy[k] for k in ("analysed", "disagreements", "conflicts", "relevant")} == {
        k: original[k] for k in ("analysed", "disagreements", "conflicts", "relevant")
    }
    people = set(Round.objects.get(project=team.project, number=7).evaluators.values_list("username", flat=True))
    assert people == {"eva1", "eva2", "eva3"}


def test_xlsx_keeps_a_label_typed_as_a_formula_as_text(team):
    from tests.factories import team_round

    rnd = team_round(team, 1)
    for assignment in rnd.items.get().assignments.order_by("order"):
        services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label="=1+1")
    data = round_export_xlsx(rnd)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    final = sheet.cell(row=2, column=header.index("Final Tag") + 1)
    assert (final.value, final.data_type) == ("=1+1", "s")
    copy = ProjectFactory()
    import_round(copy, data, 1, "export.xlsx", None)
    assert RoundItem.objects.get(round__project=copy).final_label.name == "=1+1"  # not lost as a formula
