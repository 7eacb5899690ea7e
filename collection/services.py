"""Writes for the relevance vocabulary: building the stem index, flagging terms, index jobs.

The index is derived data (every row can be recomputed from the artefacts), so a
build runs in batches of artefacts, one short transaction each, instead of one long
transaction: a page can show its progress, other writers are never blocked for long,
and an interrupted build is finished by the next one. A build is idempotent: it reads
again only artefacts whose text changed (a digest per artefact), adds the (artefact,
term) rows that are missing and removes those whose words left the artefact; run twice,
the second run writes nothing but the counts.
"""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from collection import tasks
from collection.formats.common import ExchangeFile, FormatError
from collection.formats.detect import read_exchange
from collection.formats.rounds import label_fields
from collection.importers.artefacts import artefacts_import, mapping_from_options
from collection.importers.headers import artefact_header_score, guess_artefact_mapping
from collection.importers.reading import (
    Row,
    Sheet,
    Table,
    cell_text,
    decode_text,
    detect_format,
    guess_delimiter,
    read_table,
)
from collection.mining.csvlines import MODES as CSV_MODES
from collection.mining.csvlines import CsvMalformed, check_csv
from collection.mining.csvlines import read_csv as read_csv_checked
from collection.mining.github import (
    KIND_COMMIT,
    KIND_ISSUE,
    KIND_PULL_REQUEST,
    KIND_REPOSITORY,
    GitHubMiner,
    github_client,
)
from collection.mining.http import HttpError
from collection.mining.posts import PostRules, Question, select_posts
from collection.mining.repository_files import (
    RepositoryFileError,
    from_github_object,
    full_name,
    read_repository_file,
)
from collection.mining.rules import RepositoryFacts, RepositoryRules, exclusion_reason
from collection.mining.stackexchange import (
    QuotaExhausted,
    StackOverflowMiner,
    question_from_api,
    stackexchange_client,
)
from collection.models import (
    Artefact,
    ArtefactIndexState,
    ArtefactTerm,
    CollectionSettings,
    MiningRun,
    Repository,
    TermFlag,
    VocabularyBatch,
    VocabularyTerm,
)
from collection.selectors import (
    collection_settings,
    repositories,
    repository_facts,
    repository_rules,
    vocabulary_above_tail,
)
from collection.vocabulary import artefact_text, example_word, stem, stemmed_words, text_digest, tokenise
from core import csv_safe
from core.errors import Conflict, DomainError, InvalidInput, NotFound, error_naming_file
from core.jobs import job_enqueue, job_execute, job_input, job_reading, job_step, job_upload_start
from core.models import Job, Membership, Project
from core.progress import Progress
from core.selectors import membership_require
from core.text import sanitise_html
from core.uploads import CSV_SUFFIXES, check_upload

logger = logging.getLogger(__name__)

INDEX_BATCH = 500  # artefacts per transaction
IN_CHUNK = 900  # ids per IN (...) list: SQLite caps bound variables at 999 in Django
WRITE_BATCH = 5000
VACUUM_AFTER = 50_000  # index rows written by a build before PostgreSQL's tables are vacuumed
STALE_AFTER = timedelta(minutes=30)  # an index job with no finish after this long is taken as abandoned
FLAG_VERDICTS = (*TermFlag.Verdict.values, "clear")


