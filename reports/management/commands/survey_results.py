"""python manage.py survey_results PROJECT [--survey ID] --format table|csv|json|latex|markdown|xlsx [--output FILE]"""

from django.core.management.base import BaseCommand, CommandError

from core.cli import add_table_arguments, existing_project, write_table
from validation.exports import render
from validation.models import Survey
from validation.selectors import survey_results


class Command(BaseCommand):
    help = "Table 2 (validation survey results) of a project's survey; the latest survey unless --survey is given."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--survey", type=int, help="survey id (default: the project's latest survey)")
        add_table_arguments(parser)

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        surveys = Survey.objects.filter(project=project)
        if options["survey"] is not None:
            survey = surveys.filter(pk=options["survey"]).first()
            if survey is None:
                raise CommandError(f"No survey {options['survey']} in {project.slug}.")
        else:
            survey = surveys.order_by("-created_at", "-id").first()
            if survey is None:
                raise CommandError(f"{project.slug} has no survey yet.")
        content, _, _ = render(survey_results(survey), options["format"])
        write_table(self, content, options)
