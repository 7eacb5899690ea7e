#!/usr/bin/env python
"""Speed of the labelling loop through the API against gunicorn and PostgreSQL (a script, not a test).

For each scale (default 1,000 and 100,000 artefacts) it:

1. recreates a separate PostgreSQL database (default `concord_bench`), creates the schema;
2. seeds N artefacts and 3·N annotations with COPY: half the artefacts (at most 10,000 are
   kept back) went through a closed past round, two to six evaluators each, agreed,
   decided by majority or resolved by a moderator; the rest form an open round created
   by the real `round_create` service for 20 evaluators;
3. starts gunicorn on 127.0.0.1 (a free port) with the deployed settings (gunicorn.conf.py,
   the settings' persistent connections; --workers/--threads override) serving Concord,
   wrapped so that every response carries `X-Query-Count` (the SQL statements the request ran);
4. drives the loop with 20 concurrent clients (threads, keep-alive HTTP, token auth): a warm-up,
   then a measured window that ends after --duration seconds or when a client's queue runs
   empty (at small scales the open round is soon done). One operation = POST my annotation for
   the current assignment and receive my next assignment in the same response (one request);
5. prints operations per second, p50/p95/p99 latency (also per number of queries: a first label,
   a decision, a disagreement with its escalation), CPU per operation and queries per request,
   whether the target is met, then stops gunicorn and drops the database (unless --keep).

Escalations after a disagreement run through Celery: eagerly inside the request by
default (as embedded), or by a real worker with --redis-url.

    .venv/bin/python bench/labelling_loop.py                 # both scales
    .venv/bin/python bench/labelling_loop.py --scales 1000 --duration 10
"""

import argparse
import http.client
import io
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/concord_bench"
EVALUATORS = 20
LABELS = 40
SLUG = "bench"


# --- inside gunicorn: count the queries of each request ----------------------------------------

_django_app = None


def django_app():
    global _django_app
    if _django_app is None:
        from django.core.wsgi import get_wsgi_application

        _django_app = get_wsgi_application()
    return _django_app


def counting_app(environ, start_response):
    """Concord's WSGI application, adding `X-Query-Count` (the SQL statements the request ran) and
    `X-Worker` (the serving process) to every response (bench only)."""
    from django.db import connection

    app = django_app()
    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    def start(status, headers, exc_info=None):
        headers.append(("X-Query-Count", str(count[0])))
        headers.append(("X-Worker", str(os.getpid())))
        return start_response(status, headers, exc_info)

    with connection.execute_wrapper(counter):
        return app(environ, start)


if os.environ.get("CONCORD_BENCH_SERVER"):  # imported by gunicorn: load Django now (preload_app loads it once)
    django_app()


