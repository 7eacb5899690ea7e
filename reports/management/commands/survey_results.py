"""python manage.py survey_results PROJECT [--survey ID] --format table|csv|json|latex|markdown|xlsx [--output FILE]

Table 2 in the paper's layout (reports.table2): Yes/No %, severity and effort distributions in whole
percents (half up) with their bases n; JSON `{"rows": [...]}` with the exact counts."""

from django.core.management.base import BaseCommand, CommandError

from core.cli import add_table_arguments, existing_project, write_table
from core.errors import DomainError
from reports.selectors import survey_table2, survey_table2_xlsx
from reports.table2 import render
from validation import selectors as validation_selectors


class Command(BaseCommand):
    help = "Table 2 (validation survey results) of a project's survey; the latest survey unless --survey is given."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--survey", type=int, help="survey id (default: the project's latest survey)")
        add_table_arguments(parser)

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        if options["survey"] is not None:
            try:
                survey = validation_selectors.survey_get(project, options["survey"])
            except DomainError:
                raise CommandError(f"No survey {options['survey']} in {project.slug}.") from None
        else:
            survey = validation_selectors.survey_latest(project)
            if survey is None:
                raise CommandError(f"{project.slug} has no survey yet.")
        table = survey_table2_xlsx(survey) if options["format"] == "xlsx" else survey_table2(survey)
        content, _, _ = render(table, options["format"])
        write_table(self, content, options)
