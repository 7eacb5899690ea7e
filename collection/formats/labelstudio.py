"""Reading Label Studio's exports: JSON, JSON-MIN and CSV.

- **JSON** (the full export): a list of tasks `{"id", "data": {…}, "annotations": [
  {"completed_by", "result": [{"from_name", "type", "value": {"choices": […]}}], …}],
  "predictions": […], "meta": {…}, …}`. The task's `data` (flattened as `data.text`,
  `data.url`, `data.meta_info.source`, …), its `meta` and its `id` are the artefact's
  columns; the annotations and predictions are ratings, never columns.
- **JSON-MIN** and **CSV**: one flat record per annotation: the task's data keys at
  the top, each control tag's `from_name` as a key (a single choice as text, several
  as `{"choices": […]}`, in CSV as JSON text), and the bookkeeping keys `id`,
  `annotator`, `annotation_id`, `created_at`, `updated_at`, `lead_time`. The
  bookkeeping keys are never artefact columns; the control tags' keys are found by
  their name or their values (`looks_like_label`) — or given — and become ratings
  whose evaluator is `annotator`.

A task without a URL among its data gets a stable link from its id (`stable_link`).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from .common import (
    ArtefactRow,
    ExchangeFile,
    FormatError,
    Rating,
    find_link_column,
    flatten,
    is_result_value,
    looks_like_label,
    result_labels,
    split_labels,
    stable_link,
    text_of,
)

TOOL = "label-studio"
# Keys of a full export's task that are Label Studio's own bookkeeping, not the task's content.
TASK_BOOKKEEPING = {
    "annotations",
    "predictions",
    "drafts",
    "created_at",
    "updated_at",
    "inner_id",
    "total_annotations",
    "cancelled_annotations",
    "total_predictions",
    "comment_count",
    "unresolved_comment_count",
    "last_comment_updated_at",
    "project",
    "updated_by",
    "comment_authors",
    "file_upload",
    "is_labeled",
    "overlap",
    "annotators",
    "completed_at",
    "storage_filename",
    "annotations_results",
    "annotations_ids",
    "predictions_score",
    "predictions_model_versions",
    "predictions_results",
    "avg_lead_time",
    "draft_exists",
    "agreement",
}
# Keys of a JSON-MIN/CSV record that describe the annotation, not the task.
MIN_BOOKKEEPING = {"annotator", "annotation_id", "created_at", "updated_at", "lead_time"}


def is_labelstudio_json(data: Any) -> bool:
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(t, dict) for t in data[:20])
        and all(isinstance(t.get("data"), dict) for t in data[:20])
    )


def is_labelstudio_min(records: list[dict]) -> bool:
    """JSON-MIN/CSV: flat records carrying Label Studio's annotation bookkeeping keys."""
    if not records or not isinstance(records[0], dict):
        return False
    keys = set(records[0])
    return "annotator" in keys or ("annotation_id" in keys and "id" in keys)


def evaluator_name(completed_by: Any) -> str:
    """`completed_by` is a user id, or (older exports) `{"id", "email", "first_name", …}`."""
    if isinstance(completed_by, dict):
        for key in ("email", "username", "id"):
            if completed_by.get(key) not in (None, ""):
                return text_of(completed_by[key]).strip()
        return ""
    return text_of(completed_by).strip()


def _results(link: str, evaluator: str, items: list, source: str, base: dict) -> list[Rating]:
    """One rating per control tag (from_name) of one annotation or prediction."""
    by_field: dict[str, Rating] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
            continue
        labels, paths = result_labels(item["value"])
        if not labels:
            continue
        name = text_of(item.get("from_name")) or text_of(item.get("type"))
        rating = by_field.get(name)
        if rating is None:
            rating = by_field[name] = Rating(
                link=link, evaluator=evaluator, labels=[], source=source, field_name=name, **base
            )
        rating.labels.extend(x for x in labels if x not in rating.labels)
        rating.paths.extend(paths)
    return list(by_field.values())