def _chunks(values: list, size: int = IN_CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- the index ----------------------------------------------------------------------------


def vocabulary_index(
    *, project: Project, batch_size: int = INDEX_BATCH, progress: Progress | None = None, full: bool = False
) -> dict:
    """Build or refresh the project's stem index and each term's artefact count.

    Only artefacts whose title or body changed since they were last read (or never
    read) are tokenised again; `full` reads every artefact. Returns a report:
    artefacts (all) and read, terms (total, new, pruned: no artefact and no flag
    left), index rows added and removed. Safe to run again at any time and
    alongside itself (inserts skip rows that exist already)."""
    if batch_size < 1:
        raise InvalidInput("The batch size must be at least 1.", field="batch_size")
    total = Artefact.objects.filter(project=project).count()
    term_ids: dict[str, int] = dict(VocabularyTerm.objects.filter(project=project).values_list("stem", "id"))
    report = {"artefacts": 0, "read": 0, "terms_new": 0, "rows_added": 0, "rows_removed": 0}
    keep = collection_settings(project=project).keep_stop_words
    if progress:
        progress(0, total, f"Indexing {total} artefacts…")
    last_id = 0
    while True:
        batch = list(
            Artefact.objects.filter(project=project, id__gt=last_id)
            .order_by("id")
            .values_list("id", "title", "body", "metadata__body_format")[:batch_size]
        )
        if not batch:
            break
        with transaction.atomic():
            changed = _changed(batch, full, keep)
            new_terms, added, removed = _index_batch(project, changed, term_ids, keep)
        report["read"] += len(changed)
        report["terms_new"] += new_terms
        report["rows_added"] += added
        report["rows_removed"] += removed
        report["artefacts"] += len(batch)
        last_id = batch[-1][0]
        if progress:
            done = report["artefacts"]
            progress(min(done, total), max(total, done), f"Indexed {done} of {max(total, done)} artefacts")
    with transaction.atomic():
        report["terms_pruned"] = _refresh_counts(project)
    report["terms"] = VocabularyTerm.objects.filter(project=project).count()
    if not connection.in_atomic_block:  # VACUUM cannot run in a transaction
        _vacuum_after_bulk(report)
    return report


def _changed(batch: list[tuple], full: bool, keep_stop_words: bool = False) -> list[tuple]:
    """The artefacts of the batch whose text differs from what the index last read; their new digests are stored."""
    digests = {a: text_digest(title, body, fmt, keep_stop_words) for a, title, body, fmt in batch}
    known = {}
    if not full:
        for ids in _chunks(list(digests)):
            known.update(ArtefactIndexState.objects.filter(artefact_id__in=ids).values_list("artefact_id", "digest"))
    changed = [row for row in batch if known.get(row[0]) != digests[row[0]]]
    ArtefactIndexState.objects.bulk_create(
        [ArtefactIndexState(artefact_id=a, digest=digests[a]) for a, *_ in changed],
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["artefact"],
        update_fields=["digest", "indexed_at"],
    )
    return changed


def _index_batch(
    project: Project, batch: list[tuple], term_ids: dict[str, int], keep_stop_words: bool = False
) -> tuple[int, int, int]:
    """Index one batch of (id, title, body, body format); `term_ids` (stem → id) is kept up to date."""
    if not batch:
        return 0, 0, 0
    wanted: dict[int, set[str]] = {}
    forms: dict[str, Counter] = {}  # surface forms of stems new to the project, for their example word
    for artefact_id, title, body, body_format in batch:
        found = wanted[artefact_id] = set()
        for s, word, n in stemmed_words(artefact_text(title, body, body_format), keep_stop_words=keep_stop_words):
            found.add(s)
            if s not in term_ids:
                forms.setdefault(s, Counter())[word] += n

    new_terms = 0
    if forms:
        # In stem order, as every write here is in key order: simultaneous builds wait, never deadlock.
        new = [VocabularyTerm(project=project, stem=s, example=example_word(forms[s])) for s in sorted(forms)]
        created = VocabularyTerm.objects.bulk_create(
            new,
            batch_size=WRITE_BATCH,
            ignore_conflicts=True,  # another build may have added the same stems a moment ago
        )
        new_terms = len(created)
        for stems in _chunks(sorted(forms)):
            term_ids.update(VocabularyTerm.objects.filter(project=project, stem__in=stems).values_list("stem", "id"))

    desired = {(a, term_ids[s]) for a, stems in wanted.items() for s in stems}
    existing: dict[tuple[int, int], int] = {}
    for ids in _chunks(list(wanted)):
        rows = ArtefactTerm.objects.filter(artefact_id__in=ids).values_list("id", "artefact_id", "term_id")
        existing.update(((a, t), row_id) for row_id, a, t in rows)
    stale = sorted(row_id for pair, row_id in existing.items() if pair not in desired)
    for ids in _chunks(stale):
        ArtefactTerm.objects.filter(id__in=ids).delete()
    missing = sorted(pair for pair in desired if pair not in existing)
    _insert_rows(missing)
    return new_terms, len(missing), len(stale)


def _insert_rows(pairs: list[tuple[int, int]]) -> None:
    """Insert (artefact_id, term_id) index rows, skipping any that exist (a concurrent build).

    Plain multi-row INSERTs: building a model instance per row cost four times the
    database's own work (see bench/vocabulary_index.py)."""
    if not pairs:
        return
    table = connection.ops.quote_name(ArtefactTerm._meta.db_table)
    per_statement = IN_CHUNK // 2 if connection.vendor == "sqlite" else WRITE_BATCH
    with connection.cursor() as cursor:
        for chunk in _chunks(pairs, per_statement):
            values = ", ".join(["(%s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} (artefact_id, term_id) VALUES {values} ON CONFLICT DO NOTHING",
                [v for pair in chunk for v in pair],
            )


def _refresh_counts(project: Project) -> int:
    """Set each term's artefact count from one grouped COUNT (writing only counts that changed);
    delete terms with no artefact and no flag. Returns how many terms were deleted."""
    counts = dict(
        ArtefactTerm.objects.filter(term__project=project)
        .order_by()
        .values("term")
        .annotate(n=Count("*"))
        .values_list("term", "n")
    )
    changed = [
        VocabularyTerm(id=term_id, artefact_count=counts.get(term_id, 0))
        for term_id, count in VocabularyTerm.objects.filter(project=project).values_list("id", "artefact_count")
        if counts.get(term_id, 0) != count
    ]
    VocabularyTerm.objects.bulk_update(changed, ["artefact_count"], batch_size=1000)
    pruned, _ = (
        VocabularyTerm.objects.filter(project=project, artefact_count=0)
        .exclude(Exists(TermFlag.objects.filter(term=OuterRef("pk"))))
        .delete()
    )
    return pruned


def _vacuum_after_bulk(report: dict) -> None:
    """After a large build on PostgreSQL: fresh statistics, so that the matching and sampling
    queries are planned for the real table sizes, and a visibility map, so that they read
    the (term, artefact) index alone, without waiting for autovacuum to get round to it."""
    if connection.vendor == "postgresql" and report["rows_added"] + report["rows_removed"] >= VACUUM_AFTER:
        with connection.cursor() as cursor:
            for model in (ArtefactTerm, VocabularyTerm, ArtefactIndexState):
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")


# --- index jobs (run by collection.tasks.vocabulary_index_task) ---------------------------------


def vocabulary_index_start(*, project: Project, user) -> Job:
    """Queue an index build for the project (leads), or return the one already waiting or running.

    The task is sent after commit; with eager Celery (no REDIS_URL) it runs right then."""
    membership_require(project=project, user=user, roles=("lead",))
    with transaction.atomic():
        # Serialises starts per project, so that two leads' clicks queue one job.
        Project.objects.select_for_update(no_key=True).filter(pk=project.pk).first()
        active = (
            Job.objects.filter(
                project=project,
                kind=Job.Kind.VOCABULARY_INDEX,
                status__in=(Job.Status.PENDING, Job.Status.RUNNING),
            )
            .order_by("-id")
            .first()
        )
        if active is not None:
            if active.created_at > timezone.now() - STALE_AFTER:
                return active
            Job.objects.filter(pk=active.pk).update(
                status=Job.Status.FAILED,
                error="Abandoned: no worker finished it within 30 minutes.",
                finished_at=timezone.now(),
            )
        job = Job.objects.create(
            project=project,
            kind=Job.Kind.VOCABULARY_INDEX,
            created_by=user,
            task_id=str(uuid.uuid4()),
            message="Waiting for a worker…",
        )

        def send(job_id=job.id, task_id=job.task_id):
            tasks.vocabulary_index_task.apply_async(args=[job_id], task_id=task_id)

        transaction.on_commit(send)
    return job


def vocabulary_index_job_run(*, job_id: int) -> str:
    """Run a queued index job, storing its progress on the Job row; returns the job's final status.

    Idempotent: a finished job is left as it is (a retried or duplicated task does
    nothing); an interrupted one is simply run again, as the build itself is."""
    job = Job.objects.select_related("project").filter(pk=job_id, kind=Job.Kind.VOCABULARY_INDEX).first()
    if job is None:
        return "missing"
    if job.is_finished:
        return job.status
    jobs = Job.objects.filter(pk=job.pk)
    jobs.update(status=Job.Status.RUNNING, started_at=timezone.now(), message="Indexing…")

    def progress(done: int, total: int, message: str) -> None:
        jobs.update(progress=min(99, int(100 * done / total)) if total else 0, message=message[:300])

    try:
        report = vocabulary_index(project=job.project, progress=progress)
    except Exception as error:  # recorded on the job for the page; the worker keeps going
        logger.exception("vocabulary index job %s failed", job.pk)
        message = str(error)[:2000] or type(error).__name__
        jobs.update(status=Job.Status.FAILED, error=message, finished_at=timezone.now())
        return Job.Status.FAILED
    jobs.update(
        status=Job.Status.DONE,
        progress=100,
        report=report,
        message=f"Indexed {report['artefacts']} artefacts: {report['terms']} terms.",
        finished_at=timezone.now(),
    )
    return Job.Status.DONE


# --- flags ----------------------------------------------------------------------------------


def term_flag(*, term_id: int, user, verdict: str, project: Project | None = None) -> VocabularyTerm:
    """Record the member's verdict on a term ("relevant" or "irrelevant"), or remove it ("clear").

    Any active member may flag; others get NotFound (the term's project stays invisible).
    With `project`, a term of another project is NotFound too. One flag per member and
    term: flagging again changes the verdict."""
    try:
        term_id = int(term_id)
    except (TypeError, ValueError):
        raise InvalidInput("term_id must be a whole number.", field="term_id") from None
    term = VocabularyTerm.objects.select_related("project").filter(pk=term_id).first()
    if term is None or (project is not None and term.project_id != project.pk):
        raise NotFound("No such term in this project.", field="term_id")
    membership_require(project=term.project, user=user)
    verdict = (verdict or "").strip().lower()
    if verdict not in FLAG_VERDICTS:
        raise InvalidInput(f"Unknown verdict {verdict!r}; choose relevant, irrelevant or clear.", field="verdict")
    flags = TermFlag.objects.filter(term=term, user=user)
    with transaction.atomic():
        if verdict == "clear":
            flags.delete()
        elif not flags.update(verdict=verdict, updated_at=timezone.now()):
            try:
                with transaction.atomic():
                    TermFlag.objects.create(term=term, user=user, verdict=verdict)
            except IntegrityError:  # the same member's simultaneous flag won the insert: change it
                flags.update(verdict=verdict, updated_at=timezone.now())
    return term


# --- artefact imports from files -------------------------------------------------------------


# Another tool's export (Label Studio, doccano): its task columns are artefact fields by their last
# segment's name (`data.text` -> body); the rest is metadata. Columns that look like labels or
# annotations are never mapped unless asked for by name (`--map COLUMN=FIELD`): evaluators see
# artefact fields while labelling. The answers themselves travel as ratings (an imported round).
EXCHANGE_GUESSES = {
    "title": "title",
    "text": "body",
    "body": "body",
    "content": "body",
    "description": "body",
    "kind": "kind",
    "framework": "framework",
}


def exchange_read(
    *, data: bytes, filename: str = "", tool: str | None = None, label_fields: list[str] | None = None, evaluator=""
) -> ExchangeFile | None:
    """The file as another tool's export, or None when it is no known tool's (then it is read as columns)."""
    try:
        return read_exchange(filename, data, tool=tool, label_fields=label_fields, evaluator=evaluator)
    except FormatError as exc:
        raise InvalidInput(str(exc), field="file") from exc


def exchange_table(exchange: ExchangeFile) -> Table:
    """The tasks as a sheet: `link` (the task's URL or stable identifier), then the task's columns."""
    header = ["link", *exchange.columns]
    rows = [Row(number=r.number, values=[r.link, *(r.values.get(c) for c in exchange.columns)]) for r in exchange.rows]
    sheet = Sheet(name=f"{exchange.tool} {exchange.format}", header=header, header_row=1, rows=rows)
    return Table(format=f"{exchange.tool}-{exchange.format}", sheets=[sheet])


def exchange_mapping(exchange: ExchangeFile, map_options: list[str] | dict | None = None) -> dict[int, str]:
    """{column index: field} of `exchange_table`: guessed, flagged columns left out, then `map_options` applied."""
    mapping = {0: "url"}
    for index, column in enumerate(exchange.columns, start=1):
        if column in exchange.flagged or column == exchange.link_column:
            continue
        guess = EXCHANGE_GUESSES.get(column.rsplit(".", 1)[-1].casefold(), "metadata")
        if guess != "metadata" and guess in mapping.values():
            guess = "metadata"
        mapping[index] = guess
    if map_options:
        explicit = mapping_from_options(["link", *exchange.columns], map_options)
        named = _named_columns(["link", *exchange.columns], map_options)
        for index in named:
            if index in explicit:
                if explicit[index] != "metadata":
                    mapping = {i: f for i, f in mapping.items() if f != explicit[index] or i == index}
                mapping[index] = explicit[index]
            else:
                mapping.pop(index, None)
    return mapping


def _named_columns(header: list[str], options: list[str] | dict) -> list[int]:
    pairs = options.items() if isinstance(options, dict) else [o.rsplit("=", 1) for o in options if "=" in o]
    out = []
    for column, _ in pairs:
        column = column.strip()
        if column.isdecimal() and 1 <= int(column) <= len(header):
            out.append(int(column) - 1)
        elif column in header:
            out.append(header.index(column))
    return out


def exchange_summary(exchange: ExchangeFile, mapping: dict[int, str]) -> dict:
    header = ["link", *exchange.columns]
    mapped_flagged = [header[i] for i, f in mapping.items() if header[i] in exchange.flagged and f != "ignore"]
    return {
        "tool": exchange.tool,
        "format": exchange.format,
        "tasks": len(exchange.rows),
        "links_made": sum(1 for r in exchange.rows if r.link_synthesised),
        "flagged": exchange.flagged,
        "flagged_mapped": mapped_flagged,
        "annotations": len([r for r in exchange.annotations if not r.cancelled]),
        "predictions": len(exchange.predictions),
        "evaluators": exchange.evaluators,
        "label_fields": label_fields(exchange),
        "problems": exchange.problems,
    }


def artefacts_import_preview(*, data: bytes, filename: str = "") -> tuple[Table, dict[int, str], dict | None]:
    """(table, guessed mapping, what another tool's export holds or None) of an upload, for the mapping page.

    On the page every column of another tool's export is offered (label-like ones flagged and left
    unmapped, so the lead decides); the job reads the file the same way (`label_fields=[]`)."""
    exchange = exchange_read(data=data, filename=filename, label_fields=[])
    if exchange is None:
        table = read_table(data, filename, header_score=artefact_header_score)
        return table, guess_artefact_mapping(table.first.header), None
    mapping = exchange_mapping(exchange)
    summary = exchange_summary(exchange, mapping)
    ratings = exchange_read(data=data, filename=filename)
    summary.update(
        annotations=len([r for r in ratings.annotations if not r.cancelled]),
        predictions=len(ratings.predictions),
        evaluators=ratings.evaluators,
    )
    return exchange_table(exchange), mapping, summary


def artefacts_import_file(
    *,
    project: Project,
    data: bytes,
    filename: str = "",
    map_options: list[str] | dict | None = None,
    mapping: dict[int, str] | None = None,
    progress: Progress | None = None,
    framework: str = "",
    on_malformed: str = "keep",
    tool: str | None = None,
    label_fields: list[str] | None = None,
) -> dict:
    """Import artefacts from a file; `mapping` ({column index: field}) or `map_options` (column=field).

    A Label Studio or doccano export is recognised (or forced by `tool`): its tasks become artefacts and
    the report's `exchange` says what else it holds (annotations, predictions, flagged columns); its
    annotations are never artefact fields (see taxonomy.round_import.exchange_round_import).
    A CSV line with a quote never closed is reported with its line number and kept whole
    (the quote read as a character) or skipped by `on_malformed` ("error" refuses the file)."""
    exchange = exchange_read(data=data, filename=filename, tool=tool, label_fields=label_fields)
    if exchange is not None:
        table = exchange_table(exchange)
        if mapping is None:
            mapping = exchange_mapping(exchange, map_options)
        report = artefacts_import(
            project=project, table=table, mapping=mapping, progress=progress, filename=filename, framework=framework
        )
        report["exchange"] = exchange_summary(exchange, mapping)
        return report
    if on_malformed not in CSV_MODES:
        raise InvalidInput(f"on_malformed must be one of {', '.join(CSV_MODES)}.", field="malformed")
    data, quote_problems = _unclosed_quotes(data, filename, on_malformed)
    table = read_table(data, filename, header_score=artefact_header_score)
    if mapping is None:
        mapping = mapping_from_options(table.first.header, map_options)
    report = artefacts_import(
        project=project,
        table=table,
        mapping=mapping,
        progress=progress,
        filename=filename,
        framework=framework,
        on_malformed=on_malformed,
    )
    report["malformed_lines"] = quote_problems
    return report


def _unclosed_quotes(data: bytes, filename: str, on_malformed: str) -> tuple[bytes, list[dict]]:
    """A comma CSV with malformed lines (more cells than columns; a quote never closed, which the csv module
    would let swallow the rest of the file into one cell) rewritten line by line: each faulty line kept
    whole or skipped, and reported with its line number ("error" refuses the file)."""
    if detect_format(data, filename) != "csv":
        return data, []
    text, _ = decode_text(data)
    if guess_delimiter(text) != ",":
        return data, []
    try:
        problems = check_csv(text)
    except ValueError:  # no header: the reader says so in its own words
        return data, []
    if not problems:
        return data, []
    if on_malformed == "error":
        raise InvalidInput(str(CsvMalformed(problems)), field="file")
    table = read_csv_checked(text, on_malformed=on_malformed)
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\n")
    writer.writerow(table.header)
    for _, row in table.rows:
        writer.writerow([row[h] for h in table.header])
    kept = "kept whole" if on_malformed == "keep" else "skipped"
    return out.getvalue().encode(), [{"line": p.line, "reason": f"{p.message}; {kept}"} for p in problems]


def artefacts_import_job_create(*, project: Project, user, input_name: str, input_data: bytes) -> Job:
    """A pending artefact import of a lead: the upload's size, ZIP and CSV shape are checked now (a 4xx, no
    job); the file is read in Celery, whose preview step stores the mapping page's preview on the job (or
    fails the job, naming a file it cannot read)."""
    return job_upload_start(
        project=project,
        user=user,
        kind=Job.Kind.IMPORT_ARTEFACTS,
        filename=input_name,
        data=input_data,
        upload_kind="artefacts",
        task=tasks.preview_artefacts_task,
    )


PREVIEW_ROWS = 20
PREVIEW_CELL = 300  # characters of a cell kept for the preview (the page shows 80)
PREVIEW_NOTES = 20  # repaired rows and unreadable rows listed


def artefacts_import_preview_summary(*, data: bytes, filename: str = "") -> dict:
    """What the mapping page shows of an upload, as JSON: its header, first rows and row count, the guessed
    {column index: field}, the rows repaired or unreadable, and what another tool's export holds (or None)."""
    try:
        table, guessed, exchange = artefacts_import_preview(data=data, filename=filename)
    except DomainError as exc:
        raise error_naming_file(exc, filename) from exc
    sheet = table.first
    preview = {
        "header": [str(h or "") for h in sheet.header],
        "rows": [[cell_text(v)[:PREVIEW_CELL] for v in row.values] for row in sheet.rows[:PREVIEW_ROWS]],
        "total_rows": len(sheet.rows),
        "mapping": {str(i): field for i, field in guessed.items()},
        "repaired": sorted(table.repairs.items())[:PREVIEW_NOTES],
        "problems": table.problems[:PREVIEW_NOTES],
        "exchange": exchange,
    }
    return json.loads(json.dumps(preview, default=str))  # stored on the job: JSON through and through


def _artefacts_preview_work(job: Job) -> dict:
    data = job_input(job)
    return artefacts_import_preview_summary(data=data, filename=job.input_name)


def artefacts_import_preview_job_run(*, job_id: int) -> str:
    """The preview step of a pending artefact import: read once, stored in `job.params["preview"]`."""
    return job_step(job_id=job_id, key="preview", work=_artefacts_preview_work, message="Reading the file…")


def artefacts_import_job_set_mapping(*, job: Job, user, mapping: dict[int, str]) -> Job:
    """Store the lead's column mapping and send the import to Celery."""
    membership_require(project=job.project, user=user, roles=("lead",))
    if job.status != Job.Status.PENDING:
        raise InvalidInput("This import has started already.", field="mapping")
    if "preview" not in (job.params or {}):
        raise Conflict("The file is still being read; map its columns once its preview is shown.", field="mapping")
    if "url" not in mapping.values():
        raise InvalidInput("Map one column to url (the artefact's link).", field="mapping")
    job.params = {**job.params, "mapping": {str(k): v for k, v in mapping.items()}}
    job.save(update_fields=["params"])
    return job_enqueue(job=job, task=tasks.import_artefacts_task)


def _artefacts_import_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    mapping = (job.params or {}).get("mapping")
    mapping = {int(k): v for k, v in mapping.items()} if mapping else None
    data = job_input(job)
    report = artefacts_import_file(
        project=job.project, data=data, filename=job.input_name, mapping=mapping, progress=progress, label_fields=[]
    )
    return report, None


def artefacts_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_artefacts_import_work, progress=progress)


# --- repositories (the study's GitHub selection) ------------------------------------------------

_FACT_FIELDS = (
    "is_fork",
    "has_open_issues",
    "open_issues",
    "contributors",
    "commits",
    "stars",
    "forks",
    "relevant_issues",
    "relevant_commits",
)


def collection_settings_ensure(*, project: Project) -> CollectionSettings:
    return CollectionSettings.objects.get_or_create(project=project)[0]


def _apply_rules(repo: Repository, rules: RepositoryRules) -> None:
    """A repository's selection from the rules, unless a person decided it."""
    if repo.excluded_by_hand:
        repo.selected = False
        return
    reason = exclusion_reason(repository_facts(repo), rules)
    if repo.included_by_hand:
        repo.selected, repo.exclusion_reason = True, ""
    else:
        repo.selected, repo.exclusion_reason = not reason, reason


def repositories_apply_rules(*, project: Project, framework: str = "") -> int:
    """Re-evaluate every repository against the project's rules; returns how many changed."""
    rules = repository_rules(project=project)
    changed = []
    for repo in repositories(project=project, framework=framework):
        before = (repo.selected, repo.exclusion_reason)
        _apply_rules(repo, rules)
        if (repo.selected, repo.exclusion_reason) != before:
            changed.append(repo)
    Repository.objects.bulk_update(changed, ["selected", "exclusion_reason"], batch_size=500)
    return len(changed)


def repository_rules_set(*, project: Project, user, rules: dict) -> RepositoryRules:
    """Store the project's rules (leads) and re-evaluate its repositories."""
    membership_require(project=project, user=user, roles=("lead",))
    try:
        parsed = RepositoryRules.from_dict(rules)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="rules") from None
    with transaction.atomic():
        settings_row = collection_settings_ensure(project=project)
        settings_row.repository_rules = parsed.as_dict()
        settings_row.save(update_fields=["repository_rules"])
        repositories_apply_rules(project=project)
    return parsed


