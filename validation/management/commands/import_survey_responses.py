"""python manage.py import_survey_responses PROJECT FILE [--survey ID] [--map "GROUP=CATEGORY" ...] [--preview]"""

from django.core.management.base import BaseCommand, CommandError

from core.cli import existing_project, fail, print_json, read_file
from core.errors import DomainError
from core.uploads import check_upload
from validation import selectors
from validation.services import survey_responses_import


class Command(BaseCommand):
    help = (
        "Import survey responses collected elsewhere: a Qualtrics export (CSV or XLSX, either header layout) or "
        "a plain CSV with one row per respondent and three columns per category (encountered, severity, effort). "
        "Column groups are matched to categories by name (tolerantly); --map names the others, --map 'GROUP=' "
        "ignores one. Without --survey a closed survey asking the matched categories is created. Respondents are "
        "known by their id: importing the same file again adds nothing. Prints the report as JSON on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("file", help="the export, CSV or XLSX ('-' reads stdin)")
        parser.add_argument("--survey", type=int, help="import into this survey (default: a new, closed survey)")
        parser.add_argument(
            "--map", action="append", default=[], metavar="COLUMN GROUP=CATEGORY", help="match a column group by hand"
        )
        parser.add_argument("--preview", action="store_true", help="read and match only; write nothing")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        survey = None
        try:
            if options["survey"] is not None:
                survey = selectors.survey_get(project, options["survey"])
            data = read_file(options["file"])
            check_upload(data, kind="survey", name=options["file"])  # size, XLSX bomb and CSV shape first
            result = survey_responses_import(
                project=project,
                user=None,
                data=data,
                filename=options["file"],
                survey=survey,
                mapping=options["map"],
                preview=options["preview"],
            )
        except DomainError as exc:
            raise fail(exc) from exc
        report = result.as_dict()
        for row in report["groups"]:
            where = f"{row['code']} {row['category']}".strip() if row["category"] else "–"
            self.stderr.write(f"{row['group']!r} -> {where} {('(' + row['how'] + ')') if row['how'] else row['note']}")
        if result.match.unmatched:
            self.stderr.write(
                "Unmatched column groups (map them with --map 'GROUP=CATEGORY'): " + ", ".join(result.match.unmatched)
            )
        if not options["preview"]:
            self.stderr.write(
                f"{report['respondents']} respondents: {report['added']} added, "
                f"{report['already_imported']} already imported (survey {report['survey']})."
            )
        for warning in report["warnings"] + report["dropped"]:
            self.stderr.write(f"note: {warning}")
        if result.survey is None and not options["preview"]:
            raise CommandError("Nothing imported.")
        print_json(self.stdout, report)
