"""The web server's settings (gunicorn.conf.py) are what docker-compose and the Dockerfile run, and the
settings keep PostgreSQL connections open between requests (checked before reuse), SQLite not."""

import importlib
import runpy
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_and_dockerfile_run_gunicorn_with_the_config_file():
    web = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["web"]["command"]
    assert " ".join(web).startswith("gunicorn concord.wsgi:application --config gunicorn.conf.py")
    assert '"--config", "gunicorn.conf.py"' in (ROOT / "Dockerfile").read_text()


def test_gunicorn_config_runs_two_sync_workers_per_core(monkeypatch):
    for var in ("GUNICORN_WORKERS", "GUNICORN_TIMEOUT", "GUNICORN_BIND"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["bind"] == "0.0.0.0:8000" and conf["worker_class"] == "sync"
    assert conf["workers"] == 4 and conf["preload_app"] and not conf.get("reuse_port")
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"] == 5


def test_persistent_connections_for_postgresql_only(monkeypatch):
    import concord.settings as settings_module

    try:
        monkeypatch.delenv("CONN_MAX_AGE", raising=False)
        monkeypatch.delenv("CONN_HEALTH_CHECKS", raising=False)
        monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/concord")
        db = importlib.reload(settings_module).DATABASES["default"]
        assert db["CONN_MAX_AGE"] > 0 and db["CONN_HEALTH_CHECKS"] is True
        monkeypatch.setenv("CONN_MAX_AGE", "0")
        assert importlib.reload(settings_module).DATABASES["default"]["CONN_MAX_AGE"] == 0
        monkeypatch.delenv("CONN_MAX_AGE")
        monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/concord-settings-test.sqlite3")
        db = importlib.reload(settings_module).DATABASES["default"]
        assert db["CONN_MAX_AGE"] == 0 and db["CONN_HEALTH_CHECKS"] is False
    finally:
        monkeypatch.undo()
        importlib.reload(settings_module)
