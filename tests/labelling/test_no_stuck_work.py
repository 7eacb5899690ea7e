"""No stuck work: escalations go through an outbox (a dead broker delays, never loses them), the
sweeper escalates what is owed, jobs whose worker died are failed, abandoned uploads expire, jobs can
be cancelled."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError
from rest_framework.test import APIClient

from core import jobs
from core.errors import NotAllowed, NotFound
from core.models import Job
from labelling import services, tasks
from labelling.models import Assignment, EscalationOutbox, RoundItem
from tests.factories import team_round


def disagree(team, django_capture_on_commit_callbacks):
    """Two evaluators give different labels through the API; returns the item and the two answers."""
    rnd = team_round(team, n=1)
    item = rnd.items.get()
    answers = []
    for assignment, label in zip(item.assignments.order_by("order"), ("wrong loss", "missing softmax"), strict=True):
        client = APIClient()
        client.force_authenticate(assignment.evaluator)
        url = f"/api/projects/{team.project.slug}/assignments/{assignment.id}/annotation/"
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(client.post(url, {"label": label}, format="json"))
    return item, answers


@pytest.fixture
def dead_broker(monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(tasks.item_escalate_task, "apply_async", refuse)
    return calls


def test_with_the_broker_down_the_label_is_saved_the_request_succeeds_and_the_escalation_waits(
    team, django_capture_on_commit_callbacks, dead_broker, monkeypatch
):
    item, answers = disagree(team, django_capture_on_commit_callbacks)
    assert all(200 <= a.status_code < 300 for a in answers)
    assert len(dead_broker) == 1  # it was tried once, after commit
    entry = EscalationOutbox.objects.get(item=item)
    assert entry.dispatched_at is None and entry.attempts == 1 and "Connection refused" in entry.last_error
    assert item.assignments.count() == 2 and item.assignments.filter(annotation__isnull=False).count() == 2

    monkeypatch.undo()  # the broker is back: the sweeper (Celery beat) escalates what is owed
    report = services.escalations_sweep()
    assert report["assigned"] == 1
    assert item.assignments.count() == 3
    assert not EscalationOutbox.objects.exists()
    assert services.escalations_sweep()["items"] == 0  # nothing twice


def test_a_sent_escalation_whose_worker_died_is_swept(team, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.item_escalate_task, "apply_async", lambda *a, **k: sent.append(a))  # never runs
    item, _ = disagree(team, django_capture_on_commit_callbacks)
    assert len(sent) == 1
    entry = EscalationOutbox.objects.get(item=item)
    assert entry.dispatched_at is not None
    assert services.escalations_sweep()["items"] == 0  # just sent: the worker may still be on it
    EscalationOutbox.objects.update(dispatched_at=timezone.now() - timedelta(minutes=10))
    assert services.escalations_sweep()["assigned"] == 1
    assert item.assignments.count() == 3
    # the redelivered task (acks_late) finds the work done
    assert services.item_escalate(item_id=item.id) == "noop"
    assert item.assignments.count() == 3


def test_an_item_owed_an_escalation_without_an_outbox_row_is_swept(
    team, django_capture_on_commit_callbacks, dead_broker
):
    item, _ = disagree(team, django_capture_on_commit_callbacks)
    EscalationOutbox.objects.all().delete()  # e.g. written before the outbox existed
    assert services.escalations_sweep()["assigned"] == 1
    assert Assignment.objects.filter(item=item).count() == 3


def test_agreeing_items_owe_nothing(team, django_capture_on_commit_callbacks):
    rnd = team_round(team, n=1)
    item = rnd.items.get()
    for assignment in item.assignments.all():
        with django_capture_on_commit_callbacks(execute=True):
            services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label="same")
    assert not EscalationOutbox.objects.exists()
    assert services.escalations_sweep()["items"] == 0
    item.refresh_from_db()
    assert item.status == RoundItem.Status.AGREED


def test_the_sweeper_task_runs_the_service(team, django_capture_on_commit_callbacks, dead_broker):
    disagree(team, django_capture_on_commit_callbacks)
    assert tasks.escalations_sweep_task.apply().get()["assigned"] == 1


# --- jobs ------------------------------------------------------------------------------------


def make_job(team, **fields):
    return Job.objects.create(project=team.project, kind=Job.Kind.IMPORT_ARTEFACTS, created_by=team.lead, **fields)


def test_the_sweeper_fails_jobs_whose_worker_died_and_expires_abandoned_uploads(team, settings):
    now = timezone.now()
    stale = now - settings.CONCORD_JOB_STALE_AFTER - timedelta(minutes=1)
    dead = make_job(team, status=Job.Status.RUNNING, started_at=stale, progress=73, task_id="t1")
    alive = make_job(team, status=Job.Status.RUNNING, started_at=now - timedelta(minutes=5), task_id="t2")
    abandoned = make_job(
        team,
        input_data=b"url\nhttps://x/\n",
        input_name="a.csv",
        params={"preview": {"header": ["url"]}, "_steps": ["preview"], "kept": 1},
    )
    Job.objects.filter(id=abandoned.id).update(
        created_at=now - settings.CONCORD_UPLOAD_PENDING_TTL - timedelta(hours=1)
    )
    fresh_upload = make_job(team, input_data=b"url\n", input_name="b.csv")

    assert jobs.jobs_sweep() == {"worker_lost": 1, "never_started": 0, "abandoned_uploads": 1}
    dead.refresh_from_db()
    assert dead.status == Job.Status.FAILED and dead.finished_at and "worker running this job stopped" in dead.error
    abandoned.refresh_from_db()
    assert (
        abandoned.status == Job.Status.FAILED and abandoned.input_data is None and "Upload it again" in abandoned.error
    )
    assert abandoned.params == {"kept": 1}  # what the preview step read of the upload went with it
    for job in (alive, fresh_upload):
        job.refresh_from_db()
        assert job.status in (Job.Status.RUNNING, Job.Status.PENDING) and not job.error
    assert jobs.jobs_sweep() == {"worker_lost": 0, "never_started": 0, "abandoned_uploads": 0}


def test_a_job_sent_long_after_its_upload_is_not_taken_for_one_never_started(team, settings):
    """The wait is counted from when the task was sent: an upload mapped hours later waits for its worker."""
    now = timezone.now()
    long_ago = now - settings.CONCORD_JOB_STALE_AFTER - timedelta(hours=1)
    mapped_late = make_job(team, input_data=b"url\n", input_name="late.csv")
    Job.objects.filter(id=mapped_late.id).update(created_at=long_ago)
    mapped_late.refresh_from_db()
    jobs.job_enqueue(job=mapped_late, task=tasks.escalations_sweep_task)  # any task: only its sending is looked at
    mapped_late.refresh_from_db()
    assert mapped_late.task_id and mapped_late.queued_at > long_ago
    never_picked = make_job(team, input_data=b"url\n", input_name="never.csv", task_id="t3")
    Job.objects.filter(id=never_picked.id).update(created_at=long_ago, queued_at=long_ago)
    sent_before_the_field = make_job(team, input_data=b"url\n", input_name="old.csv", task_id="t4")
    Job.objects.filter(id=sent_before_the_field.id).update(created_at=long_ago)  # queued_at unknown: upload time
    assert jobs.jobs_sweep() == {"worker_lost": 0, "never_started": 2, "abandoned_uploads": 0}
    for job, status in ((mapped_late, Job.Status.PENDING), (never_picked, Job.Status.FAILED)):
        job.refresh_from_db()
        assert job.status == status, job.input_name
    sent_before_the_field.refresh_from_db()
    assert sent_before_the_field.error == jobs.NEVER_STARTED and sent_before_the_field.input_data is None


def test_a_lead_cancels_a_job_on_its_page_and_a_late_task_does_nothing(team, client):
    job = make_job(team, input_data=b"url\n", task_id="abc")
    client.force_login(team.lead)
    page = reverse("labelling:task_progress", args=[team.project.slug, job.id])
    assert b'id="job-cancel"' in client.get(page).content
    response = client.post(reverse("core:job_cancel", args=[team.project.slug, job.id]), {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "Cancelled by lead." and job.input_data is None
    assert jobs.job_execute(job_id=job.id, work=lambda j, p: ({}, None)) == "noop"


def test_cancel_over_the_api_leads_only_and_not_twice(team):
    job = make_job(team, task_id="abc")
    url = f"/api/projects/{team.project.slug}/jobs/{job.id}/cancel/"
    evaluator = APIClient()
    evaluator.force_authenticate(team.evaluators[0])
    assert evaluator.post(url).status_code in (403, 404)
    lead = APIClient()
    lead.force_authenticate(team.lead)
    answer = lead.post(url)
    assert answer.status_code == 200 and answer.data["status"] == "failed"
    assert lead.post(url).status_code == 409
    assert lead.post(f"/api/projects/{team.project.slug}/jobs/999999/cancel/").status_code == 404


def test_jobs_are_the_leads_and_their_starters(team):
    """job_create is the leads' unless the caller widens its roles; a job's page, progress and cancel are
    the leads' and its starter's, refused (403) to other members whether the job exists or not."""
    with pytest.raises(NotAllowed):
        jobs.job_create(project=team.project, user=team.moderator, kind=Job.Kind.IMPORT_VOCABULARY)
    own = jobs.job_create(
        project=team.project, user=team.moderator, kind=Job.Kind.IMPORT_VOCABULARY, roles=("lead", "moderator")
    )
    leads = make_job(team)
    assert jobs.job_for_member(project=team.project, job_id=own.id, user=team.moderator) == own
    assert jobs.job_for_member(project=team.project, job_id=own.id, user=team.lead) == own
    assert jobs.job_for_member(project=team.project, job_id=leads.id, user=team.lead) == leads
    for user, job_id in ((team.moderator, leads.id), (team.evaluators[0], own.id), (team.moderator, 999999)):
        with pytest.raises(NotAllowed):
            jobs.job_for_member(project=team.project, job_id=job_id, user=user)
    with pytest.raises(NotFound):
        jobs.job_for_member(project=team.project, job_id=999999, user=team.lead)
    with pytest.raises(NotAllowed):
        jobs.job_cancel(job=leads, user=team.moderator)
    assert jobs.job_cancel(job=own, user=team.moderator).error == "Cancelled by moderator."


def test_a_job_cancelled_while_it_runs_stays_cancelled(team):
    job = make_job(team, task_id="abc")

    def work(running, progress):
        jobs.job_cancel(job=running, user=team.lead)  # the lead cancels meanwhile
        return {"rows": 1}, None

    assert jobs.job_execute(job_id=job.id, work=work) == "cancelled"
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error == "Cancelled by lead."


def test_an_escalation_run_eagerly_leaves_no_row_and_one_that_failed_stays_due(
    team, django_capture_on_commit_callbacks, monkeypatch
):
    item, answers = disagree(team, django_capture_on_commit_callbacks)  # eager here: the task runs in the request
    assert all(200 <= a.status_code < 300 for a in answers)
    assert item.assignments.count() == 3
    assert not EscalationOutbox.objects.exists()

    def broken(*, item_id):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "item_escalate", broken)
    other, answers = disagree(team, django_capture_on_commit_callbacks)
    assert all(200 <= a.status_code < 300 for a in answers)
    entry = EscalationOutbox.objects.get(item=other)  # the eager task failed: its row stays due for the sweeper
    assert entry.dispatched_at is None and entry.attempts == 1 and "database went away" in entry.last_error
    assert other.assignments.count() == 2
    monkeypatch.undo()
    assert services.escalations_sweep()["assigned"] == 1
    assert other.assignments.count() == 3