def _facts_to_fields(facts: RepositoryFacts) -> dict:
    fields = {name: getattr(facts, name) for name in _FACT_FIELDS}
    fields["top_contributor"] = facts.top_contributor[:200]
    fields["comment"] = facts.comment[:500]
    if facts.fetched_at is not None:
        fields["fetched_at"] = facts.fetched_at
    return fields


def repositories_import(
    *, project: Project, framework: str, filename: str, data: bytes, on_malformed: str = "error"
) -> dict:
    """Import the study's repository CSV or a JSON list of GitHub repository objects; re-importing updates by URL.

    A repository the rules keep but the file marks `to_select` false is excluded by hand, with the
    file's comment as the reason (the study's manual removal, e.g. "Student Project")."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The repository list is not UTF-8 text.", field="file") from None
    try:
        facts, problems = read_repository_file(filename, text, on_malformed=on_malformed)
    except CsvMalformed as exc:
        raise InvalidInput(str(exc), field="file") from None
    except (RepositoryFileError, ValueError) as exc:
        raise InvalidInput(str(exc), field="file") from None
    framework = (framework or "").strip()[:60]
    rules = repository_rules(project=project)
    created = updated = selected = 0
    with transaction.atomic():
        existing = {r.url: r for r in Repository.objects.filter(project=project, url__in=[f.url for f in facts])}
        for fact in facts:
            repo = existing.get(fact.url) or Repository(project=project, url=fact.url)
            is_new = repo.pk is None
            for name, value in _facts_to_fields(fact).items():
                setattr(repo, name, value)
            if framework:
                repo.framework = framework
            if fact.to_select is False and not exclusion_reason(fact, rules) and not repo.included_by_hand:
                repo.excluded_by_hand = True
                repo.exclusion_reason = (fact.comment or "not selected in the imported list")[:300]
            _apply_rules(repo, rules)
            repo.save()
            created += is_new
            updated += not is_new
            selected += repo.selected
    return {
        "file": filename,
        "project": project.slug,
        "framework": framework,
        "repositories": len(facts),
        "created": created,
        "updated": updated,
        "selected": selected,
        "malformed_lines": [{"line": p.line, "reason": p.message} for p in problems],
    }


def _repository_for_lead(*, project: Project, user, repository_id: int) -> Repository:
    membership_require(project=project, user=user, roles=("lead", "moderator"))
    repo = Repository.objects.filter(project=project, pk=repository_id).first()
    if repo is None:
        raise NotFound("No such repository in this project.", field="repository")
    return repo


def repository_exclude(*, project: Project, user, repository_id: int, reason: str) -> Repository:
    """Exclude a repository by hand (the study's manual removal) with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Give a reason, e.g. Student Project or Code for a book.", field="reason")
    repo = _repository_for_lead(project=project, user=user, repository_id=repository_id)
    repo.excluded_by_hand, repo.included_by_hand = True, False
    repo.selected, repo.exclusion_reason = False, reason[:300]
    repo.save(update_fields=["excluded_by_hand", "included_by_hand", "selected", "exclusion_reason", "updated_at"])
    return repo


def repository_include(*, project: Project, user, repository_id: int, reason: str = "") -> Repository:
    """Include a repository by hand: it is selected whatever the rules say (reason kept in its comment)."""
    repo = _repository_for_lead(project=project, user=user, repository_id=repository_id)
    repo.excluded_by_hand, repo.included_by_hand = False, True
    if reason.strip():
        repo.comment = reason.strip()[:500]
    _apply_rules(repo, repository_rules(project=project))
    repo.save()
    return repo


# --- mining GitHub and Stack Overflow (collection.mining does the talking) ------------------------

_GITHUB_KINDS = {
    KIND_ISSUE: Artefact.Kind.GH_ISSUE,
    KIND_PULL_REQUEST: Artefact.Kind.GH_PULL,
    KIND_COMMIT: Artefact.Kind.GH_COMMIT,
}


def _artefact_upsert(*, project: Project, url: str, fields: dict) -> bool:
    """Create or update the artefact at `url`; True when created (a re-delivered record changes nothing)."""
    _, created = Artefact.objects.update_or_create(project=project, url=url[:2000], defaults=fields)
    return created


def _github_artefact_fields(kind: str, record: dict, framework: str) -> dict:
    if kind == KIND_COMMIT:
        body = record["message"]
        metadata = {
            "sha": record["sha"],
            "additions": record["additions"],
            "deletions": record["deletions"],
            "files_changed": record["files_changed"],
            "body_format": "text",
        }
    else:
        body = record["body"]
        metadata = {
            "number": record["number"],
            "state": record["state"],
            "labels": record["labels"],
            "comments": record["comments"],
            "body_format": "markdown",
        }
    metadata.update(repository=record["repository"], created_at=record.get("created_at", ""), source="github")
    return {
        "kind": _GITHUB_KINDS[kind],
        "framework": framework[:60],
        "title": record["title"][:500],
        "body": body,
        "metadata": metadata,
    }


def _repository_from_github(*, project: Project, framework: str, data: dict) -> None:
    facts = from_github_object(data)
    repo = Repository.objects.filter(project=project, url=facts.url).first() or Repository(
        project=project, url=facts.url, framework=framework[:60]
    )
    for name in ("is_fork", "has_open_issues", "open_issues", "contributors", "commits", "stars", "forks"):
        setattr(repo, name, getattr(facts, name))
    repo.fetched_at = timezone.now()
    _apply_rules(repo, repository_rules(project=project))
    repo.save()


def _github_sink(run: MiningRun, counts: Counter):
    project, framework = run.project, run.framework

    def sink(kind: str, record: dict) -> None:
        if kind == KIND_REPOSITORY:
            _repository_from_github(project=project, framework=framework, data=record)
        elif kind == "counts":
            Repository.objects.filter(project=project, url=record["url"]).update(
                relevant_issues=record["relevant_issues"], relevant_commits=record["relevant_commits"]
            )
        else:
            created = _artefact_upsert(
                project=project, url=record["url"], fields=_github_artefact_fields(kind, record, framework)
            )
            counts[f"{kind} created" if created else f"{kind} updated"] += 1

    return sink


def _mining_run_for(*, project: Project, source: str, framework: str, params: dict) -> MiningRun:
    """The unfinished run with the same parameters (to resume), or a new one."""
    run = (
        MiningRun.objects.filter(project=project, source=source, framework=framework, finished=False)
        .order_by("-id")
        .first()
    )
    if run is not None and run.params == params:
        return run
    return MiningRun.objects.create(project=project, source=source, framework=framework, params=params)


def mining_github_prepare(*, project: Project, framework: str, repositories_text: str) -> MiningRun:
    """A GitHub mining run for the repositories listed (URLs or owner/name, one a line, or a study CSV/JSON list)."""
    names = _repository_names(repositories_text)
    if not names:
        raise InvalidInput("No repositories to mine in the list.", field="repos")
    framework = (framework or "").strip()
    if not framework:
        raise InvalidInput("Give the framework (e.g. keras).", field="framework")
    return _mining_run_for(
        project=project, source=MiningRun.Source.GITHUB, framework=framework, params={"repositories": names}
    )


def _repository_names(text: str) -> list[str]:
    text = text.lstrip("\ufeff")
    first = text.lstrip()[:1]
    if first in "[{" and first:
        facts, _ = read_repository_file("repos.json", text)
        return [full_name(f.url) for f in facts]
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if lines and lines[0].split(",")[0].strip().lower() == "project":
        facts, _ = read_repository_file("repos.csv", text, on_malformed="skip")
        return [full_name(f.url) for f in facts]
    names = []
    for line in lines:
        try:
            names.append(full_name(line.split(",")[0]))
        except RepositoryFileError as exc:
            raise InvalidInput(str(exc), field="repos") from None
    return list(dict.fromkeys(names))


def mining_github_run(*, run: MiningRun, progress: Progress | None = None, client=None) -> dict:
    """Mine (or resume mining) the run's repositories into artefacts and repository attributes."""
    counts: Counter = Counter()
    runs = MiningRun.objects.filter(pk=run.pk)
    miner = GitHubMiner(
        client or github_client(),
        sink=_github_sink(run, counts),
        state=run.state,
        save_state=lambda state: runs.update(state=state, updated_at=timezone.now()),
        progress=progress or (lambda done, total, message: None),
    )
    miner.mine(run.params["repositories"])
    report = {
        "run": run.pk,
        "repositories": {
            f"https://github.com/{name}": {
                "relevant_issues": state["relevant_issues"],
                "relevant_commits": state["relevant_commits"],
            }
            for name, state in miner.state["repos"].items()
        },
        "artefacts": dict(sorted(counts.items())),
        "requests": miner.client.http.requests_made,
    }
    runs.update(state=miner.state, report=report, finished=True, updated_at=timezone.now())
    return report


def _stackoverflow_fields(question: Question, tag: str) -> dict:
    return {
        "kind": Artefact.Kind.SO_QUESTION,
        "framework": tag[:60],
        "title": question.title[:500],
        "body": sanitise_html(question.body),
        "tags": question.tags,
        "metadata": {
            "views": question.view_count,
            "score": question.score,
            "accepted_answer_id": question.accepted_answer_id,
            "accepted_answer": sanitise_html(question.answer_body),
            "created_at": question.creation_date,
            "body_format": "html",
            "source": "stackoverflow",
        },
    }


def mining_stackoverflow_prepare(*, project: Project, rules: PostRules, posts_xml: str = "") -> MiningRun:
    params = {**asdict(rules), "excluded_title_words": list(rules.excluded_title_words), "posts_xml": posts_xml}
    return _mining_run_for(project=project, source=MiningRun.Source.STACKOVERFLOW, framework=rules.tag, params=params)


def _stackoverflow_rules(params: dict) -> PostRules:
    keys = ("tag", "excluded_title_words", "accepted_answer", "order", "top")
    values = {k: params[k] for k in keys if k in params}
    values["excluded_title_words"] = tuple(values.get("excluded_title_words", ()))
    return PostRules(**values)


def mining_stackoverflow_run(*, run: MiningRun, progress: Progress | None = None, client=None) -> dict:
    """The study's questions of a tag, from a Posts.xml dump (or .7z) or from the API, stored as artefacts."""
    rules = _stackoverflow_rules(run.params)
    runs = MiningRun.objects.filter(pk=run.pk)
    if run.params.get("posts_xml"):
        questions, stats = select_posts(run.params["posts_xml"], rules)
        scanned = asdict(stats)
    else:
        miner = StackOverflowMiner(
            client or stackexchange_client(),
            rules,
            state=run.state,
            save_state=lambda state: runs.update(state=state, updated_at=timezone.now()),
            progress=lambda page, message: progress(page, page + 1, message) if progress else None,
        )
        questions = miner.run()
        scanned = {"pages": miner.state["next_page"] - 1}
    created = updated = 0
    with transaction.atomic():
        for question in questions:
            if _artefact_upsert(
                project=run.project, url=question.url, fields=_stackoverflow_fields(question, rules.tag)
            ):
                created += 1
            else:
                updated += 1
    report = {"run": run.pk, "questions": len(questions), "created": created, "updated": updated, "scan": scanned}
    runs.update(report=report, finished=True, updated_at=timezone.now())
    return report


class MiningFailed(DomainError):
    status_code = 502


def _mining_job_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    run = MiningRun.objects.select_related("project").get(pk=job.params["run"])
    try:
        if run.source == MiningRun.Source.GITHUB:
            return mining_github_run(run=run, progress=progress), None
        return mining_stackoverflow_run(run=run, progress=progress), None
    except (HttpError, QuotaExhausted, OSError, ET.ParseError, ValueError) as exc:
        # What was mined stays (with its cursors): running the same command again resumes.
        raise MiningFailed(f"{exc} — run the same command again to resume.") from exc


def mining_job_create(*, run: MiningRun, user=None) -> Job:
    """A job for the run (its state lives on the run, so a new job resumes where the last one stopped)."""
    kind = Job.Kind.MINE_GITHUB if run.source == MiningRun.Source.GITHUB else Job.Kind.MINE_STACKOVERFLOW
    job = Job.objects.create(project=run.project, kind=kind, params={"run": run.pk}, created_by=user)
    MiningRun.objects.filter(pk=run.pk).update(job=job)
    return job


def mining_job_start(*, run: MiningRun, user) -> Job:
    """A lead starts (or resumes) a mining run from a page: a job sent to the Celery workers."""
    membership_require(project=run.project, user=user, roles=("lead",))
    return mining_job_enqueue(job=mining_job_create(run=run, user=user))


def mining_job_enqueue(*, job: Job) -> Job:
    return job_enqueue(job=job, task=tasks.mining_task)


def mining_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_mining_job_work, progress=progress)


