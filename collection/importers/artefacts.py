"""Importing artefacts (the pool to label) from CSV, JSON, JSON Lines or XLSX.

- Columns map to fields (url, kind, framework, tags, title, body, metadata) by a
  guessed mapping (see headers.guess_artefact_mapping) or one given explicitly;
  unmapped columns are ignored. Labelling columns are never guessed into
  artefact fields, so importing a labelled round's sheet as artefacts does not
  show evaluators one another's tags.
- The same URL (after canonicalisation) is one artefact: a second row with it is
  reported as a duplicate; an artefact already in the project is updated where
  the file brings a non-empty, different value (empty cells never erase), tags
  are merged and metadata keys added. Importing the same file again changes nothing.
- Kind accepts the study's EntityType (`so-keras`) — which also gives the
  framework — or a kind's name; without one the link decides.
- Atomic or report: an unreadable file, or one without a link column, changes
  nothing (InvalidInput); otherwise every bad row is skipped and listed with its
  row number and reason, and the rest is imported in one transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re

from django.db import connection, transaction
from django.utils import timezone

from collection.importers.headers import MAPPING_CHOICES, guess_artefact_mapping, header_key
from collection.importers.reading import Table, cell_text, is_blank
from collection.importers.values import KIND_VALUES, canonical_url, parse_entity_type
from collection.models import Artefact
from core.errors import InvalidInput
from core.models import Project
from core.progress import Problems, Progress, Throttled

BATCH = 2000
TITLE_MAX = 500
STORED = ("id", "url", "kind", "framework", "title", "body", "tags", "metadata")


def mapping_from_options(header: list[str], options: list[str] | dict[str, str] | None) -> dict[int, str]:
    """The guessed mapping, overridden by `column=field` options (columns by name or 1-based number)."""
    mapping = guess_artefact_mapping(header)
    if not options:
        return mapping
    pairs = options.items() if isinstance(options, dict) else [_split_option(o) for o in options]
    keys = {header_key(h): i for i, h in reversed(list(enumerate(header)))}
    for column, target in pairs:
        target = target.strip().casefold()
        if target not in MAPPING_CHOICES:
            raise InvalidInput(
                f"Unknown field {target!r} for column {column!r}; choose one of {', '.join(MAPPING_CHOICES)}.",
                field="map",
            )
        column = column.strip()
        if column.isdecimal() and 1 <= int(column) <= len(header):
            index = int(column) - 1
        elif header_key(column) in keys:
            index = keys[header_key(column)]
        else:
            raise InvalidInput(f"No column {column!r} in the file (columns: {', '.join(header)}).", field="map")
        if target != "metadata":
            for other, name in list(mapping.items()):
                if name == target and other != index:
                    del mapping[other]
        if target == "ignore":
            mapping.pop(index, None)
        else:
            mapping[index] = target
    return mapping


def _split_option(option: str) -> tuple[str, str]:
    if "=" not in option:
        raise InvalidInput(f"--map takes column=field, not {option!r}.", field="map")
    column, target = option.rsplit("=", 1)
    return column, target


def _tags(value) -> list[str]:
    items = [cell_text(v) for v in value] if isinstance(value, list) else re.split(r"[,;|]", cell_text(value))
    out = []
    for item in items:
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return out


def _metadata_value(value):
    if isinstance(value, dict | list | int | float | bool) or value is None:
        return value
    return cell_text(value)


def _title(value, row, problems: Problems) -> str:
    text = cell_text(value)
    if len(text) > TITLE_MAX:
        problems.warn(row.number, f"title cut to {TITLE_MAX} characters")
        text = text[: TITLE_MAX - 1] + "…"
    return text


def _metadata_into(fields: dict, value, column: str) -> None:
    if isinstance(value, dict) and column.casefold() in ("metadata", "meta"):
        fields["metadata"].update(value)
    else:
        fields["metadata"][column] = _metadata_value(value)


# target -> how a cell becomes the field (url and metadata have their own rules)
_SIMPLE_FIELDS = {
    "kind": ("kind_raw", lambda value: value),
    "framework": ("framework", lambda value: cell_text(value)[:60]),
    "tags": ("tags", lambda value: _tags(value)),
    "body": ("body", lambda value: value if isinstance(value, str) else cell_text(value)),
}


def _resolve_kind(fields: dict) -> None:
    """The artefact's kind (and framework, when the entity type names one) from the mapped kind cell."""
    raw = fields.pop("kind_raw")
    text = cell_text(raw).casefold()
    if text in KIND_VALUES:
        fields["kind"] = KIND_VALUES[text]
        return
    kind, framework = parse_entity_type(raw, fields["url"])
    fields["kind"] = kind
    if framework and "framework" not in fields:
        fields["framework"] = framework


