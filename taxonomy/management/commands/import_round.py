"""python manage.py import_round PROJECT FILE --round N [--outline OUTLINE.csv] [--lead USERNAME]"""

from django.core.management.base import BaseCommand

from core.cli import (
    add_import_arguments,
    print_json,
    project_for_import,
    read_file,
    stderr_progress,
    summary_lines,
)
from taxonomy.round_import import round_import_file


class Command(BaseCommand):
    help = (
        "Import a labelled round kept in the reference study's spreadsheet layout (XLSX, or CSV with the "
        "first sheet's columns) as round N of a project (created when missing). Re-importing the same "
        "file changes nothing. Prints the report as JSON on stdout; progress and a summary go to stderr."
    )

    def add_arguments(self, parser):
        add_import_arguments(parser, file_help="XLSX or CSV file")
        parser.add_argument("--round", type=int, required=True, dest="number", help="round number")
        parser.add_argument("--outline", help="code,name CSV naming the taxonomy's inner categories")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        outline = read_file(options["outline"]) if options["outline"] else None
        with project_for_import(self, options) as project:
            report = round_import_file(
                project=project,
                data=data,
                filename=options["file"],
                number=options["number"],
                outline_data=outline,
                outline_name=options["outline"] or "",
                progress=stderr_progress(self.stderr),
            )
        for line in summary_lines(report):
            self.stderr.write(line)
        print_json(self.stdout, report)
