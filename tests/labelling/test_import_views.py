"""Import pages: upload with mapping, round upload, job progress (page and htmx fragment), permissions."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collection.importers.reading import read_table
from collection.models import Artefact
from collection.services import (
    artefacts_import_job_create,
    artefacts_import_job_set_mapping,
    artefacts_import_preview_job_run,
)
from core.errors import Conflict
from core.jobs import job_cancel, job_create, job_progress
from core.models import Job
from labelling.models import Round
from taxonomy.round_import import round_import_job_create, round_import_job_run
from tests.factories import ProjectFactory, member
from tests.helpers import wait_until

from . import roundsheets

pytestmark = pytest.mark.django_db

CSV = (
    b"Question URL,Question Title,Votes,Tag1\r\n"
    b"https://stackoverflow.com/questions/1,<b>Loss</b> is NaN,5,secret\r\n"
    b"https://stackoverflow.com/questions/2,Shapes,3,secret\r\n"
)


@pytest.fixture
def lead_client(project, client):
    client.force_login(member(project, lead=True, username="lead"))
    return client


def test_upload_preview_guessed_mapping_and_import(project, lead_client, django_capture_on_commit_callbacks):
    url = reverse("collection:import_artefacts", args=[project.slug])
    assert lead_client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the preview is read by the job's Celery step
        response = lead_client.post(url, {"file": SimpleUploadedFile("a.csv", CSV)})
    job = Job.objects.get(project=project, kind=Job.Kind.IMPORT_ARTEFACTS)
    mapping_url = reverse("collection:import_artefacts_mapping", args=[project.slug, job.id])
    assert response.status_code == 302 and response["Location"] == mapping_url
    page = lead_client.get(mapping_url).content.decode()
    assert "&lt;b&gt;Loss&lt;/b&gt; is NaN" in page  # preview escaped
    assert '<option value="url" selected>' in page and '<option value="title" selected>' in page
    assert page.count("selected>") == 4  # url, title, and ignore for Votes and Tag1
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(mapping_url, {"col0": "url", "col1": "title", "col2": "metadata", "col3": "ignore"})
    progress_url = reverse("labelling:task_progress", args=[project.slug, job.id])
    assert response["Location"] == progress_url
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.report["created"] == 2 and job.input_data is None
    artefact = Artefact.objects.get(url="https://stackoverflow.com/questions/1")
    assert artefact.title == "<b>Loss</b> is NaN" and artefact.metadata == {"Votes": "5"}
    page = lead_client.get(progress_url).content.decode()
    assert 'id="import-report"' in page and "hx-trigger" not in page  # finished: no more polling


def test_mapping_without_url_is_refused(project, lead_client):
    job = job_create(
        project=project,
        user=project.memberships.get().user,
        kind=Job.Kind.IMPORT_ARTEFACTS,
        input_name="a.csv",
        input_data=CSV,
    )
    assert artefacts_import_preview_job_run(job_id=job.id) == Job.Status.PENDING
    url = reverse("collection:import_artefacts_mapping", args=[project.slug, job.id])
    response = lead_client.post(url, {"col0": "ignore", "col1": "title"})
    assert response.status_code == 400 and "Map one column to url" in response.content.decode()
    job.refresh_from_db()
    assert job.status == Job.Status.PENDING and not Artefact.objects.exists()


def _upload(lead_client, project, name, data, capture):
    with capture(execute=True):
        response = lead_client.post(
            reverse("collection:import_artefacts", args=[project.slug]), {"file": SimpleUploadedFile(name, data)}
        )
    assert response.status_code == 302
    return response, Job.objects.get(project=project, kind=Job.Kind.IMPORT_ARTEFACTS)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("a.xlsx", b"PK\x03\x04 nope", "Unreadable XLSX"),
        ("a.csv", b"\n\n\n", "no header row"),
        ("a.json", b'{"tasks": [1, 2', ""),
    ],
)
def test_an_unreadable_upload_fails_its_preview_step_naming_the_file(
    project, lead_client, django_capture_on_commit_callbacks, name, data, reason
):
    response, job = _upload(lead_client, project, name, data, django_capture_on_commit_callbacks)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error.startswith(f"{name}: ") and reason in job.error, job.error
    assert job.input_data is None and "preview" not in job.params and not Artefact.objects.exists()
    progress_url = reverse("labelling:task_progress", args=[project.slug, job.id])
    assert lead_client.get(response["Location"])["Location"] == progress_url  # the mapping page: to the error
    page = lead_client.get(progress_url).content.decode()
    assert 'id="job-error"' in page and f"{name}: " in page
    answer = lead_client.get(f"/api/projects/{project.slug}/jobs/{job.id}/").json()
    assert answer["status"] == "failed" and answer["error"] == job.error


def test_the_preview_is_read_once_and_stored_on_the_job(project, lead_client, django_capture_on_commit_callbacks):
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[1] if len(args) > 1 else kwargs.get("filename"))
        return read_table(*args, **kwargs)

    rows = b"".join(b"https://stackoverflow.com/questions/%d,Question %d\r\n" % (n, n) for n in range(1, 31))
    with mock.patch("collection.services.read_table", side_effect=counting):
        response, job = _upload(
            lead_client, project, "many.csv", b"Link,Title\r\n" + rows, django_capture_on_commit_callbacks
        )
        pages = [lead_client.get(response["Location"]).content.decode() for _ in range(3)]
    assert calls == ["many.csv"]  # by the preview step; the page renders what it stored
    job.refresh_from_db()
    preview = job.params["preview"]
    assert preview["header"] == ["Link", "Title"] and preview["total_rows"] == 30 and len(preview["rows"]) == 20
    assert preview["mapping"] == {"0": "url", "1": "title"} and preview["exchange"] is None
    assert job.status == Job.Status.PENDING and job.task_id == "" and job.input_data is not None
    for page in pages:
        assert "many.csv · 30 rows" in page and "Question 20<" in page and "Question 21<" not in page
        assert '<option value="url" selected>' in page and 'id="import-reading"' not in page
    with django_capture_on_commit_callbacks(execute=True):
        lead_client.post(response["Location"], {"col0": "url", "col1": "title"})
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.report["created"] == 30
    assert "preview" not in job.params and "_steps" not in job.params  # dropped once the job has run


def test_the_mapping_page_shows_progress_until_the_preview_is_read(project, lead_client):
    lead = project.memberships.get().user
    job = artefacts_import_job_create(project=project, user=lead, input_name="a.csv", input_data=CSV)
    url = reverse("collection:import_artefacts_mapping", args=[project.slug, job.id])  # the step not run yet
    page = lead_client.get(url).content.decode()
    assert 'id="import-reading"' in page and f'hx-get="{url}"' in page and 'id="mapping-form"' not in page
    fragment = lead_client.get(url, HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith('<section class="card" id="import-reading"')
    response = lead_client.post(url, {"col0": "url", "col1": "title"})  # no mapping before the preview
    assert 'id="import-reading"' in response.content.decode()
    with pytest.raises(Conflict):
        artefacts_import_job_set_mapping(job=job, user=lead, mapping={0: "url"})
    assert artefacts_import_preview_job_run(job_id=job.id) == Job.Status.PENDING
    assert artefacts_import_preview_job_run(job_id=job.id) == "noop"  # read once
    assert lead_client.get(url, HTTP_HX_REQUEST="true")["HX-Refresh"] == "true"  # the poll ends
    assert 'id="mapping-form"' in lead_client.get(url).content.decode()


def test_a_preview_step_that_breaks_or_finds_its_job_cancelled_leaves_no_upload_waiting(project):
    lead = member(project, lead=True, username="lead")
    job = artefacts_import_job_create(project=project, user=lead, input_name="a.csv", input_data=CSV)
    with mock.patch("collection.services.artefacts_import_preview", side_effect=RuntimeError("bug")):
        assert artefacts_import_preview_job_run(job_id=job.id) == Job.Status.FAILED
    job.refresh_from_db()
    assert job.error == "Unexpected error: RuntimeError." and job.input_data is None and job.finished_at
    other = artefacts_import_job_create(project=project, user=lead, input_name="b.csv", input_data=CSV)
    assert artefacts_import_preview_job_run(job_id=other.id) == Job.Status.PENDING
    assert other.__class__.objects.get(id=other.id).params["preview"]["header"]
    job_cancel(job=other, user=lead)
    assert artefacts_import_preview_job_run(job_id=other.id) == "noop"
    other.refresh_from_db()
    assert other.error.startswith("Cancelled by") and "preview" not in other.params


def test_round_upload(project, lead_client, django_capture_on_commit_callbacks):
    url = reverse("taxonomy:import_round", args=[project.slug])
    assert 'value="1"' in lead_client.get(url).content.decode()  # the next free round number
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            url,
            {
                "file": SimpleUploadedFile("r.xlsx", roundsheets.build()),
                "round": 4,
                "outline": SimpleUploadedFile("o.csv", roundsheets.OUTLINE),
            },
        )
    job = Job.objects.get(project=project, kind=Job.Kind.IMPORT_ROUND)
    assert response["Location"] == reverse("labelling:task_progress", args=[project.slug, job.id])
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, job.error
    assert (job.report["analysed"], job.report["conflicts"], job.report["relevant"]) == (8, 3, 4)
    assert Round.objects.get(project=project, number=4).source == Round.Source.IMPORT
    page = lead_client.get(response["Location"]).content.decode()
    assert "8</span> analysed" in page


def test_round_upload_errors(project, lead_client):
    url = reverse("taxonomy:import_round", args=[project.slug])
    response = lead_client.post(url, {"file": SimpleUploadedFile("r.csv", b"EntityType\nso-keras\n"), "round": 1})
    # readable, so the job is created; the missing Link column fails the job, which changes nothing
    assert response.status_code == 302
    job = Job.objects.get(project=project)
    round_import_job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "no Link column" in job.error
    assert not Round.objects.exists()
    page = lead_client.get(reverse("labelling:task_progress", args=[project.slug, job.id])).content.decode()
    assert 'id="job-error"' in page
    response = lead_client.post(url, {"file": SimpleUploadedFile("r.csv", b"Link\nhttps://x.org/1\n"), "round": 0})
    assert response.status_code == 400


def test_an_unreadable_round_file_fails_its_job_naming_the_file(
    project, lead_client, django_capture_on_commit_callbacks
):
    url = reverse("taxonomy:import_round", args=[project.slug])
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(url, {"file": SimpleUploadedFile("r.xlsx", b"PK\x03\x04 nope"), "round": 2})
    assert response.status_code == 302  # read in the job, not in the request
    job = Job.objects.get(project=project, kind=Job.Kind.IMPORT_ROUND)
    assert job.status == Job.Status.FAILED and job.error.startswith("r.xlsx: Unreadable XLSX"), job.error
    assert job.input_data is None and not Round.objects.exists()
    page = lead_client.get(response["Location"]).content.decode()
    assert 'id="job-error"' in page and "r.xlsx: Unreadable XLSX" in page
    answer = lead_client.get(f"/api/projects/{project.slug}/jobs/{job.id}/").json()
    assert answer["status"] == "failed" and answer["error"] == job.error


def test_an_unreadable_outline_fails_the_round_job_naming_it(project, lead_client, django_capture_on_commit_callbacks):
    url = reverse("taxonomy:import_round", args=[project.slug])
    upload = {
        "file": SimpleUploadedFile("r.xlsx", roundsheets.build()),
        "round": 3,
        "outline": SimpleUploadedFile("o.xlsx", b"PK\x03\x04 nope"),
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert lead_client.post(url, upload).status_code == 302
    job = Job.objects.get(project=project, kind=Job.Kind.IMPORT_ROUND)
    assert job.status == Job.Status.FAILED and job.error.startswith("o.xlsx: "), job.error
    assert not Round.objects.exists() and not Artefact.objects.exists()


def test_progress_fragment_polls_while_running(project, lead_client):
    job = Job.objects.create(project=project, kind=Job.Kind.IMPORT_ROUND, status=Job.Status.RUNNING, task_id="x")
    url = reverse("labelling:task_progress", args=[project.slug, job.id])
    fragment = lead_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="job-')
    assert f'hx-get="{url}"' in fragment and 'hx-trigger="every 1s"' in fragment
    assert job_progress(job)["status"] == "running"


def test_import_pages_are_for_leads(project, client):
    client.force_login(member(project, evaluator=True, moderator=True, username="eva"))
    for name in ("collection:import_artefacts", "taxonomy:import_round"):
        assert client.get(reverse(name, args=[project.slug])).status_code == 403
    client.force_login(member(ProjectFactory(), lead=True, username="stranger"))
    assert client.get(reverse("taxonomy:import_round", args=[project.slug])).status_code == 404
    other = ProjectFactory()
    job = Job.objects.create(project=other, kind=Job.Kind.IMPORT_ROUND)
    client.force_login(member(project, lead=True, username="lead"))
    assert client.get(reverse("labelling:task_progress", args=[project.slug, job.id])).status_code == 404


@pytest.mark.services
def test_round_import_runs_on_a_real_worker(project, celery_worker_live):
    lead = member(project, lead=True, username="lead-live")
    # outside a transaction: sent at once
    job = round_import_job_create(
        project=project, user=lead, number=2, input_name="r.xlsx", input_data=roundsheets.build()
    )

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_until(finished, message="the import job did not finish")
    assert job.status == Job.Status.DONE, job.error
    assert job.report["conflicts"] == 3 and job_progress(job)["percent"] == 100
