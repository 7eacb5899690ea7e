"""A word list (`word,n_documents`) uploaded on the vocabulary workflow page is checked in the request (its
size before it is read, its CSV shape after: a 4xx naming the field, nothing stored) and parsed only in a
Celery job, whose page shows the report and links back to the workflow. A list that cannot be imported
fails its job, the error naming the file, with no term written. Leads and moderators import word lists: a
moderator follows their own job; other moderators and evaluators are refused it, leads see every job."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse

from collection import services
from collection.models import VocabularyTerm
from core.errors import InvalidInput
from core.models import Job
from tests.factories import ProjectFactory, member
from tests.helpers import api_client

pytestmark = pytest.mark.django_db

WORDS = b"word,n_documents\nLoss,12\nexplodes,12\nnot one,1\nbackpropagation,0\n"


def workflow(project) -> str:
    return reverse("collection:vocabulary_workflow", args=[project.slug])


def job_page(project, job) -> str:
    return reverse("labelling:task_progress", args=[project.slug, job.id])


def job_api(project, job) -> str:
    return f"/api/projects/{project.slug}/jobs/{job.id}/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client, project, data=WORDS, name="words.csv", final=False):
    form = {"action": "import_words", "file": SimpleUploadedFile(name, data)}
    if final:
        form["final"] = "on"
    return client.post(workflow(project), form)


def test_a_moderator_imports_a_word_list_in_a_job_whose_page_shows_the_report(team, django_capture_on_commit_callbacks):
    moderator = logged_in(team.moderator)
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the job runs once the request commits
        response = upload(moderator, team.project, final=True)
    job = Job.objects.get(project=team.project, kind=Job.Kind.IMPORT_VOCABULARY)
    assert response.status_code == 302 and response["Location"] == job_page(team.project, job)
    assert job.status == Job.Status.DONE and job.input_data is None and job.created_by == team.moderator
    assert job.report["words"] == 3 and job.report["created"] == 3 and job.report["unusable_total"] == 1
    new = VocabularyTerm.objects.get(project=team.project, stem="backpropag")
    assert new.final == "relevant" and new.decided_by == team.moderator
    html = moderator.get(job_page(team.project, job)).content.decode()
    assert "words.csv: 3 words read, 3 new terms; the list is now the final vocabulary." in html
    assert "not one" in html and 'id="unusable-words"' in html
    assert f'href="{workflow(team.project)}" id="job-back"' in html
    assert "hx-trigger" not in html  # finished: no more polling


def test_the_request_stores_the_list_and_only_the_job_parses_it(team, monkeypatch, django_capture_on_commit_callbacks):
    parsed = []
    real = services.vocabulary_words_import

    def recording(**kwargs):
        parsed.append(kwargs["data"])
        return real(**kwargs)

    monkeypatch.setattr(services, "vocabulary_words_import", recording)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:  # the worker has not run yet
        response = upload(logged_in(team.lead), team.project)
    job = Job.objects.get(kind=Job.Kind.IMPORT_VOCABULARY)
    assert response.status_code == 302 and len(callbacks) == 1
    assert parsed == [] and not VocabularyTerm.objects.exists()
    assert job.status == Job.Status.PENDING and bytes(job.input_data) == WORDS and job.input_name == "words.csv"
    assert services.vocabulary_words_import_job_run(job_id=job.id) == Job.Status.DONE
    assert parsed == [WORDS] and VocabularyTerm.objects.filter(project=team.project).count() == 3


@override_settings(CONCORD_UPLOAD_LIMITS={"vocabulary": 64})
def test_an_oversized_word_list_is_refused_with_413_naming_the_field_and_nothing_stored(team):
    data = b"word,n_documents\n" + b"gradient,3\n" * 20
    response = upload(logged_in(team.lead), team.project, data=data)
    assert response.status_code == 413
    html = response.content.decode()
    assert 'data-field="file"' in html and "the limit is 64 bytes" in html
    assert not Job.objects.exists() and not VocabularyTerm.objects.exists()


@override_settings(CONCORD_UPLOAD_CSV_COLUMNS=5)
def test_a_word_list_with_too_many_columns_is_refused_whatever_its_name(team):
    wide = b"word,n_documents," + b",".join(b"c%d" % i for i in range(10)) + b"\nloss,1" + b",x" * 10 + b"\n"
    lead = logged_in(team.lead)
    for name in ("wide.csv", "wide"):  # a word list is a CSV: its shape is checked without a .csv name too
        response = lead.post(workflow(team.project), {"action": "import_words", "file": SimpleUploadedFile(name, wide)})
        assert response.status_code == 413, name  # core.uploads answers a too-wide CSV as too large
        html = response.content.decode()
        assert 'data-field="file"' in html and "has 12 columns; the limit is 5" in html
    assert not Job.objects.exists() and not VocabularyTerm.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"term,count\nloss,1\n", "bad.csv: The word list needs a `word` column"),
        (b"word,n_documents\n\xff\xfe\xfa,1\n", "bad.csv: The word list is not UTF-8 text."),
    ],
)
def test_a_bad_word_list_fails_its_job_naming_the_file_with_no_term_written(
    team, data, message, django_capture_on_commit_callbacks
):
    moderator = logged_in(team.moderator)
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(moderator, team.project, data=data, name="bad.csv")
    job = Job.objects.get(kind=Job.Kind.IMPORT_VOCABULARY)
    assert response.status_code == 302 and response["Location"] == job_page(team.project, job)
    assert job.status == Job.Status.FAILED and job.error.startswith(message), job.error
    assert job.report == {"error_field": "file"} and job.input_data is None
    assert not VocabularyTerm.objects.exists()
    html = moderator.get(job_page(team.project, job)).content.decode()
    assert 'id="job-error"' in html and "bad.csv: " in html and 'id="job-back"' in html


def test_a_job_failing_midway_writes_nothing(team, monkeypatch, django_capture_on_commit_callbacks):
    """The final list's new terms are created before its words are marked relevant: a failure there leaves
    no new term behind."""

    def failing(values, size=0):
        raise InvalidInput("cannot be written", field="file")

    VocabularyTerm.objects.create(project=team.project, stem="gradient", example="gradient", final="relevant")
    monkeypatch.setattr(services, "_chunks", failing)
    with django_capture_on_commit_callbacks(execute=True):
        upload(logged_in(team.lead), team.project, final=True)
    job = Job.objects.get(kind=Job.Kind.IMPORT_VOCABULARY)
    assert job.status == Job.Status.FAILED and job.error == "words.csv: cannot be written"
    assert list(VocabularyTerm.objects.values_list("stem", "final")) == [("gradient", "relevant")]


def test_word_list_jobs_are_seen_by_leads_and_their_starter_only(team, django_capture_on_commit_callbacks):
    other_moderator = member(team.project, moderator=True, username="moderator2")
    job = services.vocabulary_words_import_start(
        project=team.project, user=team.moderator, filename="words.csv", data=WORDS
    )  # pending: never enqueued on commit here
    for user in (team.lead, team.moderator):
        assert logged_in(user).get(job_page(team.project, job)).status_code == 200
        answer = api_client(user).get(job_api(team.project, job))
        assert answer.status_code == 200 and answer.json()["status"] == "pending"
    for user in (other_moderator, team.evaluators[0]):
        assert logged_in(user).get(job_page(team.project, job)).status_code == 403
        assert api_client(user).get(job_api(team.project, job)).status_code == 403
        assert api_client(user).post(job_api(team.project, job) + "cancel/").status_code == 403
        cancel = reverse("core:job_cancel", args=[team.project.slug, job.id])
        assert logged_in(user).post(cancel).status_code == 403
    assert logged_in(member(ProjectFactory(), lead=True)).get(job_page(team.project, job)).status_code == 404
    # a moderator does not see the leads' jobs
    lead_job = Job.objects.create(project=team.project, kind=Job.Kind.IMPORT_ARTEFACTS, created_by=team.lead)
    assert logged_in(team.moderator).get(job_page(team.project, lead_job)).status_code == 403
    assert api_client(team.moderator).get(job_api(team.project, lead_job)).status_code == 403
    # the starter cancels their own job
    page = job_page(team.project, job)
    moderator = logged_in(team.moderator)
    assert b'id="job-cancel"' in moderator.get(page).content
    response = moderator.post(reverse("core:job_cancel", args=[team.project.slug, job.id]), {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "Cancelled by moderator." and job.input_data is None
    assert services.vocabulary_words_import_job_run(job_id=job.id) == "noop"
    assert not VocabularyTerm.objects.exists()


def test_evaluators_cannot_import_word_lists(team):
    response = upload(logged_in(team.evaluators[0]), team.project)
    assert response.status_code == 403
    assert not Job.objects.exists() and not VocabularyTerm.objects.exists()


@override_settings(CONCORD_UPLOAD_LIMITS={"vocabulary": 64})
def test_the_command_checks_the_size_before_parsing(team, tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"word,n_documents\n" + b"gradient,3\n" * 20)
    with pytest.raises(CommandError, match="the limit is 64 bytes"):
        call_command("import_vocabulary", team.project.slug, str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert not VocabularyTerm.objects.exists()


def test_a_word_list_whose_uploader_is_gone_or_no_longer_an_editor_fails_its_job(team):
    """The job runs as the member who uploaded it, their role checked again: nothing is written otherwise."""
    gone = services.vocabulary_words_import_start(
        project=team.project, user=team.moderator, filename="words.csv", data=WORDS, final=False
    )
    Job.objects.filter(id=gone.id).update(created_by=None)
    demoted = services.vocabulary_words_import_start(
        project=team.project, user=team.moderator, filename="mine.csv", data=WORDS, final=False
    )
    team.project.memberships.filter(user=team.moderator).update(is_moderator=False)
    for job, start in ((gone, "words.csv: The member who uploaded"), (demoted, "mine.csv: ")):
        assert services.vocabulary_words_import_job_run(job_id=job.id) == Job.Status.FAILED
        job.refresh_from_db()
        assert job.error.startswith(start), job.error
    assert not VocabularyTerm.objects.filter(project=team.project).exists()