def _row_fields(row, mapping: dict[int, str], header: list[str], problems: Problems) -> dict | None:
    fields: dict = {"metadata": {}}
    for index, target in mapping.items():
        value = row.values[index] if index < len(row.values) else None
        if is_blank(value):
            continue
        if target == "url":
            url, problem = canonical_url(value)
            if problem:
                problems.skip(row.number, problem)
                return None
            fields["url"] = url
        elif target == "title":
            fields["title"] = _title(value, row, problems)
        elif target == "metadata":
            _metadata_into(fields, value, header[index])
        elif target in _SIMPLE_FIELDS:
            name, convert = _SIMPLE_FIELDS[target]
            fields[name] = convert(value)
    if "url" not in fields:
        problems.skip(row.number, "no link")
        return None
    if "kind_raw" in fields:
        _resolve_kind(fields)
    return fields


def _whole_row(row, on_malformed: str, problems: Problems):
    """The row, its values beyond the header joined back into its last cell ("keep"), or None ("skip")."""
    if not row.extra:
        return row
    if on_malformed in ("skip", "error"):
        problems.skip(row.number, f"{len(row.extra)} value(s) beyond the last column (an unquoted comma?); skipped")
        return None
    problems.warn(row.number, f"{len(row.extra)} value(s) beyond the last column (an unquoted comma?); kept whole")
    values = list(row.values)
    tail = [cell_text(v) for v in (values[-1:] + row.extra)]
    values[-1] = ",".join(tail)
    return type(row)(number=row.number, values=values)


