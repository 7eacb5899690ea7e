"""Exports: a round in the study's spreadsheet layout (XLSX, CSV) and a project's annotations and
decisions as JSON Lines.

The round layout is the one the importer reads (taxonomy.round_import), so
import → export → import gives the same Table 1:

- sheet 1 "Round N All": EntityType (`so-keras`, `issue-torch` — pull requests are
  issue rows with `/pull/` in the link — `commit-tensorflow`), Link, Conflict (1/0:
  reached the moderators), NumberOfEvaluators, Evaluator1/Tag1 … EvaluatorK/TagK
  by assignment order (the evaluator's external ID when imported, else the
  username), Final Tag, Taxonomy Tag. A tag with history is written `a -> b`; a
  verdict with a note `false positive (note)`; none is `-`.
- sheet 2 "Round N Relevant": the relevant artefacts with their category code
  (as text, so 4.10 stays 4.10).
- CSV: sheet 1's columns plus "Taxonomy Cat" (a CSV has one sheet).

A leaf under a category without a code (built by hand in the taxonomy builder)
has no code to write: its row exports `-` as category and re-imports as relevant
without a leaf. Evaluators are named by external ID, else by username, which the
importer maps back to the same members.

Queries are fixed in number (a few per export, streamed in chunks), not one per row.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import openpyxl

from collection.models import Artefact
from core import csv_safe
from core.errors import InvalidInput, NotFound
from core.jobs import job_create, job_enqueue, job_execute
from core.models import Job, Membership
from core.progress import Progress, Throttled
from core.tables import xlsx_bytes
from labelling import tasks
from labelling.models import Annotation, Assignment, Round, RoundItem, Verdict

KIND_PREFIX = {
    Artefact.Kind.SO_QUESTION: "so",
    Artefact.Kind.GH_ISSUE: "issue",
    Artefact.Kind.GH_PULL: "issue",
    Artefact.Kind.GH_COMMIT: "commit",
    Artefact.Kind.OTHER: "other",
}
VERDICT_TEXT = {Verdict.FALSE_POSITIVE: "false positive", Verdict.GENERIC: "generic", Verdict.UNCLEAR: "unclear"}
NONE = "-"


def entity_type(kind: str, framework: str) -> str:
    prefix = KIND_PREFIX.get(kind, "other")
    return f"{prefix}-{framework}" if framework else prefix


def _with_history(current: str, history: list, field: str | None = None) -> str:
    earlier = [
        str(h.get("value", ""))
        for h in (history or [])
        if isinstance(h, dict) and (field is None or h.get("field") == field) and h.get("value")
    ]
    return " -> ".join([*earlier, current]) if earlier else current


def _answer(label_name: str | None, verdict: str, note: str) -> str:
    if label_name:
        return label_name
    if verdict:
        text = VERDICT_TEXT.get(verdict, verdict)
        return f"{text} ({note})" if note else text
    return ""


def _item_rows(rnd: Round, progress: Progress | None = None) -> Iterator[dict]:
    """One dict per item of the round, in item order, with its answers by assignment order."""
    tick = Throttled(progress)
    names = dict(
        Membership.objects.filter(project=rnd.project).exclude(external_id="").values_list("user_id", "external_id")
    )
    items = (
        RoundItem.objects.filter(round=rnd)
        .order_by("id")
        .values(
            "id",
            "artefact__kind",
            "artefact__framework",
            "artefact__url",
            "is_conflict",
            "final_label__name",
            "final_verdict",
            "resolution_note",
            "taxonomy_label__name",
            "category_code",
            "leaf__node__code",
            "leaf__node__name",
            "history",
        )
    )
    total = items.count()
    done = 0
    chunk: list[dict] = []

    def flush(chunk):
        answers: dict[int, dict[int, tuple]] = {}
        for item_id, order, user_id, username, label, verdict, note, history in Assignment.objects.filter(
            item_id__in=[c["id"] for c in chunk]
        ).values_list(
            "item_id",
            "order",
            "evaluator_id",
            "evaluator__username",
            "annotation__label__name",
            "annotation__verdict",
            "annotation__note",
            "annotation__history",
        ):
            answers.setdefault(item_id, {})[order] = (names.get(user_id) or username, label, verdict, note, history)
        for c in chunk:
            c["answers"] = answers.get(c["id"], {})
            yield c

    for row in items.iterator(chunk_size=1000):
        chunk.append(row)
        if len(chunk) >= 1000:
            yield from flush(chunk)
            done += len(chunk)
            tick(done, total, "rows exported")
            chunk = []
    if chunk:
        yield from flush(chunk)
    tick(total, max(total, 1), "rows exported")


def _sheet_rows(rnd: Round, progress: Progress | None = None) -> tuple[list[str], list[list], list[list]]:
    rows = list(_item_rows(rnd, progress))
    k = max([2] + [max(r["answers"], default=0) for r in rows])
    header = ["EntityType", "Link", "Conflict", "NumberOfEvaluators"]
    for order in range(1, k + 1):
        header += [f"Evaluator{order}", f"Tag{order}"]
    header += ["Final Tag", "Taxonomy Tag"]
    all_rows, relevant = [], []
    for r in rows:
        etype = entity_type(r["artefact__kind"], r["artefact__framework"])
        line = [etype, r["artefact__url"], 1 if r["is_conflict"] else 0, len(r["answers"])]
        for order in range(1, k + 1):
            who, label, verdict, note, history = r["answers"].get(order, ("", None, "", "", []))
            answer = _answer(label, verdict or "", note or "")
            line += [who or "", _with_history(answer, history) if answer else ""]
        final = _answer(r["final_label__name"], r["final_verdict"], r["resolution_note"] if r["final_verdict"] else "")
        final = _with_history(final, r["history"], "final_tag") if final else NONE
        taxonomy = r["taxonomy_label__name"] or ""
        taxonomy = _with_history(taxonomy, r["history"], "taxonomy_tag") if taxonomy else NONE
        line += [final, taxonomy]
        code = r["category_code"] or r["leaf__node__code"] or ""
        line.append(code)
        all_rows.append(line)
        if r["taxonomy_label__name"]:
            relevant.append([etype, r["artefact__url"], 1 if r["is_conflict"] else 0, final, taxonomy, code or NONE])
    return header, all_rows, relevant


def round_export_xlsx(rnd: Round, progress: Progress | None = None) -> bytes:

    header, rows, relevant = _sheet_rows(rnd, progress)
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = f"Round {rnd.number} All"
    first.append(header)
    for row in rows:
        first.append(row[:-1])
    second = workbook.create_sheet(f"Round {rnd.number} Relevant")
    second.append(["EntityType", "Link", "Conflict", "Final Tag", "Taxonomy Tag", "Taxonomy Cat"])
    for row in relevant:
        second.append(row)  # codes are written as text: 4.10 is not 4.1
    return xlsx_bytes(workbook)  # bold headers; a label typed as "=…" stays text


def round_export_csv(rnd: Round, progress: Progress | None = None) -> bytes:
    header, rows, _ = _sheet_rows(rnd, progress)
    buffer = io.StringIO()
    writer = csv_safe.writer(buffer, lineterminator="\r\n")
    writer.writerow([*header, "Taxonomy Cat"])
    for row in rows:
        writer.writerow([*row[:-1], row[-1] or NONE])
    return buffer.getvalue().encode("utf-8")


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def annotations_export_jsonl(project, progress: Progress | None = None) -> Iterator[str]:
    """The project's annotations and decisions, one JSON object per line.

    Lines of type "annotation" (who labelled what, when, with note and history) come
    first, then lines of type "decision" (one per artefact per round: status,
    disagreement, conflict, final and taxonomy tags, leaf, resolution)."""
    tick = Throttled(progress)
    external = dict(
        Membership.objects.filter(project=project).exclude(external_id="").values_list("user_id", "external_id")
    )
    annotations = (
        Annotation.objects.filter(assignment__round__project=project)
        .order_by("assignment__round__number", "assignment__item_id", "assignment__order")
        .values(
            "id",
            "assignment__round__number",
            "assignment__item__artefact__url",
            "assignment__item__artefact__kind",
            "assignment__evaluator_id",
            "assignment__evaluator__username",
            "assignment__order",
            "label__name",
            "verdict",
            "note",
            "history",
            "created_at",
            "updated_at",
        )
    )
    items = (
        RoundItem.objects.filter(round__project=project)
        .order_by("round__number", "id")
        .values(
            "id",
            "round__number",
            "round__source",
            "artefact__url",
            "artefact__kind",
            "artefact__framework",
            "status",
            "had_disagreement",
            "is_conflict",
            "conflict_reason",
            "final_label__name",
            "final_verdict",
            "taxonomy_label__name",
            "category_code",
            "leaf__node__code",
            "leaf__node__name",
            "leaf__label__name",
            "history",
            "decided_at",
            "resolved_by__username",
            "resolved_at",
            "resolution_note",
        )
    )
    total = annotations.count() + items.count()
    done = 0
    for a in annotations.iterator(chunk_size=2000):
        yield json.dumps(
            {
                "type": "annotation",
                "project": project.slug,
                "round": a["assignment__round__number"],
                "artefact": a["assignment__item__artefact__url"],
                "kind": a["assignment__item__artefact__kind"],
                "evaluator": a["assignment__evaluator__username"],
                "evaluator_id": external.get(a["assignment__evaluator_id"], ""),
                "order": a["assignment__order"],
                "label": a["label__name"],
                "verdict": a["verdict"] or None,
                "note": a["note"],
                "history": a["history"],
                "created_at": _iso(a["created_at"]),
                "updated_at": _iso(a["updated_at"]),
            },
            ensure_ascii=False,
        )
        done += 1
        if done % 1000 == 0:
            tick(done, total, "annotations")
    for i in items.iterator(chunk_size=2000):
        leaf = None
        if i["leaf__label__name"]:
            leaf = {"code": i["leaf__node__code"], "node": i["leaf__node__name"], "label": i["leaf__label__name"]}
        yield json.dumps(
            {
                "type": "decision",
                "project": project.slug,
                "round": i["round__number"],
                "round_source": i["round__source"],
                "artefact": i["artefact__url"],
                "kind": i["artefact__kind"],
                "framework": i["artefact__framework"],
                "status": i["status"],
                "had_disagreement": i["had_disagreement"],
                "is_conflict": i["is_conflict"],
                "conflict_reason": i["conflict_reason"],
                "final_label": i["final_label__name"],
                "final_verdict": i["final_verdict"] or None,
                "taxonomy_label": i["taxonomy_label__name"],
                "category_code": i["category_code"],
                "leaf": leaf,
                "history": i["history"],
                "decided_at": _iso(i["decided_at"]),
                "resolved_by": i["resolved_by__username"],
                "resolved_at": _iso(i["resolved_at"]),
                "resolution_note": i["resolution_note"],
            },
            ensure_ascii=False,
        )
        done += 1
        if done % 1000 == 0:
            tick(done, total, "decisions")
    tick(total, max(total, 1), "done")


# --- files and jobs -------------------------------------------------------------------------

EXPORT_FORMATS = ("xlsx", "csv")


def export_round_file(*, project, number: int, fmt: str, progress: Progress | None = None) -> tuple:
    """(content, filename, content type) of round `number` in the study's layout."""
    rnd = Round.objects.filter(project=project, number=number).first()
    if rnd is None:
        raise NotFound(f"No round {number} in {project}.")
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"Export format is one of {', '.join(EXPORT_FORMATS)}.", field="format")
    name = f"{project.slug}-round-{number}.{fmt}"
    if fmt == "xlsx":
        return (
            round_export_xlsx(rnd, progress),
            name,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return round_export_csv(rnd, progress), name, "text/csv; charset=utf-8"


def export_annotations_file(*, project, progress: Progress | None = None) -> tuple:
    lines = annotations_export_jsonl(project, progress)
    content = "".join(line + "\n" for line in lines).encode("utf-8")
    return content, f"{project.slug}-annotations.jsonl", "application/x-ndjson"


def export_round_job_create(*, project, user, number: int, fmt: str) -> Job:
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"Export format is one of {', '.join(EXPORT_FORMATS)}.", field="format")
    if not Round.objects.filter(project=project, number=number).exists():
        raise NotFound(f"No round {number} in {project}.")
    job = job_create(project=project, user=user, kind=Job.Kind.EXPORT_ROUND, params={"round": number, "format": fmt})
    return job_enqueue(job=job, task=tasks.export_round_task)


def export_annotations_job_create(*, project, user) -> Job:
    job = job_create(project=project, user=user, kind=Job.Kind.EXPORT_ANNOTATIONS)
    return job_enqueue(job=job, task=tasks.export_annotations_task)


def _export_round_work(job: Job, progress: Progress | None) -> tuple[dict, tuple]:
    params = job.params
    content, name, content_type = export_round_file(
        project=job.project, number=params["round"], fmt=params["format"], progress=progress
    )
    rows = RoundItem.objects.filter(round__project=job.project, round__number=params["round"]).count()
    report = {"round": params["round"], "format": params["format"], "rows": rows, "file": name, "bytes": len(content)}
    return report, (content, name, content_type)


def _export_annotations_work(job: Job, progress: Progress | None) -> tuple[dict, tuple]:
    content, name, content_type = export_annotations_file(project=job.project, progress=progress)
    return {"lines": content.count(b"\n"), "file": name, "bytes": len(content)}, (content, name, content_type)


def export_round_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_export_round_work, progress=progress)


def export_annotations_job_run(*, job_id: int, progress: Progress | None = None) -> str:
    return job_execute(job_id=job_id, work=_export_annotations_work, progress=progress)
