"""python manage.py import_interview_coding PROJECT FILE [--lead USERNAME]"""

from django.core.management.base import BaseCommand

from core.cli import add_import_arguments, print_json, project_for_import, read_file
from interviews.services import coding_sheet_import


class Command(BaseCommand):
    help = (
        "Import an interview coding sheet (Interview Num, Evaluator 1, Evaluator 2, Moderator Tag, Tag, Status; "
        "XLSX or CSV) into a project, created when missing with --lead as its lead. One tagged piece per "
        "non-empty row; interviews without a transcript become records without text, and attach to uploaded "
        "transcripts with the same number. Re-importing the same file changes nothing. Prints the report as "
        "JSON on stdout; a summary goes to stderr."
    )

    def add_arguments(self, parser):
        add_import_arguments(parser, file_help="XLSX or CSV coding sheet ('-' reads stdin)")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        with project_for_import(self, options) as project:
            report = coding_sheet_import(project=project, user=None, filename=options["file"], data=data)
        self.stderr.write(
            f"{report['rows']} rows, {report['interviews']} interviews ({report['interviews_created']} created); "
            f"{report['tagged_pieces']} tagged pieces, {report['final_tags']} final tags "
            f"({report['accepted']} accepted, {report['removed']} removed), {report['not_kept']} not kept; "
            f"pieces created {report['pieces_created']}, updated {report['pieces_updated']}, "
            f"unchanged {report['pieces_unchanged']}, deleted {report['pieces_deleted']}."
        )
        for entry in report["skipped"]:
            self.stderr.write(f"skipped row {entry['row']}: {entry['reason']}")
        for note in report["notes"]:
            self.stderr.write(f"note: {note}")
        print_json(self.stdout, report)