# --- setup ---------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="1000,100000", help="artefact counts to run, comma-separated")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (each a different evaluator)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of measured load per scale")
    parser.add_argument(
        "--warmup",
        type=float,
        default=3.0,
        help="seconds of unmeasured load first (less when a tenth of the open round is done before)",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--redis-url", default="", help="run escalations in a real Celery worker using this Redis")
    parser.add_argument("--workers", type=int, help="gunicorn worker processes (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="gunicorn threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument("--worker-class", help="gunicorn worker class (default: gunicorn.conf.py's)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    parser.add_argument(
        "--prepared-sql",
        choices=("on", "off", "both"),
        default="both",
        help="CONCORD_PREPARED_SQL of the server: the prepared statements, their ORM equivalents, or both in turn",
    )
    args = parser.parse_args(argv)
    args.scales = [int(s) for s in args.scales.split(",") if s.strip()]
    if "postgres" not in args.database_url:
        parser.error("--database-url must be a PostgreSQL URL (the bench measures the PostgreSQL deployment)")
    return args


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def admin_connection(url: str):
    import psycopg2

    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    return conn


def recreate_database(url: str) -> None:
    drop_database(url)
    conn = admin_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{database_name(url)}"')
    finally:
        conn.close()


def drop_database(url: str) -> None:
    name = database_name(url)
    conn = admin_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        conn.close()


def setup_django(args) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings")
    # the deployed settings (DEBUG off) refuse to start without a real key: a throwaway one for the
    # bench's own server and database (inherited by gunicorn below)
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- seeding ---------------------------------------------------------------------------------------


def copy_rows(cursor, model, rows: list[dict]) -> None:
    """COPY rows into the model's table; columns not given get the field's default."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields]
    now = datetime.now(UTC)
    buffer = io.StringIO()
    for row in rows:
        values = []
        for field in fields:
            if field.attname in row:
                value = row[field.attname]
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                value = now
            else:
                value = field.get_default()
            values.append(copy_text(field, value, connection))
        buffer.write("\t".join(values) + "\n")
    buffer.seek(0)
    columns = ", ".join(f'"{f.column}"' for f in fields)
    cursor.copy_expert(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN', buffer)


def copy_text(field, value, connection) -> str:
    from django.db import models

    if value is None:
        return r"\N"
    if isinstance(field, models.JSONField):
        text = json.dumps(value)
    elif isinstance(value, bool):
        text = "t" if value else "f"
    elif isinstance(value, datetime):
        text = value.isoformat()
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def seed(n_artefacts: int, *, annotations_per_artefact: int = 3) -> dict:
    """Users, tokens, N artefacts, a closed past round with 3·N annotations, an open round."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from collection.models import Artefact
    from core import services as core_services
    from core.models import Membership
    from labelling import services
    from labelling.models import Annotation, Assignment, Label, Round, RoundItem

    started = time.monotonic()
    User = get_user_model()
    users = [User(username=name) for name in ["lead", "moderator", *(f"eva{i:02d}" for i in range(EVALUATORS))]]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users)
    lead, moderator, *evaluators = list(User.objects.order_by("id"))
    project = core_services.project_create(name="Bench", slug=SLUG, lead=lead, max_evaluators_per_artefact=3)
    Membership.objects.create(project=project, user=moderator, is_moderator=True)
    Membership.objects.bulk_create(Membership(project=project, user=e, is_evaluator=True) for e in evaluators)
    tokens = {e.username: Token.objects.create(user=e).key for e in evaluators}
    labels = [Label(project=project, name=f"fault {i}", in_catalogue=i < 10) for i in range(LABELS)]
    for label in labels:
        label.normalised = label.name
    Label.objects.bulk_create(labels)
    label_ids = list(Label.objects.filter(project=project).order_by("id").values_list("id", flat=True))

    live = min(n_artefacts // 2, 10_000)
    past = n_artefacts - live
    total_annotations = annotations_per_artefact * n_artefacts
    rng = random.Random(1)
    evaluator_ids = [e.id for e in evaluators]
    now = datetime.now(UTC)
    past_round = Round.objects.create(
        project=project, number=1, name="Past round", status=Round.Status.CLOSED, closed_at=now, created_by=lead
    )
    past_round.evaluators.set(evaluators)

    artefacts, items, assignments, annotations = [], [], [], []
    assignment_id = annotation_id = 0
    kinds = [k for k, _ in Artefact.Kind.choices]
    for a in range(1, n_artefacts + 1):
        artefacts.append(
            {
                "id": a,
                "project_id": project.id,
                "kind": kinds[a % len(kinds)],
                "framework": ("keras", "tensorflow", "pytorch")[a % 3],
                "url": f"https://stackoverflow.com/questions/{10_000_000 + a}",
                "title": f"Training fails with a shape error, case {a}",
                "body": f"<p>Model {a}: <code>ValueError: shapes (None, {a % 97}) and (None, 10)</code></p>",
                "tags": ["bench"],
                "metadata": {"score": a % 50},
            }
        )
    for i in range(past):
        item_id = i + 1
        k = total_annotations // past + (1 if i < total_annotations % past else 0) if past else 0
        k = max(2, min(k, EVALUATORS))
        chosen = rng.sample(evaluator_ids, k)
        majority = rng.choice(label_ids)
        answers = [majority, majority, *(rng.choice(label_ids) for _ in range(k - 2))]
        status = {2: "agreed", 3: "majority"}.get(k, "resolved")
        items.append(
            {
                "id": item_id,
                "round_id": past_round.id,
                "artefact_id": item_id,
                "status": status,
                "had_disagreement": k > 2,
                "is_conflict": k > 3,
                "final_label_id": majority,
                "final_verdict": "",
                "taxonomy_label_id": majority,
                "decided_at": now,
                "resolved_by_id": moderator.id if k > 3 else None,
                "resolved_at": now if k > 3 else None,
            }
        )
        for order, (evaluator, label) in enumerate(zip(chosen, answers, strict=True), start=1):
            assignment_id += 1
            annotation_id += 1
            assignments.append(
                {
                    "id": assignment_id,
                    "round_id": past_round.id,
                    "item_id": item_id,
                    "evaluator_id": evaluator,
                    "order": order,
                    "completed_at": now,
                }
            )
            annotations.append(
                {"id": annotation_id, "assignment_id": assignment_id, "label_id": label, "verdict": "", "note": ""}
            )

    with transaction.atomic(), connection.cursor() as cursor:
        cursor = cursor.cursor  # the psycopg2 cursor, for COPY
        copy_rows(cursor, Artefact, artefacts)
        copy_rows(cursor, RoundItem, items)
        copy_rows(cursor, Assignment, assignments)
        copy_rows(cursor, Annotation, annotations)
    with connection.cursor() as cursor:
        for model in (Artefact, RoundItem, Assignment, Annotation):
            table = model._meta.db_table
            sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
            cursor.execute(f'SELECT setval({sequence}, (SELECT MAX(id) FROM "{table}"))')
    seeded = time.monotonic() - started

    started = time.monotonic()
    live_round = services.round_create(
        project=project, user=lead, evaluator_ids=evaluator_ids, sample_size=live, seed=2, name="Live round"
    )
    with connection.cursor() as cursor:
        # As autovacuum leaves a database after bulk loads (and so that it does not start mid-measurement).
        cursor.execute("VACUUM ANALYZE")
    return {
        "artefacts": Artefact.objects.count(),
        "annotations": Annotation.objects.count(),
        "live_items": live_round.items.count(),
        "open_assignments": Assignment.objects.filter(round=live_round).count(),
        "seed_seconds": round(seeded, 1),
        "round_seconds": round(time.monotonic() - started, 1),
        "tokens": tokens,
    }


# --- the server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_settings(args) -> dict:
    """What the server runs with: gunicorn.conf.py (as deployed), overridden by the command line."""
    import runpy

    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    worker_class = args.worker_class or conf.get("worker_class", "sync")
    threads = (args.threads or conf.get("threads", 1)) if worker_class == "gthread" else 1
    return {"workers": args.workers or conf["workers"], "threads": threads, "worker_class": worker_class}


def start_gunicorn(args, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DJANGO_SETTINGS_MODULE": "concord.settings",
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}",
        "CONCORD_BENCH_SERVER": "1",
        "CONCORD_PREPARED_SQL": getattr(args, "prepared_sql_now", "on") == "on" and "true" or "false",
    }
    env.pop("CONN_MAX_AGE", None)  # the settings' default for PostgreSQL, as deployed
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "labelling_loop:counting_app",
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
    ]
    for option, value in (
        ("--workers", args.workers),
        ("--threads", args.threads),
        ("--worker-class", args.worker_class),
    ):
        if value:
            command += [option, str(value)]
    return subprocess.Popen(command, env=env, start_new_session=True)


