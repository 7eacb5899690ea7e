#!/usr/bin/env python
"""Speed of Table 1 over 100,000 artefacts in 6 rounds (a script, not a test). Target: under 1 s.

Seeds a throwaway database (default PostgreSQL `concord_rounds_bench`): 100,000
artefacts spread over six rounds (five imported, one labelled in Concord and half
decided), disagreements, conflicts and relevant items, a three-level taxonomy of
coded nodes and a few thousand leaves with their rounds. Then computes Table 1
(`reports.table1.table1`) several times and prints the timings and the number of
SQL queries, and drops the database (unless --keep).

    .venv/bin/python bench/table1.py
    .venv/bin/python bench/table1.py --artefacts 20000 --database-url sqlite:////tmp/t1.sqlite3
"""

import argparse
import random
import statistics
import time

import _rounds_db

ROUNDS = 6


def seed(n_artefacts: int) -> object:
    from django.contrib.auth import get_user_model

    from collection.models import Artefact
    from core.models import Project
    from labelling.models import Label, Round, RoundImport, RoundItem
    from taxonomy.models import Leaf, Node

    rng = random.Random(20)
    project = Project.objects.create(name="Bench", slug="bench-table1")
    lead = get_user_model().objects.create(username="bench-lead")
    rounds = []
    for number in range(1, ROUNDS + 1):
        source = Round.Source.CONCORD if number == ROUNDS else Round.Source.IMPORT
        status = Round.Status.OPEN if number == ROUNDS else Round.Status.CLOSED
        rounds.append(
            Round.objects.create(project=project, number=number, source=source, status=status, created_by=lead)
        )
    for rnd in rounds[:-1]:
        RoundImport.objects.create(round=rnd, recorded={"disagreements": rnd.number != 2, "relevant": True})
    kinds = [k.value for k in Artefact.Kind]
    Artefact.objects.bulk_create(
        (
            Artefact(
                project=project, url=f"https://stackoverflow.com/questions/{i}", kind=kinds[i % 4], framework="keras"
            )
            for i in range(n_artefacts)
        ),
        batch_size=5000,
    )
    artefact_ids = list(Artefact.objects.filter(project=project).order_by("id").values_list("id", flat=True))
    labels = Label.objects.bulk_create(
        [Label(project=project, name=f"fault {i}", normalised=f"fault {i}") for i in range(3000)], batch_size=1000
    )
    # a three-level coded taxonomy: 8 × 5 × 4 = 160 leaves-bearing nodes
    nodes = []
    for a in range(1, 9):
        top = Node.objects.create(project=project, code=str(a), name=f"Top {a}", position=a)
        nodes.append(top)
        for b in range(1, 6):
            mid = Node.objects.create(project=project, parent=top, code=f"{a}.{b}", name=f"Mid {a}.{b}", position=b)
            nodes.append(mid)
            for c in range(1, 5):
                nodes.append(
                    Node.objects.create(project=project, parent=mid, code=f"{a}.{b}.{c}", name=f"Low {a}.{b}.{c}")
                )
    for node in nodes:
        node.round_created = rng.choice(rounds)
    Node.objects.bulk_update(nodes, ["round_created"])
    leaves = Leaf.objects.bulk_create(
        [Leaf(node=rng.choice(nodes), label=labels[i], round_created=rng.choice(rounds)) for i in range(len(labels))],
        batch_size=1000,
    )
    statuses = [s.value for s in RoundItem.Status]
    per_round = len(artefact_ids) // ROUNDS
    items = []
    for index, artefact_id in enumerate(artefact_ids):
        rnd = rounds[min(index // per_round, ROUNDS - 1)]
        relevant = rng.random() < 0.15
        leaf = rng.choice(leaves) if relevant else None
        items.append(
            RoundItem(
                round=rnd,
                artefact_id=artefact_id,
                status=rng.choice(statuses),
                had_disagreement=rng.random() < 0.3,
                is_conflict=rng.random() < 0.1,
                taxonomy_label_id=leaf.label_id if leaf else None,
                final_label_id=leaf.label_id if leaf else None,
                leaf=leaf,
            )
        )
    RoundItem.objects.bulk_create(items, batch_size=5000)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=_rounds_db.DEFAULT_DATABASE)
    parser.add_argument("--artefacts", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    _rounds_db.setup(args.database_url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.table1 import table1

    try:
        started = time.perf_counter()
        project = seed(args.artefacts)
        print(f"seeded {args.artefacts:,} artefacts in {ROUNDS} rounds in {time.perf_counter() - started:.1f} s")
        connection.ensure_connection()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE")
        timings = []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                table = table1(project)
                timings.append(time.perf_counter() - started)
        subtotal = table["rows"][-1]
        print(f"database: {connection.vendor}")
        print(f"Table 1 rows: {[r['round'] for r in table['rows']]}; subtotal analysed {subtotal['analysed']:,}")
        print(f"queries per Table 1: {len(queries.captured_queries)}")
        print(
            f"Table 1 time: first {timings[0] * 1000:.0f} ms, median {statistics.median(timings) * 1000:.0f} ms, "
            f"max {max(timings) * 1000:.0f} ms over {args.repeat} runs (target < 1000 ms): "
            f"{'OK' if max(timings) < 1 else 'TOO SLOW'}"
        )
    finally:
        if not args.keep:
            _rounds_db.drop(args.database_url)


if __name__ == "__main__":
    main()
