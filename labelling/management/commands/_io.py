"""Shared bits of the import/export commands: stderr progress, JSON on stdout, domain errors as exit codes."""

from __future__ import annotations

import json
import sys

from django.core.management.base import CommandError

from labelling.errors import DomainError


def stderr_progress(stderr):
    """A progress callback writing `[ 42%] message` lines to stderr."""
    last = {"text": None}

    def report(done: int, total: int, message: str = "") -> None:
        percent = int(100 * done / total) if total else 100
        text = f"[{percent:3d}%] {message}".rstrip()
        if text != last["text"]:
            last["text"] = text
            stderr.write(text)
            stderr.flush()

    return report


def print_json(stdout, payload) -> None:
    stdout.write(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def fail(exc: DomainError) -> CommandError:
    where = f"{exc.field}: " if exc.field else ""
    return CommandError(f"{where}{exc.message}")


def read_file(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def summary_lines(report: dict) -> list[str]:
    """A human summary of an import report (for stderr)."""
    lines = []
    if "round" in report:
        lines.append(
            f"Round {report['round']}: {report['analysed']} analysed, "
            f"{'–' if report['disagreements'] is None else report['disagreements']} disagreements, "
            f"{report['conflicts']} conflicts, "
            f"{'–' if report['relevant'] is None else report['relevant']} relevant."
        )
        lines.append(
            f"Artefacts created {report['artefacts']['created']}, updated {report['artefacts']['updated']}; "
            f"annotations created {report['annotations']['created']}, updated {report['annotations']['updated']}; "
            f"{'changed' if report['changed'] else 'nothing changed'}."
        )
    else:
        lines.append(
            f"Artefacts created {report['created']}, updated {report['updated']}, "
            f"unchanged {report['unchanged']}, duplicates {len(report['duplicates'])}."
        )
    for entry in report.get("skipped", []):
        sheet = f"{entry['sheet']} " if entry.get("sheet") else ""
        lines.append(f"skipped {sheet}row {entry['row']}: {entry['reason']}")
    for entry in report.get("warnings", []):
        sheet = f"{entry['sheet']} " if entry.get("sheet") else ""
        lines.append(f"warning {sheet}row {entry['row']}: {entry['reason']}")
    for entry in report.get("repaired", []):
        lines.append(f"repaired row {entry['row']}: stray {entry['encoding']} bytes")
    return lines
