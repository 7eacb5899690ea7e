"""Transcripts and coding sheets are parsed in a background job, never in the request.

The request checks the upload (size, a ZIP's unpacked size, number and details) and starts the job:
the page redirects to the job's page, the API answers 202 with the job. The job parses and writes in
one transaction (nothing partial on an error, which names the file and row), can be cancelled, and
its stored upload expires with the sweeper when no worker ever picks it up."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from core import jobs
from core.errors import InvalidInput
from core.models import Job
from interviews import services
from interviews.models import FinalTag, Interview, Piece
from tests.factories import ProjectFactory, member
from tests.helpers import api_client as api
from tests.interviews.factories import transcript_txt

pytestmark = pytest.mark.django_db

SHEET = "interviews/interview_open_coding_1-3.xlsx"
CSV_SHEET = (
    b"Interview Num,Evaluator 1,Evaluator 2,Moderator Tag,Tag,Status\n"
    b"1,noisy labels,noisy labels,,noisy labels,A\n"
    b"1,small data,,,,-\n"
    b"abc,x,y,,,\n"
    b"2,slow training,slow training,,slow training,R\n"
)


def base(project):
    return f"/api/projects/{project.slug}/interviews/"


def job_page(project, job):
    return reverse("labelling:task_progress", args=[project.slug, job.id])


def test_the_api_answers_202_with_the_job_and_the_job_reports_the_interview(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.lead).post(
            base(team.project),
            {"file": SimpleUploadedFile("interview3.txt", transcript_txt()), "title": "Third", "date": "2019-08-24"},
            format="multipart",
        )
    assert response.status_code == 202
    answer = response.json()
    job = Job.objects.get(id=answer["id"])
    assert answer["url"].endswith(f"/api/projects/{team.project.slug}/jobs/{job.id}/")
    assert answer["page"].endswith(job_page(team.project, job))
    assert job.input_data is None  # the upload is deleted once the job has run
    polled = api(team.lead).get(answer["url"]).json()
    assert polled["status"] == "done" and polled["percent"] == 100 and polled["error"] == ""
    assert polled["report"] == {
        "interview": 3,
        "file": "interview3.txt",
        "format": "txt",
        "paragraphs": 4,
        "speakers": 3,
        "characters": len(Interview.objects.get().text),
    }
    interview = Interview.objects.get(project=team.project, number=3)
    assert (interview.title, str(interview.date)) == ("Third", "2019-08-24")
    # the job is the leads': others of the project are refused it, outsiders and unknown jobs are 404
    assert api(team.evaluators[0]).get(answer["url"]).status_code == 403
    assert api(member(ProjectFactory(), lead=True)).get(answer["url"]).status_code == 404
    assert api(team.lead).get(f"/api/projects/{team.project.slug}/jobs/999999/").status_code == 404


def test_a_replaced_number_is_refused_before_the_job_and_rechecked_by_it(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.interview_upload_start(
            project=team.project, user=team.lead, filename="interview1.txt", data=transcript_txt()
        )
    response = api(team.lead).post(
        base(team.project), {"file": SimpleUploadedFile("interview1.txt", transcript_txt())}, format="multipart"
    )
    assert response.status_code == 409 and "choose replace" in response.json()["number"][0]
    # two uploads started before either ran: the second job finds the number taken and fails naming it
    pending = services.interview_upload_start(
        project=team.project, user=team.lead, filename="interview2.txt", data=transcript_txt()
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.interview_upload_start(
            project=team.project, user=team.lead, filename="interview2.txt", data=transcript_txt()
        )
    assert services.interview_upload_job_run(job_id=pending.id) == Job.Status.FAILED
    pending.refresh_from_db()
    assert pending.error.startswith("interview2.txt: Interview 2 has a transcript already")
    assert pending.report == {"error_field": "number"} and pending.input_data is None


def test_a_coding_sheet_imports_in_a_job_whose_page_shows_the_report(
    team, client, replication_dir, django_capture_on_commit_callbacks
):
    client.force_login(team.lead)
    data = (replication_dir / SHEET).read_bytes()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("interviews:import", args=[team.project.slug]),
            {"file": SimpleUploadedFile("coding.xlsx", data)},
        )
    job = Job.objects.get(kind=Job.Kind.IMPORT_INTERVIEW_SHEET)
    assert response.status_code == 302 and response["Location"] == job_page(team.project, job)
    assert job.status == Job.Status.DONE and job.input_data is None
    expected = services.coding_sheet_import(project=ProjectFactory(), user=None, filename="coding.xlsx", data=data)
    assert {k: v for k, v in job.report.items() if k != "interviews_created"} == {
        k: v for k, v in expected.items() if k != "interviews_created"
    }
    html = client.get(job_page(team.project, job)).content.decode()
    assert 'id="import-report"' in html and "Tagged pieces" in html and f">{job.report['tagged_pieces']}<" in html
    assert Piece.objects.filter(interview__project=team.project).count() == job.report["tagged_pieces"]


def test_skipped_rows_are_listed_with_their_row_numbers(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.lead).post(
            base(team.project) + "import/", {"file": SimpleUploadedFile("s.csv", CSV_SHEET)}, format="multipart"
        )
    assert response.status_code == 202
    job = api(team.lead).get(response.json()["url"]).json()
    assert job["status"] == "done" and job["report"]["tagged_pieces"] == 3
    assert [s["row"] for s in job["report"]["skipped"]] == [4]
    assert "abc" in job["report"]["skipped"][0]["reason"]


def test_a_job_failing_midway_writes_nothing_and_names_the_file_and_row(
    team, monkeypatch, django_capture_on_commit_callbacks
):
    written = []
    write = services._write_imported_piece

    def failing(piece, values, *, row_number):
        if written:  # the first piece is written; the second fails (e.g. a database constraint)
            raise InvalidInput(f"row {row_number}: cannot be written", field="file")
        written.append(row_number)
        write(piece, values, row_number=row_number)

    monkeypatch.setattr(services, "_write_imported_piece", failing)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.lead).post(
            base(team.project) + "import/", {"file": SimpleUploadedFile("s.csv", CSV_SHEET)}, format="multipart"
        )
    job = api(team.lead).get(response.json()["url"]).json()
    assert written == [2]
    assert job["status"] == "failed" and job["error"] == "s.csv: row 3: cannot be written"
    assert not Interview.objects.exists() and not Piece.objects.exists() and not FinalTag.objects.exists()


def test_a_cancelled_upload_is_never_parsed(team, client):
    job = services.interview_upload_start(
        project=team.project, user=team.lead, filename="interview4.txt", data=transcript_txt()
    )  # its task is sent once the transaction commits: here, never
    assert job.status == Job.Status.PENDING and job.task_id and bytes(job.input_data) == transcript_txt()
    client.force_login(team.lead)
    assert b'id="job-cancel"' in client.get(job_page(team.project, job)).content
    response = api(team.lead).post(f"/api/projects/{team.project.slug}/jobs/{job.id}/cancel/")
    assert response.status_code == 200 and response.json()["error"] == "Cancelled by lead."
    assert services.interview_upload_job_run(job_id=job.id) == "noop"  # the task arriving late does nothing
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.input_data is None
    assert not Interview.objects.exists()


def test_an_upload_no_worker_picks_up_expires_with_its_file(team, settings):
    sheet = services.coding_sheet_import_start(project=team.project, user=team.lead, filename="s.csv", data=CSV_SHEET)
    fresh = services.interview_upload_start(
        project=team.project, user=team.lead, filename="interview4.txt", data=transcript_txt()
    )
    long_ago = timezone.now() - settings.CONCORD_JOB_STALE_AFTER - timedelta(1)
    Job.objects.filter(id=sheet.id).update(created_at=long_ago, queued_at=long_ago)
    assert jobs.jobs_sweep() == {"worker_lost": 0, "never_started": 1, "abandoned_uploads": 0}
    sheet.refresh_from_db()
    fresh.refresh_from_db()
    assert (sheet.status, sheet.error, sheet.input_data) == (Job.Status.FAILED, jobs.NEVER_STARTED, None)
    assert fresh.status == Job.Status.PENDING and fresh.input_data is not None  # a recent one waits on
    assert services.coding_sheet_import_job_run(job_id=sheet.id) == "noop"
    assert not Interview.objects.exists()
