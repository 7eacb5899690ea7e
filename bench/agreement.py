#!/usr/bin/env python
"""Speed of the agreement report (issue 10) — a script, not a test. Goal: under 2 s on PostgreSQL.

Full path (default): seeds a throwaway database (default PostgreSQL `concord_agreement_bench`) with
100,000 artefacts in six rounds (five imported, one labelled in Concord), three annotations
each by evaluators drawn from a pool of eight (labels from 3,000, some verdicts), a
three-level taxonomy holding most labels; then times `reports.selectors.project_agreement`
— the SQL read and all rounds × all levels × pairs with the 1,000-resample bootstrap per
row — and prints the time and the number of queries, and drops the database (unless --keep).

Pure (--pure): the same shape generated in memory, timing only the computation.

    .venv/bin/python bench/agreement.py [--items 100000] [--repeat 3] [--database-url URL] [--keep]
    .venv/bin/python bench/agreement.py --pure
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _rounds_db  # noqa: E402

from reports.agreement import Ratings, agreement_report  # noqa: E402

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/concord_agreement_bench"
ROUNDS = 6
VERDICTS = ("false positive", "generic", "unclear")


def taxonomy(rng: np.random.Generator, n_labels: int) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """Labels and their placements: 8 categories × 6 subcategories × 10 inner nodes; a tenth unplaced."""
    labels = [f"label {i}" for i in range(n_labels)]
    paths = {}
    for label in labels:
        if rng.random() < 0.1:
            continue
        a, b, c = int(rng.integers(8)), int(rng.integers(6)), int(rng.integers(10))
        depth = int(rng.integers(1, 4))
        paths[label] = (f"C{a}", f"C{a}.{b}", f"C{a}.{b}.{c}")[:depth]
    return labels, paths


def generate_round(rng: np.random.Generator, n_items: int, n_values: int, n_raters: int = 8) -> Ratings:
    """n_items × 3 ratings: each item has a 'true' value that each rater keeps with probability 0.6."""
    items = np.repeat(np.arange(n_items), 3)
    raters = np.argsort(rng.random((n_items, n_raters)), axis=1)[:, :3].ravel()
    truth = np.repeat(rng.integers(0, n_values, n_items), 3)
    noise = rng.integers(0, n_values, 3 * n_items)
    values = np.where(rng.random(3 * n_items) < 0.6, truth, noise)
    return Ratings(items, raters, values, [], [f"evaluator{i}" for i in range(n_raters)])


def pure(args) -> None:
    rng = np.random.default_rng(10)
    labels, paths = taxonomy(rng, args.labels)
    value_names = labels + list(VERDICTS)
    per_round = args.items // args.rounds
    rounds = []
    for number in range(1, args.rounds + 1):
        r = generate_round(rng, per_round, len(value_names))
        rounds.append((number, Ratings(r.items, r.raters, r.values, value_names, r.rater_names)))

    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = agreement_report(rounds, paths=paths)
        timings.append(time.perf_counter() - start)
    ratings = sum(len(r) for _, r in rounds)
    levels = len(report["rows"]) // args.rounds
    print(
        f"{args.items:,} items, {ratings:,} ratings, {args.rounds} rounds × {levels} levels,"
        f" {len(report['pairs'])} pairs: report in {statistics.median(timings):.3f} s"
        f" (median of {args.repeat}; min {min(timings):.3f} s)"
    )
    leaf = [r for r in report["rows"] if r["level"] == "leaf"]
    print("leaf alpha per round:", ", ".join(f"{r['round']}: {r['krippendorff_alpha']}" for r in leaf))


def seed(n_items: int, n_labels: int):
    """The project: ROUNDS rounds of n_items // ROUNDS artefacts, three annotations each."""
    from django.contrib.auth import get_user_model

    from collection.models import Artefact
    from core.models import Project
    from labelling.models import Annotation, Assignment, Label, Round, RoundItem
    from taxonomy.models import Leaf, Node

    rng = random.Random(10)
    project = Project.objects.create(name="Bench", slug="bench-agreement")
    lead = get_user_model().objects.create(username="bench-lead")
    evaluators = get_user_model().objects.bulk_create([get_user_model()(username=f"evaluator{i}") for i in range(8)])
    rounds = [
        Round.objects.create(
            project=project,
            number=n,
            source=Round.Source.CONCORD if n == ROUNDS else Round.Source.IMPORT,
            created_by=lead,
        )
        for n in range(1, ROUNDS + 1)
    ]
    labels = Label.objects.bulk_create(
        [Label(project=project, name=f"fault {i}", normalised=f"fault {i}") for i in range(n_labels)], batch_size=1000
    )
    nodes = []
    for a in range(1, 9):
        top = Node.objects.create(project=project, code=str(a), name=f"Top {a}", position=a)
        nodes.append(top)
        for b in range(1, 6):
            mid = Node.objects.create(project=project, parent=top, code=f"{a}.{b}", name=f"Mid {a}.{b}")
            nodes.append(mid)
            nodes += [
                Node.objects.create(project=project, parent=mid, code=f"{a}.{b}.{c}", name=f"Low {a}.{b}.{c}")
                for c in range(1, 5)
            ]
    Leaf.objects.bulk_create(
        [Leaf(node=rng.choice(nodes), label=label) for label in labels if rng.random() < 0.9], batch_size=1000
    )
    kinds = [k.value for k in Artefact.Kind]
    Artefact.objects.bulk_create(
        (
            Artefact(
                project=project, url=f"https://stackoverflow.com/questions/{i}", kind=kinds[i % 4], framework="keras"
            )
            for i in range(n_items)
        ),
        batch_size=5000,
    )
    artefact_ids = list(Artefact.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    per_round = n_items // ROUNDS
    statuses = [
        RoundItem.Status.AGREED,
        RoundItem.Status.MAJORITY,
        RoundItem.Status.RESOLVED,
        RoundItem.Status.LABELLING,
    ]
    RoundItem.objects.bulk_create(
        (
            RoundItem(round=rounds[min(i // per_round, ROUNDS - 1)], artefact_id=a, status=rng.choice(statuses))
            for i, a in enumerate(artefact_ids)
        ),
        batch_size=5000,
    )
    items = list(RoundItem.objects.filter(round__project=project).order_by("id").values_list("id", "round_id"))
    assignments = []
    for item_id, round_id in items:
        for order, evaluator in enumerate(rng.sample(evaluators, 3), start=1):
            assignments.append(Assignment(round_id=round_id, item_id=item_id, evaluator=evaluator, order=order))
    Assignment.objects.bulk_create(assignments, batch_size=5000)
    ids = Assignment.objects.filter(round__project=project).order_by("item_id", "order").values_list("id", flat=True)
    annotations = []
    for n, assignment_id in enumerate(ids):
        if n % 3 == 0:
            truth = rng.randrange(n_labels + 3)  # the item's "true" value; each evaluator keeps it with p = 0.6
        value = truth if rng.random() < 0.6 else rng.randrange(n_labels + 3)
        if value < n_labels:
            annotations.append(Annotation(assignment_id=assignment_id, label_id=labels[value].id))
        else:
            verdict = ("false_positive", "generic", "unclear")[value - n_labels]
            annotations.append(Annotation(assignment_id=assignment_id, verdict=verdict))
    Annotation.objects.bulk_create(annotations, batch_size=5000)
    return project


def reuse(url: str):
    """Django on a database a --keep run left behind, and its bench project."""
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings")
    import django

    django.setup()
    from core.models import Project

    return Project.objects.get(slug="bench-agreement")


def full(args) -> None:
    project = reuse(args.database_url) if args.reuse else _rounds_db.setup(args.database_url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.selectors import project_agreement, round_ratings

    try:
        started = time.perf_counter()
        project = project if args.reuse else seed(args.items, args.labels)
        print(
            "reused the kept database"
            if args.reuse
            else f"seeded {args.items:,} artefacts × 3 annotations in {ROUNDS} rounds"
            f" in {time.perf_counter() - started:.1f} s"
        )
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
        reads, timings = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            round_ratings(project)
            reads.append(time.perf_counter() - started)
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                report = project_agreement(project)
                timings.append(time.perf_counter() - started)
        ratings = sum(r["ratings"] for r in report["rows"] if r["level"] == "leaf")
        levels = len({r["level"] for r in report["rows"]})
        print(f"database: {connection.vendor}; {ratings:,} ratings counted, {ROUNDS} rounds × {levels} levels")
        print(f"queries per report: {len(queries.captured_queries)}; pairs {len(report['pairs'])}")
        print(f"read of the ratings alone: median {statistics.median(reads):.3f} s")
        print(
            f"agreement report (SQL + all rounds × levels × pairs + bootstrap): first {timings[0]:.3f} s, "
            f"median {statistics.median(timings):.3f} s, max {max(timings):.3f} s over {args.repeat} runs "
            f"(goal < 2 s): {'OK' if statistics.median(timings) < 2 else 'TOO SLOW'}"
        )
    finally:
        if not (args.keep or args.reuse):
            _rounds_db.drop(args.database_url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000, help="items in all (split over the rounds)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds (--pure only)")
    parser.add_argument("--labels", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pure", action="store_true", help="in memory, the computation only")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="time the database a --keep run left (no seeding)")
    args = parser.parse_args()
    if args.pure:
        pure(args)
    else:
        full(args)


if __name__ == "__main__":
    main()
