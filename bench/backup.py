#!/usr/bin/env python
"""Speed and memory of the whole-project backup and restore (a script, not a test).

Seeds a throwaway database (default PostgreSQL `wt_exchange_backup_bench`) with one project of
100,000 artefacts, one round of 100,000 items, 300,000 assignments and 300,000 annotations (three
evaluators per artefact, a few hundred labels, notes and histories), then runs
`manage.py export_project` and `manage.py import_project --slug …` each in a child process and
prints its wall time and peak resident memory. Goals: each under 60 s and under 300 MB.

    .venv/bin/python bench/backup.py
    .venv/bin/python bench/backup.py --artefacts 10000 --database-url sqlite:////tmp/backup-bench.sqlite3
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _rounds_db

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/wt_exchange_backup_bench"
CHILD = """
import resource, sys, time
import django
django.setup()
from django.core.management import call_command
started = time.perf_counter()
call_command(*sys.argv[1:])
elapsed = time.perf_counter() - started
print(f"{elapsed:.3f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""


def seed(n_artefacts: int, per_artefact: int = 3) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from collection.models import Artefact
    from core.models import Membership, Project
    from labelling.models import Annotation, Assignment, Label, Round, RoundItem

    rng = random.Random(11)
    now = timezone.now()
    project = Project.objects.create(name="Bench backup", slug="bench-backup")
    users = [get_user_model().objects.create(username=f"bench-backup-e{i}") for i in range(per_artefact)]
    Membership.objects.bulk_create(Membership(project=project, user=u, is_evaluator=True) for u in users)
    labels = Label.objects.bulk_create(
        Label(project=project, name=f"fault label {i}", normalised=f"fault label {i}") for i in range(300)
    )
    rnd = Round.objects.create(project=project, number=1, name="Round 1")
    batch = 5000
    for start in range(0, n_artefacts, batch):
        size = min(batch, n_artefacts - start)
        artefacts = Artefact.objects.bulk_create(
            Artefact(
                project=project,
                url=f"https://stackoverflow.com/questions/{10_000_000 + start + i}",
                title=f"Why does model {start + i} not converge?",
                body="My loss is nan after the first epoch. " * 8,
                kind="so_question",
                framework="keras",
                metadata={"score": (start + i) % 50},
            )
            for i in range(size)
        )
        items = RoundItem.objects.bulk_create(
            RoundItem(
                round=rnd, artefact=a, status="agreed", final_label=labels[(a.id * 7) % len(labels)], decided_at=now
            )
            for a in artefacts
        )
        assignments = Assignment.objects.bulk_create(
            Assignment(round=rnd, item=item, evaluator=u, order=n + 1, completed_at=now)
            for item in items
            for n, u in enumerate(users)
        )
        Annotation.objects.bulk_create(
            Annotation(
                assignment=a,
                label=labels[rng.randrange(len(labels))],
                note="seen before" if a.id % 10 == 0 else "",
                history=[{"label": "earlier"}] if a.id % 17 == 0 else [],
            )
            for a in assignments
        )
        print(f"seeded {start + size}/{n_artefacts}", file=sys.stderr, flush=True)


def run_child(*args: str) -> tuple[float, float]:
    env = dict(os.environ)
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        cwd=_rounds_db.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit(f"{args[0]} failed")
    seconds, rss_kb = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(rss_kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--artefacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--reuse", action="store_true", help="measure on a database seeded by an earlier --keep run")
    args = parser.parse_args()
    if args.reuse:
        os.environ["DATABASE_URL"] = args.database_url
        os.environ.pop("REDIS_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings")
        sys.path.insert(0, str(_rounds_db.ROOT))
        import django

        django.setup()
    else:
        _rounds_db.setup(args.database_url)
        started = time.perf_counter()
        seed(args.artefacts)
        print(f"seeded in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    from django.db import connections

    connections.close_all()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "backup.zip"
        export_s, export_mb = run_child("export_project", "bench-backup", "--output", str(archive))
        size_mb = archive.stat().st_size / 1e6
        restore_s, restore_mb = run_child("import_project", str(archive), "--slug", "bench-backup-copy")
    n = args.artefacts
    print(f"backup of {n:,} artefacts, {3 * n:,} assignments, {3 * n:,} annotations ({size_mb:.1f} MB zip)")
    print(f"export_project: {export_s:6.1f} s, peak {export_mb:6.0f} MB   (goal < 60 s, < 300 MB)")
    print(f"import_project: {restore_s:6.1f} s, peak {restore_mb:6.0f} MB   (goal < 60 s, < 300 MB)")
    if not args.keep:
        _rounds_db.drop(args.database_url)


if __name__ == "__main__":
    main()