def read_labelstudio_json(data: Any) -> ExchangeFile:
    """The full JSON export (a list of tasks)."""
    if not is_labelstudio_json(data):
        raise FormatError("Not a Label Studio JSON export: expected a list of tasks, each with a `data` object.")
    flat_rows: list[dict[str, Any]] = []
    for task in data:
        values: dict[str, Any] = {}
        if task.get("id") is not None:
            values["id"] = task["id"]
        flatten(task.get("data") or {}, "data", values)
        if isinstance(task.get("meta"), dict) and task["meta"]:
            flatten(task["meta"], "meta", values)
        for key, value in task.items():
            if key not in TASK_BOOKKEEPING and key not in ("id", "data", "meta"):
                flatten(value, key, values)
        flat_rows.append(values)
    columns = _columns(flat_rows)
    link_column = find_link_column(columns, flat_rows)
    out = ExchangeFile(tool=TOOL, format="json", columns=columns, rows=[], link_column=link_column)
    out.flagged = [c for c in columns if looks_like_label(c, [r.get(c) for r in flat_rows[:50]])]
    for number, (task, values) in enumerate(zip(data, flat_rows, strict=True), start=1):
        link, synthesised = _link(values, link_column, task.get("id"))
        out.rows.append(ArtefactRow(number=number, link=link, values=values, link_synthesised=synthesised))
        for annotation in task.get("annotations") or []:
            base = {
                "created_at": text_of(annotation.get("created_at")),
                "cancelled": bool(annotation.get("was_cancelled")),
            }
            evaluator = evaluator_name(annotation.get("completed_by"))
            if not evaluator:
                out.problems.append({"row": number, "problem": "an annotation without completed_by was left out"})
                continue
            out.ratings.extend(_results(link, evaluator, annotation.get("result"), "annotation", base))
        for prediction in task.get("predictions") or []:
            model = text_of(prediction.get("model_version")).strip() or "prediction"
            base = {"created_at": text_of(prediction.get("created_at"))}
            out.ratings.extend(_results(link, model, prediction.get("result"), "prediction", base))
    return out


def read_labelstudio_min(
    records: list[dict], *, label_fields: list[str] | None = None, fmt: str = "json-min"
) -> ExchangeFile:
    """JSON-MIN (a list of flat records) or CSV rows read as dicts.

    `label_fields`: the control tags' keys to read as ratings; by default the columns
    that look like labels. Records of the same task (same `id`) are one artefact."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FormatError("Not a Label Studio JSON-MIN export: expected a list of flat objects.")
    columns_all = _columns(records)
    candidates = [c for c in columns_all if c not in MIN_BOOKKEEPING]
    flagged = [c for c in candidates if c != "id" and looks_like_label(c, [r.get(c) for r in records[:50]])]
    fields = list(flagged) if label_fields is None else [f for f in label_fields if f in columns_all]
    unknown = [f for f in label_fields or [] if f not in columns_all]
    if unknown:
        raise FormatError(f"No column {', '.join(map(repr, unknown))} in the file (columns: {', '.join(columns_all)}).")
    columns = [c for c in candidates if c not in fields]
    task_rows: list[dict[str, Any]] = []
    for record in records:
        task_rows.append({c: _cell(record.get(c)) for c in columns if c in record})
    link_column = find_link_column(columns, task_rows)
    out = ExchangeFile(tool=TOOL, format=fmt, columns=columns, rows=[], flagged=flagged, link_column=link_column)
    seen: dict[str, ArtefactRow] = {}
    for number, (record, values) in enumerate(zip(records, task_rows, strict=True), start=1):
        ident = record.get("id")
        link, synthesised = _link(values, link_column, ident)
        if link not in seen:
            seen[link] = ArtefactRow(number=number, link=link, values=values, link_synthesised=synthesised)
            out.rows.append(seen[link])
        evaluator = text_of(record.get("annotator")).strip()
        for name in fields:
            value = _cell(record.get(name))
            if value in (None, "", [], {}):
                continue
            if not evaluator:
                out.problems.append({"row": number, "problem": f"{name!r} has no annotator; left out"})
                continue
            labels, paths = result_labels(value) if isinstance(value, dict) else (split_labels(value), [])
            if labels:
                out.ratings.append(
                    Rating(
                        link=link,
                        evaluator=evaluator,
                        labels=labels,
                        field_name=name,
                        created_at=text_of(record.get("created_at")),
                        paths=paths,
                    )
                )
    return out


def read_labelstudio_csv(text: str, *, label_fields: list[str] | None = None) -> ExchangeFile:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise FormatError("The CSV file has no header row.")
    records = [{k: v for k, v in row.items() if k is not None} for row in reader]
    if not is_labelstudio_min(records or [dict.fromkeys(reader.fieldnames, "")]):
        raise FormatError("Not a Label Studio CSV export: no `annotator` or `annotation_id` column.")
    return read_labelstudio_min(records, label_fields=label_fields, fmt="csv")


def _cell(value: Any) -> Any:
    """A CSV cell holding JSON (`{"choices": […]}`, a list) is read as that JSON."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in "[{" and text[-1:] in "]}":
            try:
                return json.loads(text)
            except ValueError:
                return value
    return value


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _link(values: dict[str, Any], link_column: str | None, ident: Any) -> tuple[str, bool]:
    if link_column and values.get(link_column) not in (None, ""):
        return text_of(values[link_column]).strip(), False
    content = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return stable_link(TOOL, ident=ident, content=content), True


__all__ = [
    "is_labelstudio_json",
    "is_labelstudio_min",
    "is_result_value",
    "read_labelstudio_csv",
    "read_labelstudio_json",
    "read_labelstudio_min",
]
