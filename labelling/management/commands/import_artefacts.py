"""python manage.py import_artefacts PROJECT FILE [--map column=field ...] [--lead USERNAME]"""

from django.core.management.base import BaseCommand
from django.db import transaction

from labelling.errors import DomainError
from labelling.importers.common import project_ensure
from labelling.importers.headers import MAPPING_CHOICES
from labelling.importers.services import artefacts_import_file

from ._io import fail, print_json, read_file, stderr_progress, summary_lines


class Command(BaseCommand):
    help = (
        "Import artefacts from CSV, JSON, JSON Lines or XLSX into a project (created when missing). "
        "Prints the report as JSON on stdout; progress and a summary go to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("file", help="CSV, JSON, JSON Lines or XLSX file ('-' for stdin, read as CSV/JSON)")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help=f"map a column (header or 1-based number) to one of: {', '.join(MAPPING_CHOICES)}",
        )
        parser.add_argument("--lead", help="username of the lead when the project is created")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        try:
            with transaction.atomic():
                project, notes = project_ensure(slug=options["project"], lead_username=options["lead"])
                for note in notes:
                    self.stderr.write(note)
                report = artefacts_import_file(
                    project=project,
                    data=data,
                    filename=options["file"],
                    map_options=options["map"],
                    progress=stderr_progress(self.stderr),
                )
        except DomainError as exc:
            raise fail(exc) from exc
        for line in summary_lines(report):
            self.stderr.write(line)
        print_json(self.stdout, report)