def start_worker(args) -> subprocess.Popen | None:
    if not args.redis_url:
        return None
    env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url}
    env["CONCORD_PREPARED_SQL"] = "true" if getattr(args, "prepared_sql_now", "on") == "on" else "false"
    celery = str(Path(sys.executable).parent / "celery")
    command = [celery, "-A", "concord", "worker", "--concurrency", "2", "--loglevel", "warning"]
    return subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_until_up(port: int, token: str, workers: int, timeout: float = 60) -> None:
    """Until every worker process has answered a request (bursts of concurrent requests on new
    connections reach them all), so that no client waits on a process still starting."""
    from concurrent.futures import ThreadPoolExecutor

    def ask(_):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/projects/", headers={"Authorization": f"Token {token}"})
            response = conn.getresponse()
            response.read()
            conn.close()
            return response.getheader("X-Worker") if response.status == 200 else None
        except OSError:
            return None

    seen, deadline = set(), time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=3 * workers) as pool:
        while time.monotonic() < deadline:
            seen.update(pid for pid in pool.map(ask, range(3 * workers)) if pid)
            if len(seen) >= workers:
                return
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not come up ({len(seen)} of {workers} workers answered)")


# --- the clients ---------------------------------------------------------------------------------


class Evaluator(threading.Thread):
    """One evaluator labelling: POST the annotation of the current assignment, get the next one back."""

    def __init__(self, port, token, seed, phases):
        super().__init__(daemon=True)
        self.port, self.token, self.rng, self.phases = port, token, random.Random(seed), phases
        self.latencies, self.queries, self.next_queries, self.statuses = [], Counter(), Counter(), Counter()
        self.by_queries = {}  # queries per request: latencies (a first label, a decision, an escalation…)
        self.ops = self.done = 0  # measured operations; all operations
        self.error = None

    def request(self, conn, method, path, body=None):
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        return response.status, data, elapsed, int(response.getheader("X-Query-Count") or -1)

    def label_for(self, artefact_id):
        # Seven in ten answers agree on the artefact's "true" label; the rest pick any.
        return f"fault {artefact_id % LABELS}" if self.rng.random() < 0.7 else f"fault {self.rng.randrange(LABELS)}"

    def run(self):
        base = f"/api/projects/{SLUG}/assignments/"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.phases["start"].wait()
            current = None
            idle = 0
            while not self.phases["stop"].is_set():
                measuring = self.phases["measure"].is_set()
                if current is None:
                    status, data, _, queries = self.request(conn, "GET", f"{base}next/")
                    if measuring:
                        self.next_queries[queries] += 1
                    if status == 204:
                        if measuring:  # my queue ran empty: from now on fewer clients would load the server
                            self.phases["exhausted"].set()
                        idle += 1
                        if idle > 100:
                            return  # the round is done for me
                        time.sleep(0.05)
                        continue
                    current = json.loads(data)
                idle = 0
                body = {"label": self.label_for(current["artefact"]["id"])}
                status, data, elapsed, queries = self.request(conn, "POST", f"{base}{current['id']}/annotation/", body)
                self.done += 1
                if measuring and not self.phases["stop"].is_set():
                    self.statuses[status] += 1
                    self.latencies.append(elapsed)
                    self.queries[queries] += 1
                    self.by_queries.setdefault(queries, []).append(elapsed)
                    self.ops += 1
                if status not in (200, 201):
                    current = None
                    continue
                current = json.loads(data)["next"]
        except Exception as exc:  # reported in the summary
            self.error = repr(exc)
        finally:
            conn.close()