# --- filling link-only artefacts from the APIs (import_artefacts --fetch) ---------------------------

_SO_QUESTION = re.compile(r"stackoverflow\.com/(?:questions|q)/(\d+)")
_GH_ITEM = re.compile(r"github\.com/([^/]+/[^/]+)/(issues|pull|commit)/([0-9a-fA-F]+)")


def _fill_stackoverflow(by_id: dict[int, Artefact], client) -> int:
    filled = 0
    for item in client.questions(by_id):
        artefact = by_id.get(item.get("question_id"))
        if artefact is None:
            continue
        question = question_from_api(item)
        artefact.title = question.title[:500]
        artefact.body = sanitise_html(question.body)
        artefact.tags = artefact.tags or question.tags
        artefact.metadata = {**artefact.metadata, "views": question.view_count, "score": question.score}
        artefact.metadata["body_format"] = "html"
        artefact.save(update_fields=["title", "body", "tags", "metadata"])
        filled += 1
    return filled


def _fill_github(artefact: Artefact, match: re.Match, client) -> None:
    name, what, ref = match.groups()
    if what == "commit":
        data = client.commit(name, ref)
        message = (data.get("commit") or {}).get("message") or ""
        artefact.title, artefact.body = message.split("\n", 1)[0][:500], message
        artefact.metadata = {**artefact.metadata, "body_format": "text", "sha": data.get("sha", ref)}
    else:
        data = client.issue(name, int(ref))
        artefact.title, artefact.body = (data.get("title") or "")[:500], data.get("body") or ""
        artefact.metadata = {**artefact.metadata, "body_format": "markdown", "state": data.get("state", "")}
    artefact.save(update_fields=["title", "body", "metadata"])


