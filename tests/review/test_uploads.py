"""Damaged and hostile uploads are a 400 naming the file, with nothing written, on every upload form
and API: XLSX packages with broken XML inside, JSON nested too deeply for Python's parser, and
numbers beyond what the database columns hold. An interview coding sheet, a labelled round (and its
outline), an artefact file and a survey export are parsed only in their job: there the damaged file fails the job,
which names it, and nothing is written."""

import io
import json
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from collection.models import Artefact
from core.models import Job
from interviews.models import Interview
from labelling.models import Round
from taxonomy.models import Node
from tests.interviews.factories import transcript_txt
from validation.models import Survey


def _zip(files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _xlsx(rows) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _damaged(data: bytes, part: str, content: bytes = b"<<<not xml") -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    return _zip({**{name: source.read(name) for name in source.namelist()}, part: content})


GOOD = _xlsx([["Link", "Title", "Interview Num", "Tag"], ["https://stackoverflow.com/questions/1", "t", 1, "x"]])
DAMAGED = {
    "sheet.xlsx": _damaged(GOOD, "xl/worksheets/sheet1.xml"),
    "styles.xlsx": _damaged(GOOD, "xl/styles.xml"),
    "workbook.xlsx": _damaged(GOOD, "xl/workbook.xml"),
    "rels.xlsx": _damaged(GOOD, "xl/_rels/workbook.xml.rels"),
    "deep.json": b"[" * 100_000,
    "deep-object.json": b'{"a":' * 50_000,
}


@pytest.fixture
def lead(team):
    client = Client()
    client.force_login(team.lead)
    return client


def _job_failed(name, kind=Job.Kind.IMPORT_INTERVIEW_SHEET) -> None:
    """A coding sheet, a round, an artefact or a taxonomy file is read in its job, never in the request: a
    damaged file fails the job, naming the file."""
    job = Job.objects.get(kind=kind)
    assert job.status == Job.Status.FAILED and job.error.startswith(f"{name}") and job.input_data is None
    job.delete()


def _interview_sheet_job_failed(name) -> None:
    _job_failed(name)


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_files_are_a_400_on_every_upload_page(team, lead, name, django_capture_on_commit_callbacks):
    slug, data = team.project.slug, DAMAGED[name]
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/p/{slug}/taxonomy/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    _job_failed(name, kind=Job.Kind.IMPORT_TAXONOMY)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/p/{slug}/import/artefacts/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    _job_failed(name, kind=Job.Kind.IMPORT_ARTEFACTS)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/p/{slug}/interviews/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    _interview_sheet_job_failed(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/p/{slug}/import/round/", {"round": 1, "file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    _job_failed(name, kind=Job.Kind.IMPORT_ROUND)
    outline = SimpleUploadedFile(name, data)
    good = SimpleUploadedFile("round.xlsx", GOOD)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/p/{slug}/import/round/", {"round": 1, "file": good, "outline": outline})
    assert response.status_code == 302
    _job_failed(name, kind=Job.Kind.IMPORT_ROUND)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/p/{slug}/survey/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302
    _job_failed(name, kind=Job.Kind.IMPORT_SURVEY)
    assert not Job.objects.exists() and not Round.objects.exists() and not Survey.objects.exists()
    assert not Artefact.objects.exists() and not Node.objects.exists() and not Interview.objects.exists()


@pytest.mark.parametrize("name", DAMAGED)
def test_damaged_files_are_a_400_on_the_upload_apis(team, name, django_capture_on_commit_callbacks):
    api = APIClient()
    api.force_authenticate(team.lead)
    slug, data = team.project.slug, DAMAGED[name]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/projects/{slug}/taxonomy/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 202
    _job_failed(name, kind=Job.Kind.IMPORT_TAXONOMY)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/projects/{slug}/interviews/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 202
    _interview_sheet_job_failed(name)
    assert not Node.objects.exists() and not Interview.objects.exists()


def test_a_deeply_nested_taxonomy_document_in_the_body_is_a_400(team):
    api = APIClient()
    api.force_authenticate(team.lead)
    body = '{"nodes": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = api.post(f"/api/projects/{team.project.slug}/taxonomy/import/", body, content_type="application/json")
    assert response.status_code == 400
    assert json.dumps(response.json())


def test_numbers_beyond_the_database_columns_are_a_400(team, lead):
    slug = team.project.slug
    huge = 2**40
    response = lead.post(
        f"/p/{slug}/interviews/upload/", {"number": huge, "file": SimpleUploadedFile("t.txt", transcript_txt())}
    )
    assert response.status_code == 400
    api = APIClient()
    api.force_authenticate(team.lead)
    response = api.post(
        f"/api/projects/{slug}/interviews/",
        {"number": huge, "file": SimpleUploadedFile("t.txt", transcript_txt())},
        format="multipart",
    )
    assert response.status_code == 400
    assert not Interview.objects.exists()

    response = lead.post(f"/p/{slug}/import/round/", {"round": huge, "file": SimpleUploadedFile("r.xlsx", GOOD)})
    assert response.status_code == 400
    assert not Job.objects.exists() and not Round.objects.exists()


def test_a_count_cell_reading_inf_or_nan_is_unreadable_not_a_crash(team):
    """NumberOfEvaluators as "inf" or "1e999" (CSV), or Infinity and NaN (JSON): int() raised
    OverflowError/ValueError, and the whole round import failed with "Unexpected error"."""
    from labelling.tags import parse_count
    from taxonomy.round_import import round_import_file

    assert [parse_count(v) for v in ("inf", "1e999", "nan", float("inf"), float("nan"), "3", 2.0, True)] == [
        *(None,) * 5,
        3,
        2,
        1,
    ]
    rows = [
        {
            "Link": "https://stackoverflow.com/questions/9",
            "EntityType": "so-keras",
            "NumberOfEvaluators": float("inf"),
            "Evaluator1": "E1",
            "Tag1": "nan loss",
            "Evaluator2": "E2",
            "Tag2": "nan loss",
            "Conflict": float("nan"),
            "Final Tag": "nan loss",
        }
    ]
    report = round_import_file(
        project=team.project, data=json.dumps(rows).encode(), filename="r.json", number=1, user=team.lead
    )
    assert Round.objects.filter(project=team.project, number=1).exists()
    assert report
