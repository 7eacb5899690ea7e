"""The study's participant sheets are imported in a background job, never in the request.

The request checks the lead's role, then the upload against the limits of survey material (its size
before it is read, an XLSX's unpacked size and entries, a CSV's columns and cells) and the kind, and
starts the job: the page redirects to the job's page, which shows "N participants added, M updated."
and links back to the participants. The job reads the sheet and writes it in one transaction: a file
it cannot import fails it, naming the file, with nothing written."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.urls import reverse

from core.errors import InvalidInput, NotAllowed
from core.models import AuditEvent, Job
from tests.core.test_upload_limits import MB, bomb
from tests.factories import ProjectFactory, member
from validation import participants as participant_sheets
from validation import services
from validation.models import Participant

pytestmark = pytest.mark.django_db

SHEET = b"Participant,Role,Experience,DL experience,Frameworks\nP1,Researcher,6,2,Keras\nP2,Developer,10,4,PyTorch\n"


def page(project):
    return reverse("reports:participants", args=[project.slug])


def job_page(project, job):
    return reverse("labelling:task_progress", args=[project.slug, job.id])


def upload(name="p.csv", data=SHEET):
    return SimpleUploadedFile(name, data)


def test_the_page_redirects_to_the_job_page_which_reports_the_import(team, client, django_capture_on_commit_callbacks):
    client.force_login(team.lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page(team.project), {"file": upload(), "kind": "interviewee"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job_page(team.project, job)
    assert (job.kind, job.input_name, job.created_by) == ("import_participants", "p.csv", team.lead)
    assert job.status == Job.Status.DONE and job.report == {"created": 2, "updated": 0}
    assert job.input_data is None  # the upload is deleted once the job has run
    assert sorted(Participant.objects.values_list("kind", "external_id", "role")) == [
        ("interviewee", "P1", "researcher"),
        ("interviewee", "P2", "practitioner"),
    ]
    html = client.get(job_page(team.project, job)).content.decode()
    assert '<p id="participants-import-summary">2 participants added, 0 updated.</p>' in html
    assert f'<a href="{page(team.project)}" id="job-back">Participants →</a>' in html
    assert reverse("collection:import_artefacts", args=[team.project.slug]) not in html  # other imports' links
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page(team.project), {"file": upload(), "kind": "interviewee"})
    again = Job.objects.latest("id")
    assert again.report == {"created": 0, "updated": 2} and Participant.objects.count() == 2
    assert "0 participants added, 2 updated." in client.get(job_page(team.project, again)).content.decode()
    events = AuditEvent.objects.filter(project_id=team.project.id, action="import.upload")
    assert [(e.target, e.actor_name) for e in events] == [("p.csv", "lead"), ("p.csv", "lead")]


def test_the_request_does_not_read_the_sheet(team, client, monkeypatch):
    """Without the task running (it is sent once the transaction commits: here, never) the job waits with
    the upload; nothing in the request reads it, and the job reads it when it runs."""

    def not_in_the_request(*args, **kwargs):
        raise AssertionError("the participant sheet was read in the request")

    monkeypatch.setattr(participant_sheets, "read_participants", not_in_the_request)
    client.force_login(team.lead)
    response = client.post(page(team.project), {"file": upload(), "kind": "respondent"})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job_page(team.project, job)
    assert job.status == Job.Status.PENDING and job.task_id and bytes(job.input_data) == SHEET
    assert job.params == {"default_kind": "respondent"}
    assert not Participant.objects.exists()
    monkeypatch.undo()
    assert services.participants_import_job_run(job_id=job.id) == Job.Status.DONE
    assert services.participants_import_job_run(job_id=job.id) == "noop"  # a job runs once
    job.refresh_from_db()
    assert job.report == {"created": 2, "updated": 0}
    assert set(Participant.objects.values_list("kind", flat=True)) == {"respondent"}


@override_settings(CONCORD_UPLOAD_LIMITS={"survey": 1024})
def test_an_oversized_sheet_is_refused_with_413_naming_the_field_and_nothing_stored(team, client):
    client.force_login(team.lead)
    big = SHEET + b"P3,Engineer,4,1,Keras\n" * 100
    response = client.post(page(team.project), {"file": upload(data=big), "kind": "interviewee"})
    assert response.status_code == 413
    html = response.content.decode()
    assert 'id="participants-error" data-field="file"' in html and "the limit is 1024 bytes" in html
    assert 'name="file" accept=".csv,.xlsx" aria-invalid="true"' in html
    assert not Job.objects.exists() and not Participant.objects.exists()
    assert not AuditEvent.objects.filter(action="import.upload").exists()


@override_settings(CONCORD_UPLOAD_ZIP_UNPACKED=8 * MB)
def test_an_xlsx_bomb_is_refused_before_its_job(team, client):
    client.force_login(team.lead)
    response = client.post(page(team.project), {"file": upload("people.xlsx", bomb(32 * MB))})
    assert response.status_code == 413
    assert "unpacks to 32 MB" in response.content.decode() and 'data-field="file"' in response.content.decode()
    assert not Job.objects.exists() and not Participant.objects.exists()


@override_settings(CONCORD_UPLOAD_CSV_COLUMNS=50)
def test_a_csv_with_too_many_columns_is_refused_before_its_job(team, client):
    client.force_login(team.lead)
    wide = ("Participant," + ",".join(f"c{i}" for i in range(100)) + "\nP1" + "," * 100 + "\n").encode()
    response = client.post(page(team.project), {"file": upload(data=wide), "kind": "interviewee"})
    assert response.status_code == 413 and "the limit is 50" in response.content.decode()
    assert not Job.objects.exists()


def test_a_missing_file_or_an_unknown_kind_is_a_400_before_anything_is_stored(team, client):
    client.force_login(team.lead)
    missing = client.post(page(team.project), {"kind": "interviewee"})
    assert missing.status_code == 400 and "Choose the participant spreadsheet" in missing.content.decode()
    kind = client.post(page(team.project), {"file": upload(), "kind": "moderator"})
    assert kind.status_code == 400 and 'data-field="kind"' in kind.content.decode()
    assert "Kind is one of interviewee, respondent." in kind.content.decode()
    assert not Job.objects.exists() and not Participant.objects.exists()


@override_settings(CONCORD_UPLOAD_LIMITS={"survey": 1024})
def test_non_leads_are_refused_before_anything_is_stored(team, client):
    """The role comes first: a moderator's oversized file is a 403, not a 413."""
    big = SHEET * 100
    for user, status in [
        (team.moderator, 403),
        (team.evaluators[0], 403),
        (member(ProjectFactory(), lead=True), 404),
    ]:
        client.force_login(user)
        for data in (SHEET, big):
            response = client.post(page(team.project), {"file": upload(data=data), "kind": "interviewee"})
            assert response.status_code == status, user
    assert not Job.objects.exists() and not Participant.objects.exists()
    assert not AuditEvent.objects.filter(action="import.upload").exists()
    with pytest.raises(NotAllowed, match="lead"):
        services.participants_import_start(project=team.project, user=team.moderator, filename="p.csv", data=SHEET)
    assert not Job.objects.exists()


