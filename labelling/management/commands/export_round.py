"""python manage.py export_round PROJECT --round N [--format xlsx|csv] [--output FILE]"""

import sys

from django.core.management.base import BaseCommand

from core.cli import existing_project, fail, stderr_progress
from core.errors import DomainError
from labelling.exports import EXPORT_FORMATS, export_round_file


class Command(BaseCommand):
    help = (
        "Export a round in the reference study's spreadsheet layout (what import_round reads). "
        "Writes FILE (default PROJECT-round-N.FORMAT); `--output -` writes to stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--round", type=int, required=True, dest="number")
        parser.add_argument("--format", choices=EXPORT_FORMATS, default="xlsx")
        parser.add_argument("--output", "-o", help="file to write ('-' for stdout)")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        try:
            content, name, _ = export_round_file(
                project=project,
                number=options["number"],
                fmt=options["format"],
                progress=stderr_progress(self.stderr),
            )
        except DomainError as exc:
            raise fail(exc) from exc
        output = options["output"] or name
        if output == "-":
            self.stdout.flush()
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
            return
        with open(output, "wb") as handle:
            handle.write(content)
        self.stderr.write(f"Wrote {output}.")
