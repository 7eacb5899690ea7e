"""python manage.py import_participants PROJECT FILE [--kind interviewee|respondent]"""

from django.core.management.base import BaseCommand

from core.cli import existing_project, fail, print_json, read_file
from core.errors import DomainError
from core.uploads import check_upload
from validation.models import Participant
from validation.services import participants_import


class Command(BaseCommand):
    help = (
        "Import the study's participant sheets (XLSX, every sheet, or CSV): id, role, experience, DL experience, "
        "frameworks, headers as written. A participant's kind comes from a Kind column or the sheet title, else "
        "--kind. Importing again updates, never duplicates. Prints the counts as JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("file", help="XLSX or CSV ('-' reads stdin)")
        parser.add_argument("--kind", choices=Participant.Kind.values, default="", help="kind of every participant")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        try:
            data = read_file(options["file"])
            # a command is not a request: it imports at once, within the limits of survey material
            check_upload(data, kind="survey", name=options["file"])
            counts = participants_import(
                project=project,
                user=None,
                data=data,
                filename=options["file"],
                default_kind=options["kind"],
            )
        except DomainError as exc:
            raise fail(exc) from exc
        self.stderr.write(f"{counts['created']} participants added, {counts['updated']} updated.")
        print_json(self.stdout, counts)
