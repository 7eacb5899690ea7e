#!/usr/bin/env python
"""Speed of importing 100,000 artefacts from CSV (a script, not a test). Target: under 20 s.

Writes a CSV of N artefacts in memory (link, title, a body of a few hundred
characters, EntityType such as `so-keras`, tags; CRLF line ends, some stray cp1252
bytes and a few duplicate links for realism), imports it into an empty project of a
throwaway database (default PostgreSQL `concord_rounds_bench`) through the same
service the command and the pages use, then imports it again (nothing changes),
prints both timings and drops the database (unless --keep).

    .venv/bin/python bench/import_csv.py
    .venv/bin/python bench/import_csv.py --artefacts 20000 --database-url sqlite:////tmp/imp.sqlite3
"""

import argparse
import random
import time

import _rounds_db

KINDS = ["so-keras", "so-tensorflow", "issue-torch", "commit-tensorflow", "issue-keras"]
WORDS = [
    *("model", "loss", "tensor", "shape", "layer", "gradient", "optimizer"),
    *("batch", "epoch", "input", "output", "weight", "bias", "nan"),
]


def make_csv(n: int) -> bytes:
    rng = random.Random(3)
    lines = [b"EntityType,Link,Title,Body,Tags"]
    for i in range(n):
        link = f"https://stackoverflow.com/questions/{10_000_000 + i}"
        if i and i % 10_000 == 0:
            link = f"https://stackoverflow.com/questions/{10_000_000 + i - 1}"  # a duplicate now and then
        title = " ".join(rng.choice(WORDS) for _ in range(8))
        body = " ".join(rng.choice(WORDS) for _ in range(50))
        line = f'{KINDS[i % len(KINDS)]},{link},"Why {title}?","<p>{body}</p>","python,{rng.choice(WORDS)}"'
        raw = line.encode()
        if i % 5_000 == 1:
            raw = raw.replace(b"Why", b"Why caf\xe9", 1)  # a stray cp1252 byte
        lines.append(raw)
    return b"\r\n".join(lines) + b"\r\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=_rounds_db.DEFAULT_DATABASE)
    parser.add_argument("--artefacts", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    _rounds_db.setup(args.database_url)
    from django.db import connection

    from collection.models import Artefact
    from collection.services import artefacts_import_file
    from core.models import Project

    try:
        data = make_csv(args.artefacts)
        print(f"CSV: {args.artefacts:,} rows, {len(data) / 1e6:.1f} MB; database: {connection.vendor}")
        project = Project.objects.create(name="Bench import", slug="bench-import")
        started = time.perf_counter()
        report = artefacts_import_file(project=project, data=data, filename="bench.csv")
        first = time.perf_counter() - started
        print(
            f"first import: {first:.1f} s ({args.artefacts / first:,.0f} rows/s) — created {report['created']:,}, "
            f"duplicates {len(report['duplicates'])}, repaired rows {len(report['repaired'])}, "
            f"skipped {len(report['skipped'])} (target < 20 s): {'OK' if first < 20 else 'TOO SLOW'}"
        )
        started = time.perf_counter()
        report = artefacts_import_file(project=project, data=data, filename="bench.csv")
        second = time.perf_counter() - started
        print(
            f"same file again: {second:.1f} s — created {report['created']}, updated {report['updated']}, "
            f"unchanged {report['unchanged']:,}"
        )
        print(f"artefacts in the project: {Artefact.objects.filter(project=project).count():,}")
    finally:
        if not args.keep:
            _rounds_db.drop(args.database_url)


if __name__ == "__main__":
    main()
