"""Acceptance: the demo plus the study's round and interview fixtures and a survey -> export_project ->
import_project into an emptied database -> every table equal (ids aside), Table 1, Table 2, the taxonomy
JSON and the interview figures identical; a second export byte-identical apart from the manifest's time."""

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.models import Project
from interviews import services as interview_services
from interviews.selectors import interview_stats_row
from reports.backup.archive import MANIFEST
from reports.backup.engine import plan_tables
from reports.table1 import table1
from taxonomy import exports
from tests.reports.test_backup_engine import _snapshot, _wipe
from tests.validation.factories import respond
from validation import services as validation_services
from validation.models import Survey
from validation.selectors import survey_results

pytestmark = pytest.mark.django_db
SHEET = "interviews/interview_open_coding_1-3.xlsx"


def _figures(project) -> dict:
    survey = Survey.objects.get(project=project)
    results = survey_results(survey)
    return {
        "table1": json.loads(json.dumps(table1(project), default=str)),
        "table2": json.loads(json.dumps([r.__dict__ for r in results.rows], default=str)),
        "taxonomy": exports.export(project, "json"),
        "interviews": json.loads(json.dumps(interview_stats_row(project), default=str)),
    }


def _demo(replication_dir):
    call_command("load_demo", stdout=io.StringIO(), stderr=io.StringIO())
    project = Project.objects.get(slug="demo")
    lead = get_user_model().objects.get(username="demo-lead")
    for n in (1, 2, 3):
        docx = replication_dir / "interviews" / f"interview{n}.docx"
        interview_services.interview_create(project=project, user=lead, filename=docx.name, data=docx.read_bytes())
    interview_services.coding_sheet_import(
        project=project, user=lead, filename="sheet.xlsx", data=(replication_dir / SHEET).read_bytes()
    )
    survey = validation_services.survey_create(project=project, user=lead, title="Validation")
    categories = list(survey.categories.order_by("position"))
    for i in range(3):
        answers = {}
        for j, c in enumerate(categories):
            met = j % (i + 2) == 0
            answers[c] = (True, 1 + (j + i) % 5, 1 + j % 5) if met else (False, None, None)
        respond(survey, answers)
    return project


def test_demo_round_trip(replication_dir, tmp_path):
    project = _demo(replication_dir)
    before_rows = _snapshot(project)
    before = _figures(project)
    assert sum(len(rows) for rows in before_rows.values()) > 1000
    first = tmp_path / "first.zip"
    call_command("export_project", "demo", "--output", str(first), stderr=io.StringIO())

    usernames = list(get_user_model().objects.values_list("username", flat=True))
    _wipe(project)
    get_user_model().objects.all().delete()
    assert not any(p.model._base_manager.exists() for p in plan_tables() if not p.label.endswith(".project"))

    out = io.StringIO()
    call_command("import_project", str(first), stdout=out, stderr=io.StringIO())
    report = json.loads(out.getvalue())
    assert report["ids_kept"] and set(report["users_created"]) <= set(usernames)
    restored = Project.objects.get(slug="demo")
    assert _snapshot(restored) == before_rows
    assert _figures(restored) == before

    second = tmp_path / "second.zip"
    call_command("export_project", "demo", "--output", str(second), stderr=io.StringIO())
    a, b = zipfile.ZipFile(first), zipfile.ZipFile(second)
    assert a.namelist() == b.namelist()
    for name in a.namelist():
        if name != MANIFEST:
            assert a.read(name) == b.read(name), name
    m1, m2 = json.loads(a.read(MANIFEST)), json.loads(b.read(MANIFEST))
    m1.pop("created_at"), m2.pop("created_at")
    assert m1 == m2
