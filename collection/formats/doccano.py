"""Reading doccano's exports: JSONL, JSON, CSV, and the zip of one file per user.

A doccano document is `{"id", "text", "label": […], <metadata keys>…}` (text
classification: `"label": ["positive"]`; sequence labelling: `"label": [[0, 5, "ORG"]]`
or `"entities": [{"label", "start_offset", "end_offset"}]`; older exports:
`"annotations": [{"label", "user"}]`). Metadata comes flattened at the top level
or under `meta` (flattened here as `meta.source`, …); `Comments` is doccano's own.
CSV has the columns `id,text,label` (several labels joined by `#`) and the metadata.
When annotations are not shared among users, doccano exports a zip with one file
per user (`alice.jsonl`): the file's name is then the evaluator.

`text` and the metadata are the artefact's columns; `label` (and `entities`,
`annotations`, `cats`) are ratings, never columns. A document without a link
column gets a stable link from its id, else from a SHA-256 of its text.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import PurePosixPath
from typing import Any

from .common import (
    ArtefactRow,
    ExchangeFile,
    FormatError,
    Rating,
    find_link_column,
    flatten,
    looks_like_label,
    split_labels,
    stable_link,
    text_of,
)

TOOL = "doccano"
LABEL_KEYS = ("label", "labels", "entities", "cats", "annotations")
OWN_KEYS = {"Comments", "comments"}
SHARED_FILE_NAMES = {"all", "admin_all", "dataset", "data", "export"}


def is_doccano_record(record: Any) -> bool:
    return isinstance(record, dict) and "text" in record and "data" not in record


def _labels(value: Any) -> tuple[list[str], list[str]]:
    """(labels, users) of a doccano label value (classification, spans, entities, old annotations)."""
    users: list[str] = []
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        labels = []
        for item in value:
            name = text_of(item.get("label", item.get("text", ""))).strip()
            if name and name not in labels:
                labels.append(name)
            if item.get("user") not in (None, ""):
                user = text_of(item["user"]).strip()
                if user not in users:
                    users.append(user)
        return labels, users
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        # spans: [start, end, "LABEL"]
        return [text_of(v[-1]).strip() for v in value if v and not isinstance(v[-1], int | float)], users
    return split_labels(value), users


def _document(record: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """(artefact columns, label values) of one doccano document."""
    values: dict[str, Any] = {}
    labels: dict[str, Any] = {}
    for key, value in record.items():
        if key in LABEL_KEYS:
            labels[key] = value
        elif key in OWN_KEYS:
            continue
        elif key == "meta" and isinstance(value, dict):
            flatten(value, "meta", values)
        else:
            flatten(value, key, values)
    return values, labels


def read_doccano_records(
    records: list[dict], *, fmt: str = "jsonl", evaluator: str = "", source_names: list[str] | None = None
) -> ExchangeFile:
    """Documents already parsed (JSONL lines, a JSON list or CSV rows).

    `evaluator`: whose labels these are when the records do not say (a per-user file's name);
    `source_names`: per record, such a name (the zip reader's), overriding `evaluator`."""
    if not records or not all(is_doccano_record(r) for r in records):
        raise FormatError("Not a doccano export: every document needs a `text` key.")
    documents = [_document(r) for r in records]
    flat_rows = [values for values, _ in documents]
    columns: dict[str, None] = {}
    for values in flat_rows:
        for key in values:
            columns.setdefault(key, None)
    column_list = list(columns)
    link_column = find_link_column(column_list, flat_rows)
    out = ExchangeFile(tool=TOOL, format=fmt, columns=column_list, rows=[], link_column=link_column)
    out.flagged = [c for c in column_list if looks_like_label(c, [r.get(c) for r in flat_rows[:50]])]
    seen: dict[str, ArtefactRow] = {}
    for number, (values, labels) in enumerate(documents, start=1):
        link, synthesised = _link(values, link_column)
        if link not in seen:
            seen[link] = ArtefactRow(number=number, link=link, values=values, link_synthesised=synthesised)
            out.rows.append(seen[link])
        who = (source_names[number - 1] if source_names else "") or evaluator
        for key, value in labels.items():
            names, users = _labels(value)
            if not names:
                continue
            for user in users or [who]:
                if not user:
                    out.problems.append({"row": number, "problem": f"{key!r} without a user; give an evaluator"})
                    continue
                out.ratings.append(Rating(link=link, evaluator=user, labels=names, field_name=key))
    return out


def read_doccano_jsonl(text: str, *, evaluator: str = "") -> ExchangeFile:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError as exc:
            raise FormatError(f"Line {number} is not JSON: {exc}.") from exc
    return read_doccano_records(records, fmt="jsonl", evaluator=evaluator)


def read_doccano_json(data: Any, *, evaluator: str = "") -> ExchangeFile:
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise FormatError("Not a doccano JSON export: expected a list of documents.")
    return read_doccano_records(data, fmt="json", evaluator=evaluator)


def read_doccano_csv(text: str, *, evaluator: str = "") -> ExchangeFile:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "text" not in reader.fieldnames:
        raise FormatError("Not a doccano CSV export: no `text` column.")
    records = [{k: v for k, v in row.items() if k is not None and v != ""} | {"text": row["text"]} for row in reader]
    return read_doccano_records(records, fmt="csv", evaluator=evaluator)


def read_doccano_zip(data: bytes) -> ExchangeFile:
    """doccano's zip: one `<user>.jsonl` (or .json/.csv) per user; `all.jsonl` when annotations are shared."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise FormatError("Not a zip file.") from exc
    records: list[dict] = []
    names: list[str] = []
    with archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            path = PurePosixPath(info.filename)
            if info.is_dir() or path.name.startswith(".") or path.suffix.casefold() not in (".jsonl", ".json", ".csv"):
                continue
            text = archive.read(info).decode("utf-8-sig")
            user = "" if path.stem.casefold() in SHARED_FILE_NAMES else path.stem
            part = _read_member(path.suffix.casefold(), text)
            records.extend(part)
            names.extend([user] * len(part))
    if not records:
        raise FormatError("The zip holds no doccano .jsonl, .json or .csv file.")
    return read_doccano_records(records, fmt="zip", source_names=names)


def _read_member(suffix: str, text: str) -> list[dict]:
    if suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if suffix == ".json":
        data = json.loads(text)
        return data if isinstance(data, list) else [data]
    return [{k: v for k, v in row.items() if k is not None and v != ""} for row in csv.DictReader(io.StringIO(text))]


def _link(values: dict[str, Any], link_column: str | None) -> tuple[str, bool]:
    if link_column and values.get(link_column) not in (None, ""):
        return text_of(values[link_column]).strip(), False
    return stable_link(TOOL, ident=values.get("id"), content=text_of(values.get("text"))), True