def not_a_workbook():
    return b"PK\x03\x04 not really a workbook"


@pytest.mark.parametrize(
    ("name", "data", "kind", "message", "field"),
    [
        ("broken.xlsx", not_a_workbook(), "interviewee", "broken.xlsx: ", "file"),
        ("nobody.csv", b"foo,bar\n1,2\n", "interviewee", "No participants found", "file"),
        ("p.csv", SHEET, "", "say whether the participants", "kind"),
    ],
)
def test_a_sheet_the_job_cannot_import_fails_it_naming_the_file_and_writes_nothing(
    team, client, django_capture_on_commit_callbacks, name, data, kind, message, field
):
    Participant.objects.create(project=team.project, kind="interviewee", external_id="P1", role="practitioner")
    client.force_login(team.lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page(team.project), {"file": upload(name, data), "kind": kind})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job_page(team.project, job)
    assert job.status == Job.Status.FAILED and job.input_data is None
    assert job.error.startswith(f"{name}: ") and message in job.error, job.error
    assert job.report == {"error_field": field}
    assert list(Participant.objects.values_list("external_id", "role")) == [("P1", "practitioner")]
    html = client.get(job_page(team.project, job)).content.decode()
    assert 'id="job-error"' in html and f"{name}: " in html and 'id="job-back"' in html


def test_an_error_while_writing_leaves_nothing_written(team, monkeypatch):
    """The job's writes are one transaction: a row refused after others were written undoes them all."""
    job = services.participants_import_start(
        project=team.project, user=team.lead, filename="p.csv", data=SHEET, default_kind="interviewee"
    )
    written = Participant.objects.update_or_create
    calls = []

    def second_fails(**kwargs):
        calls.append(kwargs["external_id"])
        if len(calls) == 2:
            raise InvalidInput("row 3 is refused", field="file")
        return written(**kwargs)

    monkeypatch.setattr(Participant.objects, "update_or_create", second_fails)
    assert services.participants_import_job_run(job_id=job.id) == Job.Status.FAILED
    job.refresh_from_db()
    assert calls == ["P1", "P2"] and job.error == "p.csv: row 3 is refused"
    assert not Participant.objects.exists()


def test_a_job_whose_lead_account_is_gone_fails_and_writes_nothing(team):
    job = services.participants_import_start(
        project=team.project, user=team.lead, filename="p.csv", data=SHEET, default_kind="interviewee"
    )
    Job.objects.filter(id=job.id).update(created_by=None)
    assert services.participants_import_job_run(job_id=job.id) == Job.Status.FAILED
    job.refresh_from_db()
    assert job.error.startswith("p.csv: The member who uploaded this file no longer has an account")
    assert not Participant.objects.exists()


@override_settings(CONCORD_UPLOAD_LIMITS={"survey": 1024})
def test_the_command_imports_at_once_within_the_survey_limits(team, tmp_path, capsys):
    small = tmp_path / "people.csv"
    small.write_bytes(SHEET)
    call_command("import_participants", team.project.slug, str(small), "--kind", "respondent")
    assert json.loads(capsys.readouterr().out) == {"created": 2, "updated": 0}
    assert not Job.objects.exists()  # a command is not a request: no job
    big = tmp_path / "big.csv"
    big.write_bytes(SHEET * 100)
    with pytest.raises(CommandError, match=f"file: The file is {len(SHEET) * 100} bytes; the limit is 1024 bytes."):
        call_command("import_participants", team.project.slug, str(big), "--kind", "respondent")
    boom = tmp_path / "boom.xlsx"
    boom.write_bytes(bomb(32 * MB))
    limits = override_settings(CONCORD_UPLOAD_LIMITS={"survey": MB}, CONCORD_UPLOAD_ZIP_UNPACKED=8 * MB)
    with limits, pytest.raises(CommandError, match="file: The file unpacks to 32 MB; the limit is 8 MB."):
        call_command("import_participants", team.project.slug, str(boom), "--kind", "respondent")
    assert Participant.objects.count() == 2
