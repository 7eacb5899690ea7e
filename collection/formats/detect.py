"""Recognising another tool's export from its name and content, and reading it.

`read_exchange(name, content)` returns an ExchangeFile, or None when the file is
no known tool's export (then Concord's own column importer reads it). `tool`
forces a reader ("label-studio" or "doccano"); a forced reader that does not fit
raises FormatError with the reason.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import PurePosixPath

from .common import ExchangeFile, FormatError
from .doccano import is_doccano_record, read_doccano_csv, read_doccano_json, read_doccano_jsonl, read_doccano_zip
from .labelstudio import (
    is_labelstudio_json,
    is_labelstudio_min,
    read_labelstudio_csv,
    read_labelstudio_json,
    read_labelstudio_min,
)

TOOLS = ("label-studio", "doccano")


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError("The file is not UTF-8 text.") from exc


def _json_or_lines(text: str):
    """(data, is_lines): a JSON document, or JSON Lines read into a list."""
    try:
        return json.loads(text), False
    except RecursionError as exc:  # nested beyond what the parser follows: not a file of any tool
        raise FormatError("The JSON is nested too deeply.") from exc
    except ValueError:
        pass
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except RecursionError as exc:
                raise FormatError(f"Line {number} is nested too deeply.") from exc
            except ValueError as exc:
                raise FormatError(f"Line {number} is neither JSON nor JSON Lines: {exc}.") from exc
    return records, True


class _NotAnExport(Exception):
    pass


def _lenient(tool: str | None, read, *args):
    """`read(*args)`; while recognising (no tool forced) a file that does not parse is no export."""
    try:
        return read(*args)
    except FormatError:
        if tool is not None:
            raise
        raise _NotAnExport from None


def read_exchange(
    name: str,
    content: bytes,
    *,
    tool: str | None = None,
    label_fields: list[str] | None = None,
    evaluator: str = "",
) -> ExchangeFile | None:
    if tool is not None and tool not in TOOLS:
        raise FormatError(f"Unknown tool {tool!r}; choose one of {', '.join(TOOLS)}.")
    suffix = PurePosixPath(name).suffix.casefold()
    try:
        if content[:4] == b"PK\x03\x04":
            if suffix != ".zip" and tool != "doccano":
                return None  # XLSX and other zip-based files are Concord's column importer's
            return _lenient(tool, read_doccano_zip, content)
        # not UTF-8: no tool's export; Concord's column importer repairs legacy encodings
        text = _lenient(tool, _decode, content)
        if suffix in (".csv", ".tsv"):
            return _read_csv(text, tool=tool, label_fields=label_fields, evaluator=evaluator)
        if suffix not in (".json", ".jsonl", ".ndjson", ".txt", ""):
            return None
        data, is_lines = _lenient(tool, _json_or_lines, text)
    except _NotAnExport:
        return None
    return _read_json(text, data, is_lines, tool=tool, label_fields=label_fields, evaluator=evaluator)


def _read_json(text: str, data, is_lines: bool, *, tool, label_fields, evaluator) -> ExchangeFile | None:
    if tool == "label-studio" or (tool is None and is_labelstudio_json(data)):
        if is_labelstudio_json(data):
            return read_labelstudio_json(data)
        return read_labelstudio_min(data if isinstance(data, list) else [data], label_fields=label_fields)
    if tool is None and isinstance(data, list) and is_labelstudio_min(data):
        return read_labelstudio_min(data, label_fields=label_fields)
    records = data if isinstance(data, list) else [data]
    if tool == "doccano" or (records and all(is_doccano_record(r) for r in records)):
        if is_lines:
            return read_doccano_jsonl(text, evaluator=evaluator)
        return read_doccano_json(data, evaluator=evaluator)
    return None


def _read_csv(text: str, *, tool, label_fields, evaluator) -> ExchangeFile | None:
    header = next(csv.reader(io.StringIO(text)), [])
    if tool == "label-studio" or (tool is None and ("annotator" in header or "annotation_id" in header)):
        return read_labelstudio_csv(text, label_fields=label_fields)
    if tool == "doccano" or (tool is None and "text" in header and "label" in header):
        return read_doccano_csv(text, evaluator=evaluator)
    return None