def artefacts_fetch_missing(
    *,
    project: Project,
    urls: list[str] | None = None,
    github=None,
    stackexchange=None,
    progress: Progress | None = None,
) -> dict:
    """Fill title and body of link-only artefacts (neither title nor body) from the GitHub and Stack Exchange APIs."""
    qs = Artefact.objects.filter(project=project, title="", body="")
    if urls is not None:
        qs = qs.filter(url__in=urls)
    questions: dict[int, Artefact] = {}
    github_items: list[tuple[Artefact, re.Match]] = []
    for artefact in qs:
        if so := _SO_QUESTION.search(artefact.url):
            questions[int(so.group(1))] = artefact
        elif gh := _GH_ITEM.search(artefact.url):
            github_items.append((artefact, gh))
    filled = 0
    try:
        if questions:
            filled += _fill_stackoverflow(questions, stackexchange or stackexchange_client())
        github = github or (github_client() if github_items else None)
        for i, (artefact, match) in enumerate(github_items, start=1):
            _fill_github(artefact, match, github)
            filled += 1
            if progress:
                progress(i, len(github_items), "fetching from GitHub")
    except (HttpError, QuotaExhausted, OSError) as exc:
        raise MiningFailed(f"Fetching stopped after {filled} artefacts: {exc}") from exc
    return {"link_only": len(questions) + len(github_items), "filled": filled}


