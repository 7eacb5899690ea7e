"""docker-compose.yml and the settings agree (no Docker engine runs here, so the file is parsed)."""

import importlib
import re
from pathlib import Path

import dj_database_url
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")
REQUIRED = re.compile(r"\$\{(\w+):\?([^}]*)\}")
OPERATOR_SET = {"SECRET_KEY": "an-operator's-own-key-" + "q7RnX2vLp9" * 5}


def expand(value) -> str:
    """Compose's `${VAR:-default}` interpolation with VAR unset; `${VAR:?message}` as the operator set it."""
    return REQUIRED.sub(lambda m: OPERATOR_SET[m.group(1)], DEFAULTED.sub(lambda m: m.group(2), str(value)))


def test_compose_requires_a_secret_key(compose):
    """No default key: `docker compose up` stops with the message unless SECRET_KEY is set."""
    value = compose["services"]["web"]["environment"]["SECRET_KEY"]
    match = REQUIRED.fullmatch(value)
    assert match and match.group(1) == "SECRET_KEY"
    assert "token_urlsafe" in match.group(2)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_web_worker_beat_postgres_and_redis_behind_nginx(compose):
    services = compose["services"]
    assert set(services) == {"db", "redis", "migrate", "web", "worker", "beat", "nginx"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["web"]["command"][:2] == ["gunicorn", "concord.wsgi:application"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "concord", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "concord", "beat"]
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    for name in ("db", "redis", "worker", "nginx"):
        assert "healthcheck" in services[name], name
    assert "healthcheck" not in services["web"]  # the image's own HEALTHCHECK (GET /healthz)
    assert "pgdata" in compose["volumes"]
    assert any(v.startswith("pgdata:") for v in services["db"]["volumes"])
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_web_scales_behind_nginx_which_alone_publishes_a_port(compose):
    """`docker compose up --scale web=3 --scale worker=2`: no fixed container port on web or worker."""
    services = compose["services"]
    for name in ("web", "worker", "beat", "migrate"):
        assert "ports" not in services[name] and "container_name" not in services[name], name
    assert services["nginx"]["ports"] == ["127.0.0.1:8000:80"]
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server web:8000" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf  # overwritten: the client cannot forge it
    assert services["web"]["environment"]["CONCORD_BEHIND_PROXY"] == "true"
    assert services["web"]["environment"]["CACHE_URL"].startswith("redis://redis:")


def test_the_image_runs_unprivileged_with_a_health_check():
    dockerfile = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in dockerfile.splitlines()]
    user = next(i for i, line in enumerate(lines) if line.startswith("USER "))
    assert lines[user] == "USER concord"
    assert user > max(i for i, line in enumerate(lines) if line.startswith("RUN "))  # nothing runs as root after
    assert any(line.startswith("HEALTHCHECK ") for line in lines)
    assert "/healthz" in dockerfile


def test_compose_environment_matches_what_settings_read(compose, monkeypatch):
    """The app containers get every variable settings read, and they parse to PostgreSQL and Redis."""
    env = compose["services"]["web"]["environment"]
    assert env == compose["services"]["worker"]["environment"]
    for var in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS"):
        assert var in env
    db = compose["services"]["db"]["environment"]
    parsed = dj_database_url.parse(env["DATABASE_URL"])
    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    assert (parsed["NAME"], parsed["USER"], parsed["PASSWORD"]) == (
        db["POSTGRES_DB"],
        db["POSTGRES_USER"],
        db["POSTGRES_PASSWORD"],
    )
    assert parsed["HOST"] == "db"
    assert env["REDIS_URL"].startswith("redis://redis:")

    # Load the settings module with the compose environment and check what it makes of it.
    for key, value in env.items():
        monkeypatch.setenv(key, expand(value))
    import concord.settings as settings_module

    try:
        fresh = importlib.reload(settings_module)
        assert fresh.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
        assert fresh.CELERY_BROKER_URL == env["REDIS_URL"]
        assert fresh.CELERY_TASK_ALWAYS_EAGER is False
        assert fresh.DEBUG is False
        assert "127.0.0.1" in fresh.ALLOWED_HOSTS
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)


def test_without_environment_settings_are_embedded(monkeypatch):
    for var in ("DATABASE_URL", "REDIS_URL"):
        monkeypatch.delenv(var, raising=False)
    import concord.settings as settings_module

    try:
        fresh = importlib.reload(settings_module)
        assert fresh.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
        assert fresh.CELERY_TASK_ALWAYS_EAGER is True
        assert fresh.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)
