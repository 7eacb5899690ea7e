"""python manage.py survey_results PROJECT [--survey ID] --format table|csv|json|latex|markdown|xlsx [--output FILE]"""

from django.core.management.base import BaseCommand, CommandError

from labelling.models import Project
from taxonomy.validation.exports import render
from taxonomy.validation.models import Survey
from taxonomy.validation.selectors import survey_results

FORMATS = ("table", "csv", "json", "latex", "markdown", "xlsx")


class Command(BaseCommand):
    help = "Table 2 (validation survey results) of a project's survey; the latest survey unless --survey is given."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--survey", type=int, help="survey id (default: the project's latest survey)")
        parser.add_argument("--format", choices=FORMATS, default="table")
        parser.add_argument("--output", "-o", help="write to this file instead of stdout (needed for xlsx)")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project {options['project']!r}.")
        surveys = Survey.objects.filter(project=project)
        if options["survey"] is not None:
            survey = surveys.filter(pk=options["survey"]).first()
            if survey is None:
                raise CommandError(f"No survey {options['survey']} in {project.slug}.")
        else:
            survey = surveys.order_by("-created_at", "-id").first()
            if survey is None:
                raise CommandError(f"{project.slug} has no survey yet.")
        if options["format"] == "xlsx" and not options["output"]:
            raise CommandError("XLSX needs --output FILE.")
        content, _, _ = render(survey_results(survey), options["format"])
        if options["output"]:
            with open(options["output"], "wb") as handle:
                handle.write(content)
            self.stderr.write(f"Wrote {options['output']}.")
            return
        self.stdout.write(content.decode(), ending="" if content.endswith(b"\n") else "\n")
