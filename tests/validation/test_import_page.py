"""The import page (upload, preview of the matching read by a job, then the import job) and the participants page
(import, table, downloads)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from core.models import Job
from tests.factories import NodeFactory
from validation.models import Participant, Response, Survey

from .qualtrics_files import SurveyRows, as_xlsx

pytestmark = pytest.mark.django_db


def test_upload_preview_then_import(client, team, django_capture_on_commit_callbacks):
    NodeFactory(project=team.project, name="Hyperparameters", code="5.1")
    NodeFactory(project=team.project, name="Optimiser", code="5.5")
    source = SurveyRows.random(["Hyperparameters", "OptimiserProblems", "Odd group"], n=5, seed=3)
    url = reverse("validation:import", args=[team.project.slug])
    client.force_login(team.lead)
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("export.xlsx", as_xlsx(source.rows("three-row")))
    with django_capture_on_commit_callbacks(execute=True):  # the preview is read by the job's Celery step
        response = client.post(url, {"file": upload})
    job = Job.objects.get(project=team.project, kind=Job.Kind.IMPORT_SURVEY)
    preview_url = reverse("validation:import_preview", args=[team.project.slug, job.id])
    assert response.status_code == 302 and response["Location"] == preview_url
    assert not [key for key, _ in client.session.items() if key.startswith("validation-import")]  # no file kept
    job.refresh_from_db()
    preview = job.params["preview"]
    assert preview["groups"] == ["Hyperparameters", "OptimiserProblems", "Odd group"] and preview["respondents"] == 5
    assert job.status == Job.Status.PENDING and job.task_id == "" and job.input_data is not None
    page = client.get(preview_url).content.decode()
    assert "Optimiser" in page and "normalised" in page and "Import 5 respondents" in page
    assert 'id="import-unmatched"' in page and "Odd group" in page
    assert not Survey.objects.exists()  # a preview writes nothing
    # the stored file, mapped and imported by the job; its page shows the report and links to the survey
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(preview_url, {"action": "import", "mapping": "Odd group="})
    progress_url = reverse("labelling:task_progress", args=[team.project.slug, job.id])
    assert response.status_code == 302 and response["Location"] == progress_url
    survey = Survey.objects.get()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.input_data is None
    assert job.params["mapping"] == ["Odd group="] and job.params["survey"] is None
    assert job.report["added"] == 5 and job.report["already_imported"] == 0 and job.report["survey_created"]
    assert job.report["survey"] == survey.id and job.report["survey_title"] == "Imported: export.xlsx"
    assert Response.objects.filter(survey=survey).count() == 5
    assert sorted(survey.categories.values_list("name", flat=True)) == ["Hyperparameters", "Optimiser"]
    page = client.get(progress_url).content.decode()
    assert 'id="import-report"' in page and "hx-trigger" not in page
    assert reverse("validation:survey", args=[team.project.slug, survey.id]) in page and "Imported: export.xlsx" in page
    assert client.get(preview_url)["Location"] == progress_url  # the preview of a started import: its job
    # the same file again: nothing added, the job says they were there already
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"file": SimpleUploadedFile("export.xlsx", as_xlsx(source.rows("three-row")))})
    again = Job.objects.filter(kind=Job.Kind.IMPORT_SURVEY).latest("id")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("validation:import_preview", args=[team.project.slug, again.id]),
            {"action": "import", "mapping": "Odd group=", "survey": str(survey.id)},
        )
    again.refresh_from_db()
    assert again.status == Job.Status.DONE and again.report["added"] == 0 and again.report["already_imported"] == 5
    assert Response.objects.count() == 5


def test_import_page_names_the_problem(client, team, django_capture_on_commit_callbacks):
    client.force_login(team.lead)
    url = reverse("validation:import", args=[team.project.slug])
    response = client.post(url, {})
    page = response.content.decode()
    assert response.status_code == 400 and 'id="import-file-error"' in page and "Choose the exported file" in page
    assert not Job.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")})
    job = Job.objects.get()
    assert response.status_code == 302  # checked for size and shape only; read in Celery, which fails the job
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error.startswith("x.csv: ") and "No category questions" in job.error
    assert job.input_data is None and "preview" not in job.params and not Survey.objects.exists()
    progress_url = reverse("labelling:task_progress", args=[team.project.slug, job.id])
    assert client.get(response["Location"])["Location"] == progress_url
    page = client.get(progress_url).content.decode()
    assert 'id="job-error"' in page and "x.csv: " in page


def test_participants_page_import_and_downloads(client, team, django_capture_on_commit_callbacks):
    """The import runs as a job (tests/validation/test_participants_jobs.py): the page redirects to its page."""
    url = reverse("reports:participants", args=[team.project.slug])
    sheet = (
        "Participant,Role,Experience,DL experience,Frameworks\n"
        'P1,Researcher,6,2,Keras\nP2,Developer,10,4,"PyTorch, TensorFlow"\nP3,Engineer,4,1,Keras\n'
    )
    client.force_login(team.moderator)
    refused = client.post(url, {"file": SimpleUploadedFile("p.csv", sheet.encode()), "kind": "interviewee"})
    assert refused.status_code == 403 and not Participant.objects.exists() and not Job.objects.exists()
    client.force_login(team.lead)
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url, {"file": SimpleUploadedFile("p.csv", sheet.encode()), "kind": "interviewee"})
    page = client.get(posted["Location"])
    assert page.status_code == 200 and "3 participants added, 0 updated." in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url, {"file": SimpleUploadedFile("p.csv", sheet.encode()), "kind": "interviewee"})
    again = client.get(posted["Location"])
    assert "0 participants added, 3 updated." in again.content.decode() and Participant.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url, {"file": SimpleUploadedFile("p.csv", sheet.encode())})
    no_kind = client.get(posted["Location"])
    assert 'id="job-error"' in no_kind.content.decode()
    assert "p.csv: say whether the participants" in no_kind.content.decode()
    assert "interviewees or survey respondents" in no_kind.content.decode()
    data = json.loads(client.get(url, {"format": "json"}).content)
    rows = {(r["kind"], r["role"]): r for r in data["rows"]}
    assert rows["interviewee", "practitioner"]["n"] == 2
    assert rows["interviewee", "all"]["experience"] == {"min": 4, "median": 6, "max": 10}
    assert data["frameworks"][0] == {"name": "Keras", "n": 2}
    csv_text = client.get(url, {"format": "csv"}).content.decode()
    assert "Interviewees,Practitioners,2,4,7,10,1,2.5,4" in csv_text
    assert client.get(url, {"format": "pdf"}).status_code == 404


def test_survey_list_links_import_and_participants(client, team):
    client.force_login(team.lead)
    page = client.get(reverse("validation:list", args=[team.project.slug])).content.decode()
    assert reverse("validation:import", args=[team.project.slug]) in page
    assert reverse("reports:participants", args=[team.project.slug]) in page


def test_import_participants_command(team, tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text("Respondent,Position,Years of experience\nR_1,Data scientist,5\nR_2,PhD student,2\n")
    call_command("import_participants", team.project.slug, str(path), "--kind", "respondent")
    assert json.loads(capsys.readouterr().out) == {"created": 2, "updated": 0}
    assert sorted(Participant.objects.values_list("external_id", "role")) == [
        ("R_1", "practitioner"),
        ("R_2", "researcher"),
    ]
    with pytest.raises(CommandError, match="interviewees or survey respondents"):
        call_command("import_participants", team.project.slug, str(path))
