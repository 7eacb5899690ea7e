"""Shared fixtures.

- Tests marked `services` need the real PostgreSQL and Redis: they run when
  DATABASE_URL points at PostgreSQL and REDIS_URL is set (as in CI) and skip otherwise.
- `celery_worker_live` starts a real Celery worker in-process (transactional DB).
- Browser tests use Debian's Chromium through Playwright; never a downloaded browser (tests/browser/conftest.py,
  which also sets their timeouts).
- Waits are bounded by tests.helpers.WAIT, never fixed sleeps.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from tests.factories import ProjectFactory, member
from tests.helpers import WAIT

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
# Processes the tests start (manage.py, gunicorn, a worker) run as tests too: development key, unhashed static
os.environ.setdefault("CONCORD_TESTING", "1")

SHARED = Path(settings.SHARED_FIXTURES_DIR)
REPLICATION = SHARED / "replication"
CHROMIUM = "/usr/bin/chromium"


def real_services() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and bool(settings.REDIS_URL)


def pytest_sessionstart(session):
    if os.environ.get("CONCORD_REQUIRE_SERVICES") and not real_services():
        raise pytest.UsageError(
            "CONCORD_REQUIRE_SERVICES is set but DATABASE_URL is not PostgreSQL or REDIS_URL is unset"
        )


def pytest_collection_modifyitems(config, items):
    skip_services = pytest.mark.skip(reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL; CI sets both")
    skip_browser = pytest.mark.skip(reason=f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
    for item in items:
        if "services" in item.keywords and not real_services():
            item.add_marker(skip_services)
        if "browser" in item.keywords and not Path(CHROMIUM).exists():
            item.add_marker(skip_browser)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Throttle counts live in the (per-process) cache: each test starts with none."""
    cache.clear()
    yield


@pytest.fixture
def replication_dir():
    if not REPLICATION.exists():
        pytest.skip(f"shared fixtures not found at {REPLICATION}")
    return REPLICATION


@pytest.fixture
def project(db):
    return ProjectFactory()


@pytest.fixture
def team(project):
    """A project with a lead, a moderator and three evaluators."""

    class Team:
        pass

    t = Team()
    t.project = project
    t.lead = member(project, lead=True, username="lead")
    t.moderator = member(project, moderator=True, username="moderator")
    t.evaluators = [member(project, evaluator=True, username=f"eva{i}") for i in (1, 2, 3)]
    return t


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Factories hash a password for every user; PBKDF2 costs ~0.25 s each, MD5 nothing (tests only)."""
    from django.test.utils import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Tasks run eagerly in tests unless the test starts a real worker with `celery_worker_live`.

    With REDIS_URL set (as in CI) a queued task would otherwise wait forever for a
    worker that only the tests asking for one start."""
    from concord.celery import app

    if "celery_worker_live" in request.fixturenames:
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker_live(transactional_db):
    """A real Celery worker consuming from Redis, in this process (tests marked `services`)."""
    from celery.contrib.testing.worker import start_worker

    from concord.celery import app

    app.conf.task_always_eager = False
    app.control.purge()  # tasks left queued by earlier runs must not reach this worker
    try:
        with start_worker(
            app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=WAIT
        ) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
