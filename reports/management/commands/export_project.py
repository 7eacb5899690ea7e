"""python manage.py export_project PROJECT --output FILE.zip"""

from django.core.management.base import BaseCommand, CommandError

from core.cli import existing_project
from reports.backup.services import project_backup


class Command(BaseCommand):
    help = (
        "Back up a whole project into one zip: a manifest (format version, Concord version, counts, SHA-256 of "
        "each member) and one JSON Lines file per table of every app. import_project restores it."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--output", "-o", required=True, help="the .zip file to write")

    def handle(self, *args, **options):
        project = existing_project(options["project"])

        def progress(done, total, message=""):
            if message:
                self.stderr.write(f"{100 * done // max(total, 1):3d}% {message}")

        try:
            manifest = project_backup(project=project, target=options["output"], progress=progress)
        except OSError as exc:
            raise CommandError(f"Cannot write {options['output']}: {exc.strerror or exc}.") from exc
        rows = sum(manifest["counts"].values())
        self.stderr.write(f"Wrote {options['output']}: {len(manifest['tables'])} tables, {rows} rows.")
