"""Shared bits of the import/export commands: stderr progress, JSON on stdout, domain errors as exit codes,
the project an import goes into (created when missing) and the project an export reads."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management.base import CommandError
from django.db import transaction

from core.errors import DomainError
from core.models import Project
from core.services import project_ensure


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


def add_import_arguments(parser, *, file_help: str) -> None:
    """The project, the file and --lead: what `project_for_import` and `read_file` read."""
    parser.add_argument("project", help="project slug (created when missing, with --lead as its lead)")
    parser.add_argument("file", help=file_help)
    parser.add_argument("--lead", help="username of the lead when the project is created")


@contextmanager
def project_for_import(command, options) -> Iterator[Project]:
    """The project `options["project"]`, created when missing with `options["lead"]` as its lead, in a
    transaction that holds the import done inside the block: notes about the creation go to stderr once the
    block succeeded, and a DomainError raised in the block becomes a CommandError with nothing written (the
    project neither) and nothing said about a creation."""
    try:
        with transaction.atomic():
            project, notes = project_ensure(slug=options["project"], lead_username=options.get("lead"))
            yield project
    except DomainError as exc:
        raise fail(exc) from exc
    for note in notes:  # only once the import held: a failed command reports no creation
        command.stderr.write(note)


def existing_project(slug: str) -> Project:
    """The project an export or a report reads; a CommandError when there is none."""
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise CommandError(f"No project {slug!r}.")
    return project


TABLE_FORMATS = ("table", "csv", "json", "latex", "markdown", "xlsx")


def add_table_arguments(parser) -> None:
    """--format and --output of the commands that print a table (Table 1, Table 2)."""
    parser.add_argument("--format", choices=TABLE_FORMATS, default="table")
    parser.add_argument("--output", "-o", help="write to this file instead of stdout (needed for xlsx)")


def write_table(command, content: bytes, options) -> None:
    """A rendered table to --output, else to stdout (only JSON or the table on stdout; XLSX needs a file)."""
    if options["output"]:
        with open(options["output"], "wb") as handle:
            handle.write(content)
        command.stderr.write(f"Wrote {options['output']}.")
        return
    if options["format"] == "xlsx":
        raise CommandError("XLSX needs --output FILE.")
    command.stdout.write(content.decode(), ending="" if content.endswith(b"\n") else "\n")


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