# --- the vocabulary workflow: settings, batches, meeting, word lists ---------------------------------

FINAL_VERDICTS = ("relevant", "irrelevant", "clear")


def vocabulary_settings_set(
    *, project: Project, user, keep_stop_words: bool | None = None, long_tail_min: int | None = None
) -> CollectionSettings:
    """A lead sets whether stop words are kept (the next index build re-reads every artefact) and the long-tail cut."""
    membership_require(project=project, user=user, roles=("lead",))
    row = collection_settings_ensure(project=project)
    if keep_stop_words is not None:
        row.keep_stop_words = bool(keep_stop_words)
    if long_tail_min is not None:
        if isinstance(long_tail_min, bool) or not isinstance(long_tail_min, int) or long_tail_min < 0:
            raise InvalidInput("The long-tail cut must be a whole number >= 0.", field="long_tail_min")
        row.long_tail_min = long_tail_min
    row.save()
    return row


def vocabulary_batches_create(*, project: Project, user, members: list) -> list[VocabularyBatch]:
    """Split the terms left after the long-tail cut into len(members) equal batches, one per member.

    Terms are dealt in frequency order, one to each batch in turn, so every batch gets as many
    frequent words as rare ones and sizes differ by one at most. Creating batches again replaces them."""
    membership_require(project=project, user=user, roles=("lead",))
    if not members:
        raise InvalidInput("Choose at least one member.", field="members")
    active = {
        m.user_id: m.user for m in Membership.objects.filter(project=project, is_active=True).select_related("user")
    }
    users = []
    for who in members:
        found = next((u for u in active.values() if u.username == who or u.pk == who), None)
        if found is None:
            raise InvalidInput(f"{who} is not an active member of this project.", field="members")
        users.append(found)
    term_ids = list(vocabulary_above_tail(project=project).values_list("id", flat=True))
    with transaction.atomic():
        VocabularyTerm.objects.filter(project=project).update(batch=None)
        VocabularyBatch.objects.filter(project=project).delete()
        batches = [
            VocabularyBatch.objects.create(project=project, number=i, assignee=u) for i, u in enumerate(users, start=1)
        ]
        for i, batch in enumerate(batches):
            ids = term_ids[i :: len(batches)]
            for chunk in _chunks(ids):
                VocabularyTerm.objects.filter(id__in=chunk).update(batch=batch)
    return batches


