"""python manage.py export_exchange PROJECT --format label-studio|doccano [--output FILE] [--config FILE]"""

import io

from django.core.management.base import BaseCommand, CommandError

from core.cli import existing_project
from reports.exchange.project import export_doccano, export_labelstudio, labelstudio_project_config


class Command(BaseCommand):
    help = (
        "Write the project's artefacts with their final labels for another tool: Label Studio JSON (tasks, "
        "the final label as an annotation) or doccano JSONL. Without --output the file goes to stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--format", choices=("label-studio", "doccano"), required=True)
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")
        parser.add_argument("--config", help="label-studio: also write the matching labelling configuration (XML)")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        write = export_labelstudio if options["format"] == "label-studio" else export_doccano
        try:
            if options["output"]:
                with open(options["output"], "w", encoding="utf-8", newline="\n") as handle:
                    count = write(project, handle)
                self.stderr.write(f"Wrote {options['output']}: {count} artefacts ({options['format']}).")
            else:
                buffer = io.StringIO()
                write(project, buffer)
                self.stdout.write(buffer.getvalue(), ending="")
            if options["config"] and options["format"] == "label-studio":
                with open(options["config"], "w", encoding="utf-8") as handle:
                    handle.write(labelstudio_project_config(project))
        except OSError as exc:
            raise CommandError(f"Cannot write: {exc.strerror or exc}.") from exc
