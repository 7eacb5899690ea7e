"""python manage.py round_stats PROJECT --format table|csv|json|latex|markdown|xlsx [--output FILE]"""

from django.core.management.base import BaseCommand

from core.cli import add_table_arguments, existing_project, write_table
from reports.table1 import render, table1


class Command(BaseCommand):
    help = "Table 1 (round statistics) of a project. JSON prints only JSON on stdout; null = never recorded."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        add_table_arguments(parser)

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        content, _, _ = render(table1(project), options["format"])
        write_table(self, content, options)