def term_decide(*, project: Project, user, term_id: int, verdict: str) -> VocabularyTerm:
    """A moderator's (or lead's) decision on a word in the meeting: relevant, irrelevant, or clear."""
    membership_require(project=project, user=user, roles=("lead", "moderator"))
    verdict = (verdict or "").strip().lower()
    if verdict not in FINAL_VERDICTS:
        raise InvalidInput(f"Unknown decision {verdict!r}; choose relevant, irrelevant or clear.", field="verdict")
    term = VocabularyTerm.objects.filter(project=project, pk=term_id).first()
    if term is None:
        raise NotFound("No such term in this project.", field="term_id")
    if verdict == "clear":
        term.final, term.decided_by, term.decided_at = "", None, None
    else:
        term.final, term.decided_by, term.decided_at = verdict, user, timezone.now()
    term.save(update_fields=["final", "decided_by", "decided_at"])
    return term


def vocabulary_words_check(*, data: bytes, filename: str = "") -> int:
    """A word list's size (the "vocabulary" upload limit) and its CSV shape (columns, cell length, rows),
    checked without parsing it; a word list is a CSV whatever its name, so its shape is checked either way.
    UploadRejected (413 too large, 400 unreadable) otherwise; returns its size."""
    name = filename if filename.lower().endswith(CSV_SUFFIXES) else f"{filename or 'word list'}.csv"
    return check_upload(data, kind="vocabulary", name=name)


