"""python manage.py import_artefacts PROJECT FILE [--map column=field ...] [--lead USERNAME]"""

from django.core.management.base import BaseCommand

from collection.importers.headers import MAPPING_CHOICES
from collection.services import artefacts_import_file
from core.cli import (
    add_import_arguments,
    print_json,
    project_for_import,
    read_file,
    stderr_progress,
    summary_lines,
)


class Command(BaseCommand):
    help = (
        "Import artefacts from CSV, JSON, JSON Lines or XLSX into a project (created when missing). "
        "Prints the report as JSON on stdout; progress and a summary go to stderr."
    )

    def add_arguments(self, parser):
        add_import_arguments(parser, file_help="CSV, JSON, JSON Lines or XLSX file ('-' for stdin, read as CSV/JSON)")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help=f"map a column (header or 1-based number) to one of: {', '.join(MAPPING_CHOICES)}",
        )

    def handle(self, *args, **options):
        data = read_file(options["file"])
        with project_for_import(self, options) as project:
            report = artefacts_import_file(
                project=project,
                data=data,
                filename=options["file"],
                map_options=options["map"],
                progress=stderr_progress(self.stderr),
            )
        for line in summary_lines(report):
            self.stderr.write(line)
        print_json(self.stdout, report)
