"""python manage.py import_artefacts PROJECT FILE [--map column=field ...] [--framework F] [--malformed keep|skip|error]
[--fetch] [--lead USERNAME]"""

from django.core.management.base import BaseCommand

from collection.importers.headers import MAPPING_CHOICES
from collection.mining.csvlines import MODES as CSV_MODES
from collection.services import artefacts_fetch_missing, artefacts_import_file
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
        parser.add_argument("--framework", default="", help="framework of rows that name none, e.g. keras")
        parser.add_argument(
            "--malformed",
            choices=CSV_MODES,
            default="keep",
            help="a malformed CSV line (more cells than columns, a quote never closed) is reported with its line "
            "number and kept whole (default), skipped, or fails the import (error)",
        )
        parser.add_argument(
            "--fetch",
            action="store_true",
            help="fill title and body of link-only artefacts from the Stack Exchange and GitHub APIs",
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
                framework=options["framework"],
                on_malformed=options["malformed"],
            )
            if options["fetch"]:  # inside the import's transaction: a failed fetch leaves nothing behind
                report["fetched"] = artefacts_fetch_missing(project=project, progress=stderr_progress(self.stderr))
        for entry in report["malformed_lines"]:
            self.stderr.write(f"malformed line {entry['line']}: {entry['reason']}")
        for line in summary_lines(report):
            self.stderr.write(line)
        print_json(self.stdout, report)
