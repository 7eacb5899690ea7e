"""The embedded default holds: 20 evaluators labelling at once on a SQLite *file* never get a 500.

pytest-django's SQLite test database lives in memory (shared cache), which neither has WAL
nor the file locking that produces "database is locked". So this test runs the load in a
fresh Python process with the production settings pointed at a temporary SQLite file
(`DATABASE_URL=sqlite:///…`, so WAL, `transaction_mode: IMMEDIATE` and the busy timeout
apply exactly as in `make run`), creates the schema with `migrate`, and drives the labelling
loop through the API with 20 threads, each with its own Django test client, token and
connections. The child prints one JSON line of what happened; the test asserts on it.

Run the load by hand: `DATABASE_URL=sqlite:////tmp/x.sqlite3 python -m tests.test_sqlite_concurrency`.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVALUATORS = 20
ARTEFACTS = 240
LOAD_SECONDS = 200  # the child's load stops then (~12 s on a quiet 2-core machine); pytest's timeout is 300 s
IDLE_SECONDS = 2  # an evaluator without work asks again for this long before it stops


def test_twenty_concurrent_evaluators_on_a_sqlite_file_never_get_a_500(tmp_path):
    database = tmp_path / "concord.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": "",  # eager Celery, as embedded
        "DJANGO_SETTINGS_MODULE": "concord.settings",
        "DEBUG": "0",
        "CONN_MAX_AGE": "0",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_sqlite_concurrency"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LOAD_SECONDS + 80,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])

    assert report["journal_mode"] == "wal"
    assert report["errors"] == [], report["errors"][:5]
    assert set(report["statuses"]) <= {"200", "201", "204"}, report["statuses"]
    assert report["submits"] >= 2 * ARTEFACTS  # every first and second label landed
    assert report["threads_done"] == EVALUATORS
    # Nothing lost, nothing doubled.
    assert report["annotations"] == report["completed_assignments"] == report["submits"]
    assert report["max_assignments_per_item"] <= 3
    assert report["disagreed_without_third"] == 0
    assert report["undecided_with_all_answers"] == 0


# --- the child process --------------------------------------------------------------------


def _load() -> dict:
    import threading
    import time
    from collections import Counter

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings")
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, F, Q
    from django.test import Client
    from django.test.utils import setup_test_environment
    from rest_framework.authtoken.models import Token

    from collection.models import Artefact
    from core import services as core_services
    from labelling import services
    from labelling.models import Annotation, Assignment, RoundItem
    from tests.factories import member
    from tests.helpers import WAIT, join_all, poll

    setup_test_environment()  # lets the test client's "testserver" host in
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # users are made, not logged in
    call_command("migrate", run_syncdb=True, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        journal_mode = cursor.fetchone()[0]

    project = core_services.project_create(name="Load", slug="load", lead=member_user("lead"))
    lead = project.memberships.get().user
    evaluators = [member(project, evaluator=True, username=f"eva{i:02d}") for i in range(EVALUATORS)]
    Artefact.objects.bulk_create(
        Artefact(project=project, url=f"https://example.org/q/{i}", title=f"Question {i}", body="<p>body</p>")
        for i in range(ARTEFACTS)
    )
    services.round_create(
        project=project, user=lead, evaluator_ids=[e.id for e in evaluators], sample_size=ARTEFACTS, seed=1
    )
    tokens = {e.id: Token.objects.create(user=e).key for e in evaluators}
    connection.close()

    statuses, errors, lock = Counter(), [], threading.Lock()
    submits = Counter()
    done = []
    start = threading.Barrier(EVALUATORS)
    deadline = time.monotonic() + LOAD_SECONDS

    def label_for(user_id: int, artefact_id: int) -> str:
        # Two thirds agree on a label per artefact; the rest answer their own.
        return f"fault {artefact_id % 7}" if (artefact_id + user_id) % 3 else f"own label of {user_id}"

    def evaluator(user):
        client = Client(HTTP_AUTHORIZATION=f"Token {tokens[user.id]}")
        base = "/api/projects/load/assignments/"

        def call(method, url, data=None):
            try:
                if data is None:
                    response = getattr(client, method)(url)
                else:
                    response = getattr(client, method)(url, data, content_type="application/json")
            except Exception as exc:  # a 500 inside the view
                with lock:
                    errors.append(f"{method} {url}: {exc!r}")
                return None
            with lock:
                statuses[str(response.status_code)] += 1
                if response.status_code >= 500:
                    errors.append(f"{method} {url}: {response.status_code} {response.content[:300]!r}")
            return response

        try:
            start.wait(timeout=WAIT)
            while time.monotonic() < deadline:
                # No work (204) yet: an escalation by someone else may still bring some; ask again for a while.
                response = poll(
                    lambda: call("get", f"{base}next/"),
                    until=lambda r: r is None or r.status_code != 204,
                    timeout=IDLE_SECONDS,
                )
                if response is None:
                    return
                if response.status_code == 204:
                    break
                current = response.json()
                while current and time.monotonic() < deadline:
                    label = label_for(user.id, current["artefact"]["id"])
                    response = call("post", f"{base}{current['id']}/annotation/", {"label": label})
                    if response is None or response.status_code not in (200, 201):
                        break
                    with lock:
                        submits[user.id] += 1
                    current = response.json()["next"]
            with lock:
                done.append(user.id)
        finally:
            connection.close()

    threads = [threading.Thread(target=evaluator, args=(e,)) for e in evaluators]
    for t in threads:
        t.start()
    join_all(threads, timeout=LOAD_SECONDS + WAIT)  # the threads stop by the deadline

    per_item = RoundItem.objects.annotate(
        n=Count("assignments"), answered=Count("assignments", filter=Q(assignments__completed_at__isnull=False))
    )
    return {
        "journal_mode": journal_mode,
        "statuses": dict(statuses),
        "errors": errors,
        "submits": sum(submits.values()),
        "threads_done": len(done),
        "annotations": Annotation.objects.count(),
        "completed_assignments": Assignment.objects.filter(completed_at__isnull=False).count(),
        "max_assignments_per_item": max(per_item.values_list("n", flat=True)),
        "disagreed_without_third": per_item.filter(had_disagreement=True, is_conflict=False, n__lt=3).count(),
        "undecided_with_all_answers": per_item.filter(
            status=RoundItem.Status.LABELLING, had_disagreement=False, answered=F("n")
        ).count(),
        "items": dict(Counter(RoundItem.objects.values_list("status", flat=True))),
    }


def member_user(username):
    from tests.factories import UserFactory

    return UserFactory(username=username)


if __name__ == "__main__":
    print(json.dumps(_load()))
