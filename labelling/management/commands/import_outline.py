"""python manage.py import_outline PROJECT OUTLINE.csv [--lead USERNAME]"""

from django.core.management.base import BaseCommand
from django.db import transaction

from labelling.errors import DomainError
from labelling.importers.common import project_ensure
from labelling.importers.services import outline_import_file

from ._io import fail, print_json, read_file


class Command(BaseCommand):
    help = (
        "Name a project's taxonomy nodes from a code,name outline (nodes keyed by code; importing the "
        "same outline again changes nothing). Prints the report as JSON on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("file", help="code,name CSV (or XLSX)")
        parser.add_argument("--lead", help="username of the lead when the project is created")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        try:
            with transaction.atomic():
                project, notes = project_ensure(slug=options["project"], lead_username=options["lead"])
                for note in notes:
                    self.stderr.write(note)
                report = outline_import_file(project=project, data=data, filename=options["file"])
        except DomainError as exc:
            raise fail(exc) from exc
        print_json(self.stdout, report)
