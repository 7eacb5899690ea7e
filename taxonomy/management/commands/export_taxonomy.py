"""python manage.py export_taxonomy PROJECT --format json|csv|svg [--output FILE] [--source KIND ...] [--round N]"""

from django.core.management.base import BaseCommand, CommandError

from core.cli import existing_project, fail
from core.errors import DomainError
from taxonomy import exports, selectors


class Command(BaseCommand):
    help = (
        "Write a project's taxonomy as JSON ({nodes, unmapped}), CSV (path, level, counts) or a standalone SVG "
        "figure. Without --output the document goes to stdout (and nothing else does)."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--format", choices=exports.FORMATS, default="json")
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")
        parser.add_argument(
            "--source",
            action="append",
            choices=sorted(selectors.SOURCE_VALUES),
            help="count only this source (repeatable): an artefact kind or `interviews`",
        )
        parser.add_argument("--round", type=int, help="count only artefacts of this round")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        params = {"source": options["source"] or [], "round": options["round"]}
        try:
            filters = selectors.filters_from_params(params, project=project)
        except DomainError as exc:
            raise fail(exc) from exc
        content = exports.export(project, options["format"], filters=filters)
        if options["output"]:
            try:
                with open(options["output"], "w", encoding="utf-8", newline="") as handle:
                    handle.write(content)
            except OSError as exc:
                raise CommandError(f"Cannot write {options['output']}: {exc.strerror or exc}.") from exc
            self.stderr.write(f"Wrote {options['output']} ({options['format']}).")
            return
        self.stdout.write(content, ending="")
