"""Fault injection on PostgreSQL and Redis: 20 evaluators label at once while the Celery worker is
killed (SIGKILL, mid-run) and started again. Afterwards every disagreement has exactly one extra
evaluator and no annotation is lost or duplicated. Marked `services`: skipped without them."""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import close_old_connections

from concord.celery import app
from labelling import services
from labelling.models import Annotation, Assignment, EscalationOutbox
from tests.factories import ArtefactFactory, ProjectFactory, member
from tests.helpers import in_threads

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
EVALUATORS = 20
ITEMS = 60


def database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(name: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "CONCORD_TESTING": "1"}
    command = [sys.executable, "-m", "celery", "-A", "concord", "worker", "--pool=solo", "-n", f"{name}@%h"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=warning"]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        close_old_connections()
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture
def tasks_through_redis():
    """Tasks go to Redis (the suite runs them eagerly unless a test asks otherwise)."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    app.control.purge()
    yield
    app.conf.task_always_eager = previous


def test_killed_worker_loses_no_annotation_and_gives_each_disagreement_one_extra_evaluator(tasks_through_redis):
    project = ProjectFactory(max_evaluators_per_artefact=3)
    lead = member(project, lead=True, username="lead")
    evaluators = [member(project, evaluator=True, username=f"eva{i:02}") for i in range(EVALUATORS)]
    artefacts = ArtefactFactory.create_batch(ITEMS, project=project)
    rnd = services.round_create(
        project=project, user=lead, evaluator_ids=[e.id for e in evaluators], artefact_ids=[a.id for a in artefacts]
    )
    items = list(rnd.items.order_by("id"))
    disagreeing = {item.id for n, item in enumerate(items) if n % 2 == 0}
    work = {e.id: [] for e in evaluators}
    for assignment in Assignment.objects.filter(round=rnd).order_by("item_id", "order"):
        label = f"label {assignment.order}" if assignment.item_id in disagreeing else "same label"
        work[assignment.evaluator_id].append((assignment.id, label))

    def submit_share(evaluator, part):
        def run():
            share = work[evaluator.id]
            half = len(share) // 2
            for assignment_id, label in share[:half] if part == 0 else share[half:]:
                services.annotation_submit(assignment_id=assignment_id, user=evaluator, label=label)

        return run

    worker = start_worker("first")
    try:
        in_threads(*[submit_share(e, 0) for e in evaluators], together=True, timeout=240)
        worker.send_signal(signal.SIGKILL)  # mid-run: tasks may be taken and never acknowledged
        worker.wait(30)
        in_threads(*[submit_share(e, 1) for e in evaluators], together=True, timeout=240)  # no worker at all
        worker = start_worker("second")
        services.escalations_sweep(resend_after=timedelta(0))  # what Celery beat runs

        def escalated() -> bool:
            return Assignment.objects.filter(item_id__in=disagreeing, order=3).count() == len(disagreeing)

        wait_for(escalated, 180, "every disagreement escalated")
        wait_for(lambda: app.connection().default_channel.client.llen("celery") == 0, 120, "the queue drained")
    finally:
        worker.terminate()
        worker.wait(30)

    close_old_connections()
    submissions = sum(len(share) for share in work.values())
    assert Annotation.objects.filter(assignment__round=rnd).count() == submissions
    for item in items:
        extra = Assignment.objects.filter(item=item).count() - 2
        assert extra == (1 if item.id in disagreeing else 0), item.id
    assert not EscalationOutbox.objects.exists()
