"""A throwaway database for the round-spreadsheet benches (bench/table1.py, bench/import_csv.py).

PostgreSQL URLs get their database dropped and created afresh; SQLite files are
deleted. The schema comes from the models (`migrate --run-syncdb`), like the tests.
"""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/concord_rounds_bench"


def _admin(url: str):
    import psycopg2

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    conn = psycopg2.connect(admin.replace("postgres://", "postgresql://", 1))
    conn.autocommit = True
    return conn, parts.path.lstrip("/")


def recreate(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    conn, name = _admin(url)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def drop(url: str) -> None:
    if url.startswith("sqlite"):
        recreate(url)
        return
    from django.db import connections

    connections.close_all()
    conn, name = _admin(url)
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def setup(url: str) -> None:
    """Point Django at `url`, recreate it and create the schema."""
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # eager Celery; the benches call services directly
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings")
    recreate(url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    class NoMigrations:  # tables straight from the models, as the test suite does (--nomigrations)
        def __contains__(self, app_label):
            return True

        def __getitem__(self, app_label):
            return None

    settings.MIGRATION_MODULES = NoMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0)
