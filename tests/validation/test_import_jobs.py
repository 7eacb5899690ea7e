"""Survey-response imports are safe to put on a server: the upload is checked against the "survey" limits
before anything parses it (a 4xx naming the file field, no job), read once in Celery for its preview (the
page matches on the stored group names), imported by a Celery job that writes all or nothing and names the
file when it fails, and an abandoned preview expires with the sweeper. Only leads import."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from core import jobs
from core.models import Job
from tests.core.test_upload_limits import MB, bomb, wide_csv
from tests.factories import NodeFactory, ProjectFactory, member
from validation import qualtrics, services
from validation.models import Answer, Response, Survey

from .factories import survey_with_categories
from .qualtrics_files import SurveyRows, as_csv

pytestmark = pytest.mark.django_db

GROUPS = ["Hyperparameters", "OptimiserProblems", "Odd group"]


@pytest.fixture
def study(team):
    NodeFactory(project=team.project, name="Hyperparameters", code="5.1")
    NodeFactory(project=team.project, name="Optimiser", code="5.5")
    NodeFactory(project=team.project, name="Loss Function", code="5.6")
    return team


@pytest.fixture
def lead_client(team, client):
    client.force_login(team.lead)
    return client


def export(n=4, seed=7) -> bytes:
    return as_csv(SurveyRows.random(GROUPS, n=n, seed=seed).rows("three-row"))


def upload_url(team):
    return reverse("validation:import", args=[team.project.slug])


def preview_url(team, job):
    return reverse("validation:import_preview", args=[team.project.slug, job.id])


def job_page(team, job):
    return reverse("labelling:task_progress", args=[team.project.slug, job.id])


def upload(client, team, name, data, capture):
    with capture(execute=True):
        response = client.post(upload_url(team), {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 302, response.content.decode()[:500]
    return Job.objects.get(project=team.project, kind=Job.Kind.IMPORT_SURVEY)


@pytest.fixture
def counted_reads(monkeypatch):
    """The names of the files the export reader read."""
    calls = []
    read = qualtrics.read_export

    def counting(data, filename=""):
        calls.append(filename)
        return read(data, filename)

    monkeypatch.setattr(qualtrics, "read_export", counting)
    return calls


# --- refused before its job ---------------------------------------------------------------------


@override_settings(CONCORD_UPLOAD_LIMITS={"survey": 2048})
def test_an_oversized_file_is_a_413_naming_the_file_field_and_no_job(study, lead_client):
    data = export(n=60)
    assert len(data) > 2048
    response = lead_client.post(upload_url(study), {"file": SimpleUploadedFile("big.csv", data)})
    page = response.content.decode()
    assert response.status_code == 413
    assert 'id="import-file-error"' in page and "the limit is 2048 bytes" in page
    assert 'aria-describedby="import-file-error"' in page
    assert not Job.objects.exists() and not Survey.objects.exists()
    assert "at most 2.0" in lead_client.get(upload_url(study)).content.decode()  # the page says the limit


@override_settings(CONCORD_UPLOAD_ZIP_UNPACKED=8 * MB)
def test_an_xlsx_bomb_is_refused_before_its_job(study, lead_client, monkeypatch):
    monkeypatch.setattr(qualtrics, "read_export", _never)
    response = lead_client.post(upload_url(study), {"file": SimpleUploadedFile("bomb.xlsx", bomb(32 * MB))})
    page = response.content.decode()
    assert response.status_code == 413 and 'id="import-file-error"' in page and "unpacks to 32 MB" in page
    assert not Job.objects.exists() and not Survey.objects.exists()


@override_settings(CONCORD_UPLOAD_CSV_COLUMNS=50)
def test_a_csv_with_too_many_columns_is_refused_before_its_job(study, lead_client):
    response = lead_client.post(upload_url(study), {"file": SimpleUploadedFile("wide.csv", wide_csv(500))})
    assert response.status_code == 413 and "the limit is 50" in response.content.decode()
    assert not Job.objects.exists()


@override_settings(CONCORD_UPLOAD_LIMITS={"survey": 2048})
def test_the_command_checks_the_upload_first(study, tmp_path, monkeypatch):
    monkeypatch.setattr(qualtrics, "read_export", _never)
    path = tmp_path / "big.csv"
    path.write_bytes(export(n=60))
    with pytest.raises(CommandError, match="file: The file is .*the limit is 2048 bytes"):
        call_command("import_survey_responses", study.project.slug, str(path))
    assert not Survey.objects.exists()


# --- read in Celery, never in the request -------------------------------------------------------


def _never(*args, **kwargs):
    raise AssertionError("the export was parsed in the request")


def test_no_request_parses_the_file(study, lead_client, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(qualtrics, "read_export", _never)
    monkeypatch.setattr(qualtrics, "read_rows", _never)
    with django_capture_on_commit_callbacks() as sent:  # the Celery sends, held until after the request
        response = lead_client.post(upload_url(study), {"file": SimpleUploadedFile("e.csv", export())})
    job = Job.objects.get()
    assert response["Location"] == preview_url(study, job) and len(sent) == 1
    assert 'id="import-reading"' in lead_client.get(preview_url(study, job)).content.decode()
    monkeypatch.undo()  # the worker reads it
    sent[0]()
    monkeypatch.setattr(qualtrics, "read_export", _never)
    monkeypatch.setattr(qualtrics, "read_rows", _never)
    assert "normalised" in lead_client.get(preview_url(study, job)).content.decode()
    page = lead_client.post(preview_url(study, job), {"action": "preview", "mapping": "Odd group="})
    assert page.status_code == 200 and '<td class="muted">ignored</td>' in page.content.decode()
    with django_capture_on_commit_callbacks() as sent:
        response = lead_client.post(preview_url(study, job), {"action": "import", "mapping": "Odd group="})
    assert response["Location"] == job_page(study, job) and len(sent) == 1
    assert not Response.objects.exists()
    monkeypatch.undo()
    sent[0]()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.report["added"] == 4 and Response.objects.count() == 4


def test_the_preview_is_read_once_and_shown_again_without_reading(
    study, lead_client, counted_reads, django_capture_on_commit_callbacks
):
    survey, (a, b) = survey_with_categories(project=study.project, n=2, status=Survey.Status.CLOSED)
    job = upload(lead_client, study, "e.csv", export(), django_capture_on_commit_callbacks)
    assert counted_reads == ["e.csv"]
    job.refresh_from_db()
    assert set(job.params["preview"]) == {"groups", "respondents", "layout", "warnings", "warnings_total"}
    first = lead_client.get(preview_url(study, job)).content.decode()
    mapped = lead_client.post(
        preview_url(study, job), {"action": "preview", "mapping": "Odd group=Loss Function"}
    ).content.decode()
    into = lead_client.post(
        preview_url(study, job),
        {"action": "preview", "survey": str(survey.id), "mapping": f"Hyperparameters={a.name}\nOdd group={b.name}"},
    ).content.decode()
    assert counted_reads == ["e.csv"]  # three pages, one read
    assert 'id="import-unmatched"' in first and "Odd group" in first
    assert 'id="import-unmatched"' not in mapped and "Loss Function" in mapped and "<td>mapped</td>" in mapped
    assert f'<option value="{survey.id}" selected>' in into and a.name in into and b.name in into


def test_the_preview_page_shows_progress_until_the_file_is_read(study, lead_client):
    job = services.survey_import_job_create(
        project=study.project, user=study.lead, input_name="e.csv", input_data=export()
    )  # the preview step not run yet
    url = preview_url(study, job)
    page = lead_client.get(url).content.decode()
    assert 'id="import-reading"' in page and f'hx-get="{url}"' in page and 'id="import-form"' not in page
    fragment = lead_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="import-reading"')
    response = lead_client.post(url, {"action": "import"})  # nothing to import before the preview
    assert 'id="import-reading"' in response.content.decode()
    assert services.survey_import_preview_job_run(job_id=job.id) == Job.Status.PENDING
    assert services.survey_import_preview_job_run(job_id=job.id) == "noop"  # read once
    assert lead_client.get(url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"  # the poll ends
    assert 'id="import-form"' in lead_client.get(url).content.decode()


def test_a_mapping_that_matches_nothing_is_a_400_and_the_job_keeps_waiting(
    study, lead_client, django_capture_on_commit_callbacks
):
    job = upload(lead_client, study, "e.csv", export(), django_capture_on_commit_callbacks)
    mapping = "Hyperparameters=\nOptimiserProblems=\nOdd group="
    response = lead_client.post(preview_url(study, job), {"action": "import", "mapping": mapping})
    page = response.content.decode()
    assert response.status_code == 400 and 'id="import-mapping-error"' in page and "No column group matches" in page
    bad = lead_client.post(preview_url(study, job), {"action": "preview", "mapping": "Nope=5.1"})
    assert bad.status_code == 400 and "No column group &#x27;Nope&#x27;" in bad.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.PENDING and "mapping" not in job.params and job.task_id == ""
    assert not Survey.objects.exists()


# --- the import job: all or nothing, its error naming the file ------------------------------------


def test_a_bad_file_fails_its_import_job_naming_the_file_with_nothing_written(
    study, lead_client, django_capture_on_commit_callbacks
):
    survey, (a,) = survey_with_categories(project=study.project, n=1, status=Survey.Status.CLOSED)
    rows = [
        ["ResponseId", f"{a.name}_1", f"{a.name}_2", f"{a.name}_3"],
        ["R_1", "Yes", "4", "5"],
        ["R_2", "Yes", "Major", ""],
    ]
    job = upload(lead_client, study, "f.csv", as_csv(rows), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(preview_url(study, job), {"action": "import", "survey": str(survey.id)})
    assert response["Location"] == job_page(study, job)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error.startswith("f.csv: ")
    assert "'Major' is not a whole number from 1 to 5" in job.error and job.report == {"error_field": "file"}
    assert job.input_data is None and not Response.objects.exists() and not Answer.objects.exists()
    page = lead_client.get(job_page(study, job)).content.decode()
    assert 'id="job-error"' in page and "f.csv: " in page


def test_an_import_into_a_survey_deleted_meanwhile_fails_naming_the_file(
    study, lead_client, django_capture_on_commit_callbacks
):
    survey, (a, b) = survey_with_categories(project=study.project, n=2, status=Survey.Status.CLOSED)
    job = upload(lead_client, study, "e.csv", export(), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as sent:
        lead_client.post(
            preview_url(study, job),
            {"action": "import", "survey": str(survey.id), "mapping": f"Hyperparameters={a.name}"},
        )
    survey.delete()
    sent[0]()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error.startswith("e.csv: ") and "no longer exists" in job.error
    assert not Response.objects.exists()


# --- expiry and roles -----------------------------------------------------------------------------


def test_an_abandoned_preview_is_closed_by_the_sweeper(
    study, lead_client, settings, django_capture_on_commit_callbacks
):
    job = upload(lead_client, study, "e.csv", export(), django_capture_on_commit_callbacks)
    assert jobs.jobs_sweep() == {"worker_lost": 0, "never_started": 0, "abandoned_uploads": 0}  # still fresh
    Job.objects.filter(id=job.id).update(
        created_at=job.created_at - settings.CONCORD_UPLOAD_PENDING_TTL - timedelta(minutes=1)
    )
    assert jobs.jobs_sweep() == {"worker_lost": 0, "never_started": 0, "abandoned_uploads": 1}
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.input_data is None and "Upload it again" in job.error
    assert lead_client.get(preview_url(study, job))["Location"] == job_page(study, job)
    response = lead_client.post(preview_url(study, job), {"action": "import", "mapping": "Odd group="})
    assert response["Location"] == job_page(study, job)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "mapping" not in job.params and not Survey.objects.exists()


def test_only_leads_import(study, client, django_capture_on_commit_callbacks):
    client.force_login(study.lead)
    job = upload(client, study, "e.csv", export(), django_capture_on_commit_callbacks)
    outsider = member(ProjectFactory(), lead=True, username="outsider")
    for user, status in ((study.moderator, 403), (study.evaluators[0], 403), (outsider, 404)):
        client.force_login(user)
        assert client.get(upload_url(study)).status_code == status
        refused = client.post(upload_url(study), {"file": SimpleUploadedFile("e.csv", export())})
        assert refused.status_code == status
        assert client.get(preview_url(study, job)).status_code == status
        assert client.post(preview_url(study, job), {"action": "import"}).status_code == status
    assert Job.objects.count() == 1 and not Survey.objects.exists()
    job.refresh_from_db()
    assert job.status == Job.Status.PENDING and "mapping" not in job.params
    other = member(study.project, lead=True, username="other-project-job")
    elsewhere = services.survey_import_job_create(
        project=outsider.memberships.get().project, user=outsider, input_name="e.csv", input_data=export()
    )
    client.force_login(other)
    assert client.get(preview_url(study, elsewhere)).status_code == 404  # another project's import
