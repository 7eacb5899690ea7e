"""python manage.py round_stats PROJECT --format table|csv|json|latex|markdown [--output FILE]"""

from django.core.management.base import BaseCommand, CommandError

from labelling.models import Project
from labelling.stats import render, table1

FORMATS = ("table", "csv", "json", "latex", "markdown", "xlsx")


class Command(BaseCommand):
    help = "Table 1 (round statistics) of a project. JSON prints only JSON on stdout; null = never recorded."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--format", choices=FORMATS, default="table")
        parser.add_argument("--output", "-o", help="write to this file instead of stdout (needed for xlsx)")

    def handle(self, *args, **options):
        project = Project.objects.filter(slug=options["project"]).first()
        if project is None:
            raise CommandError(f"No project {options['project']!r}.")
        content, _, _ = render(table1(project), options["format"])
        if options["output"]:
            with open(options["output"], "wb") as handle:
                handle.write(content)
            self.stderr.write(f"Wrote {options['output']}.")
            return
        if options["format"] == "xlsx":
            raise CommandError("XLSX needs --output FILE.")
        self.stdout.write(content.decode(), ending="" if content.endswith(b"\n") else "\n")
