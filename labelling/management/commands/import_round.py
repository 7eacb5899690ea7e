"""python manage.py import_round PROJECT FILE --round N [--outline OUTLINE.csv] [--lead USERNAME]"""

from django.core.management.base import BaseCommand
from django.db import transaction

from labelling.errors import DomainError
from labelling.importers.common import project_ensure
from labelling.importers.services import round_import_file

from ._io import fail, print_json, read_file, stderr_progress, summary_lines


class Command(BaseCommand):
    help = (
        "Import a labelled round kept in the reference study's spreadsheet layout (XLSX, or CSV with the "
        "first sheet's columns) as round N of a project (created when missing). Re-importing the same "
        "file changes nothing. Prints the report as JSON on stdout; progress and a summary go to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("file", help="XLSX or CSV file")
        parser.add_argument("--round", type=int, required=True, dest="number", help="round number")
        parser.add_argument("--outline", help="code,name CSV naming the taxonomy's inner categories")
        parser.add_argument("--lead", help="username of the lead when the project is created")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        outline = read_file(options["outline"]) if options["outline"] else None
        try:
            with transaction.atomic():
                project, notes = project_ensure(slug=options["project"], lead_username=options["lead"])
                for note in notes:
                    self.stderr.write(note)
                report = round_import_file(
                    project=project,
                    data=data,
                    filename=options["file"],
                    number=options["number"],
                    outline_data=outline,
                    outline_name=options["outline"] or "",
                    progress=stderr_progress(self.stderr),
                )
        except DomainError as exc:
            raise fail(exc) from exc
        for line in summary_lines(report):
            self.stderr.write(line)
        print_json(self.stdout, report)