def artefacts_import(
    *,
    project: Project,
    table: Table,
    mapping: dict[int, str] | None = None,
    progress: Progress | None = None,
    filename: str = "",
    framework: str = "",
    on_malformed: str = "keep",
) -> dict:
    """Import the first sheet of `table` as artefacts of `project`; returns the report.

    `framework` fills rows that name none. A row with values beyond the header (an unquoted
    comma in a title) is reported with its number and, by `on_malformed`, kept whole (the
    surplus joined back into the last column) or skipped — never silently cut."""
    sheet = table.first
    mapping = dict(mapping) if mapping is not None else guess_artefact_mapping(sheet.header)
    if "url" not in mapping.values():
        raise InvalidInput(
            f"No link column found among: {', '.join(h for h in sheet.header if h) or 'no headers'}. "
            "Map one to url (e.g. --map Link=url).",
            field="map",
        )
    tick = Throttled(progress)
    problems = Problems()
    for problem in table.problems:
        problems.skip(problem["row"], problem["reason"])
    total = len(sheet.rows)
    parsed: dict[str, dict] = {}
    first_row: dict[str, int] = {}
    duplicates = []
    for i, row in enumerate(sheet.rows, start=1):
        row = _whole_row(row, on_malformed, problems)
        fields = _row_fields(row, mapping, sheet.header, problems) if row is not None else None
        if fields is not None and framework and not fields.get("framework"):
            fields["framework"] = framework[:60]
        if fields is not None:
            url = fields["url"]
            if url in parsed:
                duplicates.append({"row": row.number, "url": url, "first_row": first_row[url]})
            else:
                parsed[url] = fields
                first_row[url] = row.number
        if i % 1000 == 0:
            tick(i, total * 2, "reading rows")
    malformed = [p for p in problems.skipped if "beyond the last column" in p["reason"]]
    if on_malformed == "error" and malformed:
        raise InvalidInput(
            "Malformed rows: " + "; ".join(f"row {p['row']}: {p['reason']}" for p in malformed[:10]),
            field="file",
        )
    tick(total, total * 2, "writing artefacts")

    created = updated = 0
    urls = list(parsed)
    with transaction.atomic():
        for start in range(0, len(urls), BATCH):
            chunk = urls[start : start + BATCH]
            existing = {
                row[1]: row for row in Artefact.objects.filter(project=project, url__in=chunk).values_list(*STORED)
            }
            new, changed, changed_fields = [], [], set()
            for url in chunk:
                fields = parsed[url]
                row = existing.get(url)
                if row is None:
                    kind = fields.get("kind") or parse_entity_type("", url)[0]
                    new.append(
                        Artefact(
                            project=project,
                            url=url,
                            kind=kind,
                            framework=fields.get("framework", ""),
                            tags=fields.get("tags", []),
                            title=fields.get("title", ""),
                            body=fields.get("body", ""),
                            metadata=fields["metadata"],
                        )
                    )
                    continue
                current = dict(zip(STORED, row, strict=True))
                touched = _apply(current, fields)
                if touched:
                    changed.append(Artefact(project=project, **current))
                    changed_fields |= touched
            if new:
                _insert(new)
                created += len(new)
            if changed:
                Artefact.objects.bulk_update(changed, sorted(changed_fields), batch_size=500)
                updated += len(changed)
            tick(total + start + len(chunk), total * 2, "writing artefacts")
    tick(total * 2, total * 2, "done")
    return {
        "file": filename,
        "format": table.format,
        "project": project.slug,
        "rows": total,
        "created": created,
        "updated": updated,
        "unchanged": len(parsed) - created - updated,
        "duplicates": duplicates,
        "skipped": problems.skipped,
        "warnings": problems.warnings,
        "repaired": [{"row": r, "encoding": e} for r, e in sorted(table.repairs.items())],
        "columns": {sheet.header[i]: f for i, f in sorted(mapping.items())},
        "ignored_columns": [h for i, h in enumerate(sheet.header) if h and i not in mapping],
        "blank_rows": sheet.blank_rows,
    }


def _insert(artefacts: list[Artefact]) -> None:
    """Insert new artefacts: PostgreSQL's COPY when available (100,000 rows in seconds), else bulk_create."""
    copy = False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            copy = hasattr(cursor.cursor, "copy_expert")  # psycopg2
    if not copy:
        Artefact.objects.bulk_create(artefacts, batch_size=BATCH)
        return
    now = timezone.now().isoformat()
    buffer = io.StringIO()
    # PostgreSQL's COPY input, never a file for a spreadsheet: values go in exactly (not core.csv_safe)
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for a in artefacts:
        writer.writerow(
            [
                a.project_id,
                a.kind,
                a.framework,
                json.dumps(a.tags, ensure_ascii=False),
                a.url,
                a.title.replace("\x00", ""),
                a.body.replace("\x00", ""),
                json.dumps(a.metadata, ensure_ascii=False, default=str).replace("\\u0000", ""),
                now,
            ]
        )
    buffer.seek(0)
    columns = "project_id, kind, framework, tags, url, title, body, metadata, created_at"
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {Artefact._meta.db_table} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)


def _apply(current: dict, fields: dict) -> set[str]:
    """Set the file's non-empty values on an existing artefact's stored values; the names that changed."""
    touched = set()
    for name in ("kind", "framework", "title", "body"):
        value = fields.get(name)
        if value and current[name] != value:
            current[name] = value
            touched.add(name)
    if fields.get("tags"):
        merged = list(current["tags"] or [])
        merged += [t for t in fields["tags"] if t not in merged]
        if merged != (current["tags"] or []):
            current["tags"] = merged
            touched.add("tags")
    if fields["metadata"]:
        merged = dict(current["metadata"] or {})
        merged.update(fields["metadata"])
        if json.dumps(merged, sort_keys=True, default=str) != json.dumps(
            current["metadata"] or {}, sort_keys=True, default=str
        ):
            current["metadata"] = merged
            touched.add("metadata")
    return touched
