"""python manage.py export_annotations PROJECT [--output FILE]"""

from django.core.management.base import BaseCommand

from core.cli import existing_project, stderr_progress
from labelling.exports import annotations_export_jsonl


class Command(BaseCommand):
    help = "The project's annotations and decisions as JSON Lines (stdout unless --output is given)."

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--output", "-o", help="file to write")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        lines = annotations_export_jsonl(project, stderr_progress(self.stderr))
        if options["output"]:
            count = 0
            with open(options["output"], "w", encoding="utf-8") as handle:
                for line in lines:
                    handle.write(line + "\n")
                    count += 1
            self.stderr.write(f"Wrote {count} lines to {options['output']}.")
            return
        for line in lines:
            self.stdout.write(line)