def vocabulary_words_import(*, project: Project, data: bytes, final: bool = False, user=None) -> dict:
    """Import a word list in the study's layout (`word,n_documents`): each word becomes its stem's term
    (created when new, with the file's count until the next index build); with `final`, the list is the
    final vocabulary (its words relevant, every other decided word cleared).

    Parses in the caller's process: pages start `vocabulary_words_import_start` (parsed in Celery), the
    `import_vocabulary` command calls this after `vocabulary_words_check`."""
    if user is not None:
        membership_require(project=project, user=user, roles=("lead", "moderator"))
    try:
        table = read_csv_checked(data.decode("utf-8-sig"), on_malformed="error")
    except UnicodeDecodeError:
        raise InvalidInput("The word list is not UTF-8 text.", field="file") from None
    except ValueError as exc:
        raise InvalidInput(str(exc), field="file") from None
    header = [h.lower() for h in table.header]
    if "word" not in header:
        raise InvalidInput("The word list needs a `word` column (word,n_documents).", field="file")
    rows, unusable = [], []
    for line, row in table.rows:
        cells = {k.lower(): v for k, v in row.items()}
        words = tokenise(cells.get("word", ""), keep_stop_words=True)
        if len(words) != 1:
            unusable.append({"line": line, "word": cells.get("word", "")})
            continue
        count = cells.get("n_documents", "").strip()
        rows.append((stem(words[0]), words[0], int(count) if count.isdigit() else 0))
    with transaction.atomic():
        existing = dict(VocabularyTerm.objects.filter(project=project).values_list("stem", "id"))
        new = [
            VocabularyTerm(project=project, stem=s[:40], example=w[:40], artefact_count=n)
            for s, w, n in {r[0]: r for r in rows}.values()
            if s not in existing
        ]
        VocabularyTerm.objects.bulk_create(new, ignore_conflicts=True)
        stems = sorted({r[0] for r in rows})
        if final:
            VocabularyTerm.objects.filter(project=project).exclude(stem__in=stems).exclude(final="").update(
                final="", decided_by=None, decided_at=None
            )
            for chunk in _chunks(stems):
                VocabularyTerm.objects.filter(project=project, stem__in=chunk).update(
                    final="relevant", decided_by=user, decided_at=timezone.now()
                )
    return {"words": len(rows), "created": len(new), "final": final, "unusable": unusable}


WORD_LIST_ROLES = ("lead", "moderator")
UNUSABLE_SHOWN = 200  # unusable lines kept in a word-list job's report (the count is kept whole)


def vocabulary_words_import_start(*, project: Project, user, filename: str, data: bytes, final: bool = False) -> Job:
    """Store an uploaded word list and import it in a Celery job (`vocabulary_words_import_job_run`), never
    in the request. Checked here, before anything is stored: the role (a lead or moderator), the file's size
    and its CSV shape; the job checks the role again, parses the list and writes its terms in one transaction."""
    membership_require(project=project, user=user, roles=WORD_LIST_ROLES)
    vocabulary_words_check(data=data, filename=filename)
    return job_upload_start(
        project=project,
        user=user,
        roles=WORD_LIST_ROLES,
        kind=Job.Kind.IMPORT_VOCABULARY,
        params={"final": bool(final)},
        filename=filename,
        data=data,
        upload_kind=None,  # checked above as a CSV, whatever its name
        task=tasks.import_vocabulary_task,
    )


def _vocabulary_words_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    with job_reading(job, progress, "Reading the word list") as (data, user), transaction.atomic():
        report = vocabulary_words_import(
            project=job.project, data=data, final=bool((job.params or {}).get("final")), user=user
        )
    unusable = report["unusable"]
    report = {**report, "file": job.input_name, "unusable": unusable[:UNUSABLE_SHOWN], "unusable_total": len(unusable)}
    return report, None


def vocabulary_words_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_vocabulary_words_work, progress=progress)
