#!/usr/bin/env python
"""Speed of the relevance vocabulary (a script, not a test): index build, refresh and the reads.

It creates a separate database (PostgreSQL: drops and recreates `concord_bench_vocab` by
default; SQLite: a temporary file), creates the schema, seeds N generated artefacts (titles
and HTML bodies drawn from a Zipf-like vocabulary of made-up words plus deep-learning
terms), then prints:

- a full index build (artefacts per second, index rows, terms);
- a refresh with nothing changed (the idempotent case: reads only), and one after 1 % of
  the artefacts were edited;
- the reads behind the vocabulary page with 50 relevant terms: the first page of terms with
  tally (and its COUNT), the summary, the matching count and a round-sampling pool query.

    .venv/bin/python bench/vocabulary_index.py                       # PostgreSQL, 20,000 artefacts
    .venv/bin/python bench/vocabulary_index.py --sqlite -n 5000
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/concord_bench_vocab"
_DL_TERMS = (
    "training trained trains loss nan gradient gradients exploding vanishing tensor tensors shape shapes "
    "layer layers dense conv2d lstm dropout batch epoch epochs optimizer adam learning rate overfitting "
    "gpu cuda memory keras tensorflow pytorch model models accuracy validation inference checkpoint"
)
DL_TERMS = _DL_TERMS.split()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--artefacts", type=int, default=20_000)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--sqlite", action="store_true", help="use a temporary SQLite file instead")
    parser.add_argument("--batch-size", type=int, default=None, help="artefacts per index transaction")
    parser.add_argument("--words", type=int, default=120, help="words per artefact body (about)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL bench database")
    return parser.parse_args(argv)


# --- the database ------------------------------------------------------------------------------


def _admin(url: str):
    import psycopg2

    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True
    return conn


def _name(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def drop_database(url: str) -> None:
    conn = _admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [_name(url)])
            cur.execute(f'DROP DATABASE IF EXISTS "{_name(url)}"')
    finally:
        conn.close()


def create_database(url: str) -> None:
    drop_database(url)
    conn = _admin(url)
    try:
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{_name(url)}"')
    finally:
        conn.close()


def setup(args) -> str:
    if args.sqlite:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='concord-vocab-')}/bench.sqlite3"
    else:
        url = args.database_url
        create_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)  # the bench calls services directly; no task is queued
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "concord.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.apps import apps
    from django.conf import settings
    from django.core.management import call_command

    # The schema straight from the models (as the tests' --nomigrations): apps without
    # migrations yet would otherwise be created before the auth tables they point to.
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
    call_command("migrate", run_syncdb=True, verbosity=0)
    return url


# --- seeding -------------------------------------------------------------------------------------


def make_words(rng: random.Random, n: int = 6000) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "se", "di", "pa", "gu", "ber", "zen", "tor", "lin"]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def seed(n: int, words_per_body: int, rng: random.Random):
    from django.contrib.auth import get_user_model

    from collection.models import Artefact
    from core.models import Membership, Project

    vocabulary = make_words(rng)
    for word in DL_TERMS:  # the deep-learning words at random ranks: some frequent, most rare
        vocabulary.insert(rng.randrange(len(vocabulary)), word)
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]  # Zipf-like: a few words are frequent
    project = Project.objects.create(name="Vocabulary bench", slug="bench-vocab")
    users = [get_user_model().objects.create(username=f"bench-eva{i}") for i in range(3)]
    for user in users:
        Membership.objects.create(project=project, user=user, is_lead=True, is_evaluator=True)

    def text(k):
        return " ".join(rng.choices(vocabulary, weights=weights, k=k))

    batch = []
    for i in range(n):
        body = f"<p>{text(words_per_body // 2)}</p><pre><code>{text(10)}</code></pre><p>{text(words_per_body // 2)}</p>"
        batch.append(
            Artefact(project=project, url=f"https://stackoverflow.com/q/{i}", title=text(8).capitalize(), body=body)
        )
        if len(batch) == 2000:
            Artefact.objects.bulk_create(batch)
            batch = []
    Artefact.objects.bulk_create(batch)
    return project, users


# --- measuring ---------------------------------------------------------------------------------


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    return result, elapsed


def main(argv=None) -> None:
    args = parse_args(argv)
    url = setup(args)
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from collection.models import Artefact, ArtefactTerm, VocabularyTerm
    from collection.selectors import (
        artefacts_matching_vocabulary,
        matching_artefact_ids,
        vocabulary_summary,
        vocabulary_terms,
    )
    from collection.services import INDEX_BATCH, term_flag, vocabulary_index
    from collection.vocabulary import stem
    from labelling.models import RoundItem

    rng = random.Random(args.seed)
    vendor = connection.vendor
    print(f"vocabulary bench on {vendor} ({url.split('@')[-1]}), {args.artefacts:,} artefacts", flush=True)
    (project, users), seconds = timed("seed", lambda: seed(args.artefacts, args.words, rng))
    print(f"  seeded in {seconds:.1f} s", flush=True)
    if vendor == "postgresql":  # statistics as autovacuum keeps them after an import
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    batch_size = args.batch_size or INDEX_BATCH

    report, seconds = timed("build", lambda: vocabulary_index(project=project, batch_size=batch_size))
    rows = ArtefactTerm.objects.count()
    print(
        f"  build:   {seconds:6.2f} s  {report['artefacts'] / seconds:8,.0f} artefacts/s  "
        f"{rows:,} index rows ({rows / seconds:,.0f}/s), {report['terms']:,} terms",
        flush=True,
    )
    report, seconds = timed("refresh", lambda: vocabulary_index(project=project, batch_size=batch_size))
    print(
        f"  refresh: {seconds:6.2f} s  {report['artefacts'] / seconds:8,.0f} artefacts/s  "
        f"(nothing changed: +{report['rows_added']} -{report['rows_removed']} rows)",
        flush=True,
    )
    edited = list(Artefact.objects.filter(project=project).order_by("?")[: max(1, args.artefacts // 100)])
    for a in edited:
        a.body = f"<p>exploding gradient after {rng.choice(DL_TERMS)} with {rng.choice(DL_TERMS)}</p>"
    Artefact.objects.bulk_update(edited, ["body"], batch_size=1000)
    report, seconds = timed("edit", lambda: vocabulary_index(project=project, batch_size=batch_size))
    print(
        f"  refresh after editing {len(edited)}: {seconds:6.2f} s  "
        f"(+{report['rows_added']:,} -{report['rows_removed']:,} rows, {report['terms_pruned']} terms dropped)",
        flush=True,
    )

    # Members flag the deep-learning words relevant (two of three agree) and 70 frequent made-up words irrelevant.
    relevant = VocabularyTerm.objects.filter(project=project, stem__in={stem(w) for w in DL_TERMS})
    for term_id in relevant.values_list("id", flat=True):
        for user in users[:2]:
            term_flag(term_id=term_id, user=user, verdict="relevant")
    others = vocabulary_terms(project=project, user=users[0]).exclude(pk__in=relevant.values("pk"))
    for term_id in others.values_list("id", flat=True)[:70]:
        term_flag(term_id=term_id, user=users[rng.randrange(3)], verdict="irrelevant")

    def page():
        qs = vocabulary_terms(project=project, user=users[2], status="", mine="unflagged")
        return qs.count(), list(qs[:50])

    def pool():
        base = Artefact.objects.filter(project=project).exclude(round_items__isnull=False)
        matching = matching_artefact_ids(project=project)  # as round_create(vocabulary_only=True)
        return len(list(base.filter(id__in=matching).values_list("id", flat=True)))

    assert not RoundItem.objects.exists()
    for label, fn in [
        ("term page (count + 50 rows)", page),
        ("summary (3 aggregates)", lambda: vocabulary_summary(project=project)),
        ("matching count", lambda: artefacts_matching_vocabulary(project=project).count()),
        ("sampling pool ids", pool),
    ]:
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            result, seconds = timed(label, fn)
        shown = result if isinstance(result, int) else ""
        if isinstance(result, dict):
            shown = f"{result['matching']:,} matching of {result['artefacts']:,}"
        print(f"  {label:30s} {1000 * seconds:8.1f} ms  {len(queries)} queries  {shown}", flush=True)

    connection.close()
    if args.sqlite:
        shutil.rmtree(Path(url.removeprefix("sqlite:///")).parent, ignore_errors=True)
    elif not args.keep:
        drop_database(url)


if __name__ == "__main__":
    main()
