"""python manage.py import_outline PROJECT OUTLINE.csv [--lead USERNAME]"""

from django.core.management.base import BaseCommand

from core.cli import add_import_arguments, print_json, project_for_import, read_file
from taxonomy.round_import import outline_import_file


class Command(BaseCommand):
    help = (
        "Name a project's taxonomy nodes from a code,name outline (nodes keyed by code; importing the "
        "same outline again changes nothing). Prints the report as JSON on stdout."
    )

    def add_arguments(self, parser):
        add_import_arguments(parser, file_help="code,name CSV (or XLSX)")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        with project_for_import(self, options) as project:
            report = outline_import_file(project=project, data=data, filename=options["file"])
        print_json(self.stdout, report)
