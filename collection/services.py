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

import logging
import uuid
from collections import Counter
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
from collection.importers.reading import Row, Sheet, Table, read_table
from collection.models import Artefact, ArtefactIndexState, ArtefactTerm, TermFlag, VocabularyTerm
from collection.vocabulary import artefact_text, example_word, stemmed_words, text_digest
from core.errors import InvalidInput, NotFound
from core.jobs import job_create, job_enqueue, job_execute
from core.models import Job, Project
from core.progress import Progress
from core.selectors import membership_require

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
    if progress:
        progress(0, total, f"Indexing {total} artefacts…")
    last_id = 0
    while True:
        batch = list(
            Artefact.objects.filter(project=project, id__gt=last_id)
            .order_by("id")
            .values_list("id", "title", "body")[:batch_size]
        )
        if not batch:
            break
        with transaction.atomic():
            changed = _changed(batch, full)
            new_terms, added, removed = _index_batch(project, changed, term_ids)
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


def _changed(batch: list[tuple[int, str, str]], full: bool) -> list[tuple[int, str, str]]:
    """The artefacts of the batch whose text differs from what the index last read; their new digests are stored."""
    digests = {a: text_digest(title, body) for a, title, body in batch}
    known = {}
    if not full:
        for ids in _chunks(list(digests)):
            known.update(ArtefactIndexState.objects.filter(artefact_id__in=ids).values_list("artefact_id", "digest"))
    changed = [row for row in batch if known.get(row[0]) != digests[row[0]]]
    ArtefactIndexState.objects.bulk_create(
        [ArtefactIndexState(artefact_id=a, digest=digests[a]) for a, _, _ in changed],
        batch_size=WRITE_BATCH,
        update_conflicts=True,
        unique_fields=["artefact"],
        update_fields=["digest", "indexed_at"],
    )
    return changed


def _index_batch(project: Project, batch: list[tuple[int, str, str]], term_ids: dict[str, int]) -> tuple[int, int, int]:
    """Index one batch of (id, title, body); `term_ids` (stem → id) is kept up to date for the next batches."""
    if not batch:
        return 0, 0, 0
    wanted: dict[int, set[str]] = {}
    forms: dict[str, Counter] = {}  # surface forms of stems new to the project, for their example word
    for artefact_id, title, body in batch:
        found = wanted[artefact_id] = set()
        for s, word, n in stemmed_words(artefact_text(title, body)):
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
    tool: str | None = None,
    label_fields: list[str] | None = None,
) -> dict:
    """Import artefacts from a file; `mapping` ({column index: field}) or `map_options` (column=field).

    A Label Studio or doccano export is recognised (or forced by `tool`): its tasks become artefacts and
    the report's `exchange` says what else it holds (annotations, predictions, flagged columns); its
    annotations are never artefact fields (see taxonomy.round_import.exchange_round_import)."""
    exchange = exchange_read(data=data, filename=filename, tool=tool, label_fields=label_fields)
    if exchange is not None:
        table = exchange_table(exchange)
        if mapping is None:
            mapping = exchange_mapping(exchange, map_options)
        report = artefacts_import(project=project, table=table, mapping=mapping, progress=progress, filename=filename)
        report["exchange"] = exchange_summary(exchange, mapping)
        return report
    table = read_table(data, filename, header_score=artefact_header_score)
    if mapping is None:
        mapping = mapping_from_options(table.first.header, map_options)
    return artefacts_import(project=project, table=table, mapping=mapping, progress=progress, filename=filename)


def artefacts_import_job_create(*, project: Project, user, input_name: str, input_data: bytes) -> Job:
    """A pending artefact import of a lead; an unreadable upload is a 400 now, not later (and no job)."""
    membership_require(project=project, user=user, roles=("lead",))
    if input_data and exchange_read(data=input_data, filename=input_name) is None:
        read_table(input_data, input_name)
    return job_create(
        project=project,
        user=user,
        kind=Job.Kind.IMPORT_ARTEFACTS,
        input_name=input_name,
        input_data=input_data,
        requires_input=True,
    )


def artefacts_import_job_set_mapping(*, job: Job, user, mapping: dict[int, str]) -> Job:
    """Store the lead's column mapping and send the import to Celery."""
    membership_require(project=job.project, user=user, roles=("lead",))
    if job.status != Job.Status.PENDING:
        raise InvalidInput("This import has started already.", field="mapping")
    if "url" not in mapping.values():
        raise InvalidInput("Map one column to url (the artefact's link).", field="mapping")
    job.params = {**job.params, "mapping": {str(k): v for k, v in mapping.items()}}
    job.save(update_fields=["params"])
    return job_enqueue(job=job, task=tasks.import_artefacts_task)


def _artefacts_import_work(job: Job, progress: Progress | None) -> tuple[dict, None]:
    mapping = (job.params or {}).get("mapping")
    mapping = {int(k): v for k, v in mapping.items()} if mapping else None
    data = bytes(job.input_data) if job.input_data is not None else b""
    report = artefacts_import_file(
        project=job.project, data=data, filename=job.input_name, mapping=mapping, progress=progress, label_fields=[]
    )
    return report, None


def artefacts_import_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_artefacts_import_work, progress=progress)