def process_tree(pid: int) -> list[int]:
    """The pid and its descendants (Linux /proc)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            todo.extend(int(child) for child in task.read_text().split())
    return pids


def cpu_seconds(pids) -> float:
    """User + system CPU time of these processes so far (0 for those gone)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def postgres_backends(url: str) -> list[int]:
    conn = admin_connection(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database_name(url)])
            return [row[0] for row in cur.fetchall()]
    finally:
        conn.close()


def drive(port: int, tokens: list[str], args, server_pid: int, open_assignments: int, worker_pid=None) -> dict:
    """Warm up, then measure for `--duration` seconds or until a client's queue runs empty (a small
    round: from then on fewer clients would load the server), whichever comes first."""
    phases = {name: threading.Event() for name in ("start", "measure", "stop", "exhausted")}
    clients = [Evaluator(port, tokens[i % len(tokens)], i, phases) for i in range(args.clients)]
    for c in clients:
        c.start()
    phases["start"].set()
    warm_until = time.monotonic() + args.warmup
    while time.monotonic() < warm_until and sum(c.done for c in clients) < open_assignments // 10:
        time.sleep(0.01)
    server, database = process_tree(server_pid), postgres_backends(args.database_url)
    worker = process_tree(worker_pid) if worker_pid else []
    cpu_before = (cpu_seconds(server), cpu_seconds(database), cpu_seconds([os.getpid()]), cpu_seconds(worker))
    load_before = os.getloadavg()[0]
    phases["measure"].set()
    started = time.perf_counter()
    exhausted = phases["exhausted"].wait(timeout=args.duration)
    phases["stop"].set()
    elapsed = time.perf_counter() - started
    cpu_after = (cpu_seconds(server), cpu_seconds(database), cpu_seconds([os.getpid()]), cpu_seconds(worker))
    load = max(load_before, os.getloadavg()[0])
    for c in clients:
        c.join(timeout=60)
    latencies = sorted(x for c in clients for x in c.latencies)
    queries = sum((c.queries for c in clients), Counter())
    next_queries = sum((c.next_queries for c in clients), Counter())
    statuses = sum((c.statuses for c in clients), Counter())
    ops = sum(c.ops for c in clients)

    def pct(p):
        return 1000 * latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else float("nan")

    cpu = [after - before for before, after in zip(cpu_before, cpu_after, strict=True)]
    per_op = [round(1000 * c / ops, 2) if ops else None for c in cpu]
    by_queries = {}
    for c in clients:
        for n, values in c.by_queries.items():
            by_queries.setdefault(n, []).extend(values)
    latency_by_queries = {
        n: {
            "requests": len(v),
            "p50_ms": round(1000 * sorted(v)[len(v) // 2], 1),
            "p95_ms": round(1000 * sorted(v)[int(0.95 * len(v))], 1),
        }
        for n, v in sorted(by_queries.items())
    }
    return {
        "ops": ops,
        "seconds": round(elapsed, 1),
        "stopped_early": exhausted,
        "cpu_ms_per_op": {
            "gunicorn": per_op[0],
            "postgres": per_op[1],
            "clients": per_op[2],
            **({"celery_worker": per_op[3]} if worker_pid else {}),
        },
        "load_average": round(load, 1),
        "ops_per_second": round(ops / elapsed, 1),
        "p50_ms": round(pct(0.50), 1),
        "p95_ms": round(pct(0.95), 1),
        "p99_ms": round(pct(0.99), 1),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1) if latencies else None,
        "queries_per_submit": dict(sorted(queries.items())),
        "queries_per_next": dict(sorted(next_queries.items())),
        "latency_by_queries": latency_by_queries,
        "statuses": dict(sorted(statuses.items())),
        "client_errors": [c.error for c in clients if c.error],
    }


# --- main ----------------------------------------------------------------------------------------


class _NoMigrations:
    def __contains__(self, app_label):
        return True

    def __getitem__(self, app_label):
        return None


def create_schema(call_command) -> None:
    """Tables straight from the models (as the test suite does), whatever state the migrations are in."""
    from django.conf import settings

    previous = getattr(settings, "MIGRATION_MODULES", {})
    settings.MIGRATION_MODULES = _NoMigrations()
    try:
        call_command("migrate", run_syncdb=True, verbosity=0)
    finally:
        settings.MIGRATION_MODULES = previous


def run_scale(args, n: int) -> dict:
    from django.core.management import call_command
    from django.db import connections

    connections.close_all()
    recreate_database(args.database_url)
    create_schema(call_command)
    info = seed(n)
    tokens = list(info.pop("tokens").values())
    connections.close_all()
    port = free_port()
    server = start_gunicorn(args, port)
    worker = start_worker(args)
    try:
        wait_until_up(port, tokens[0], gunicorn_settings(args)["workers"])
        result = drive(port, tokens, args, server.pid, info["open_assignments"], worker.pid if worker else None)
    finally:
        stop(server)
        stop(worker)
    return {**info, **result}


def main(argv=None) -> int:
    args = parse_args(argv)
    setup_django(args)
    server = gunicorn_settings(args)
    threads = f" × {server['threads']} threads" if server["worker_class"] == "gthread" else ""
    print(
        f"Concord labelling loop: {args.clients} clients, up to {args.duration:.0f} s measured per scale, gunicorn "
        f"{server['workers']} {server['worker_class']} workers{threads}, "
        f"escalations {'in a Celery worker' if args.redis_url else 'eager'}, {os.cpu_count()} CPUs",
        flush=True,
    )
    results = []
    modes = ("on", "off") if args.prepared_sql == "both" else (args.prepared_sql,)
    try:
        for n, mode in [(n, mode) for n in args.scales for mode in modes]:
            args.prepared_sql_now = mode
            print(f"\n== {n:,} artefacts, CONCORD_PREPARED_SQL {mode} ==", flush=True)
            result = run_scale(args, n)
            result["prepared_sql"] = mode
            results.append(result)
            print(
                f"seeded {result['artefacts']:,} artefacts and {result['annotations']:,} annotations in "
                f"{result['seed_seconds']} s; open round of {result['live_items']:,} items "
                f"({result['open_assignments']:,} assignments) in {result['round_seconds']} s"
            )
            print(
                f"{result['ops']:,} operations in {result['seconds']} s: {result['ops_per_second']} ops/s, "
                f"latency p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms"
                + (" (stopped early: a queue ran empty)" if result["stopped_early"] else "")
            )
            cpu = result["cpu_ms_per_op"]
            print(
                f"CPU per operation: gunicorn {cpu['gunicorn']} ms, PostgreSQL {cpu['postgres']} ms, "
                + (f"Celery worker {cpu['celery_worker']} ms, " if "celery_worker" in cpu else "")
                + f"clients {cpu['clients']} ms (load average {result['load_average']} on {os.cpu_count()} CPUs)"
            )
            print(f"queries per submit+next request: {result['queries_per_submit']} (queries: requests)")
            print(f"queries per GET next: {result['queries_per_next']}")
            for n, row in result["latency_by_queries"].items():
                print(
                    f"  requests with {n} queries: {row['requests']:,}, p50 {row['p50_ms']} ms, p95 {row['p95_ms']} ms"
                )
            print(f"statuses: {result['statuses']}  client errors: {result['client_errors'] or 'none'}", flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database_url)
    if results:
        print("\ntarget: ≥ 200 ops/s with p95 < 100 ms, the same queries per request at every scale")
        for r in results:
            met = r["ops_per_second"] >= 200 and r["p95_ms"] < 100
            verdict = "met" if met else "NOT met"
            print(
                f"  {r['artefacts']:>9,} artefacts, prepared SQL {r['prepared_sql']}: "
                f"{r['ops_per_second']} ops/s, p95 {r['p95_ms']} ms: {verdict}"
            )
        for n in args.scales:
            by_mode = {r["prepared_sql"]: r for r in results if r["artefacts"] == n}
            if {"on", "off"} <= set(by_mode):
                on, off = by_mode["on"], by_mode["off"]
                print(
                    f"  {n:>9,} artefacts: prepared SQL off runs at {off['ops_per_second'] / on['ops_per_second']:.0%}"
                    f" of on (p95 {off['p95_ms']} ms against {on['p95_ms']} ms)"
                )
        # The kinds of submission (a first label, a decision, a disagreement with its escalation) run a
        # fixed number of queries each; GET next runs only when a queue is (nearly) empty.
        submits = {tuple(sorted(r["queries_per_submit"])) for r in results if r["prepared_sql"] == "on"}
        nexts = {
            tuple(sorted(r["queries_per_next"])) for r in results if r["queries_per_next"] and r["prepared_sql"] == "on"
        }
        same = len(submits) == 1 and len(nexts) <= 1
        print(
            f"  queries per request the same at every scale: {'yes' if same else 'NO'} "
            f"(submit+next: {' / '.join(map(str, submits))}; GET next: {' / '.join(map(str, nexts)) or 'none'})"
        )
    print("\nsummary (JSON):")
    print(json.dumps([{k: v for k, v in r.items()} for r in results]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
