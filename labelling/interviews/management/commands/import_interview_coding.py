"""python manage.py import_interview_coding PROJECT FILE [--lead USERNAME]"""

from django.core.management.base import BaseCommand
from django.db import transaction

from labelling.errors import DomainError
from labelling.importers.common import project_ensure
from labelling.interviews.services import coding_sheet_import
from labelling.management.commands._io import fail, print_json, read_file


class Command(BaseCommand):
    help = (
        "Import an interview coding sheet (Interview Num, Evaluator 1, Evaluator 2, Moderator Tag, Tag, Status; "
        "XLSX or CSV) into a project, created when missing with --lead as its lead. One tagged piece per "
        "non-empty row; interviews without a transcript become records without text, and attach to uploaded "
        "transcripts with the same number. Re-importing the same file changes nothing. Prints the report as "
        "JSON on stdout; a summary goes to stderr."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("file", help="XLSX or CSV coding sheet ('-' reads stdin)")
        parser.add_argument("--lead", help="username of the lead when the project is created")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        try:
            with transaction.atomic():
                project, notes = project_ensure(slug=options["project"], lead_username=options["lead"])
                for note in notes:
                    self.stderr.write(note)
                report = coding_sheet_import(project=project, user=None, filename=options["file"], data=data)
        except DomainError as exc:
            raise fail(exc) from exc
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
