"""python manage.py import_project FILE.zip [--slug NEW_SLUG] [--map-users create|existing]"""

from django.core.management.base import BaseCommand, CommandError

from core.cli import print_json
from core.errors import DomainError
from reports.backup.services import project_backup_restore


class Command(BaseCommand):
    help = (
        "Restore a project from an export_project archive, in one transaction: users matched by username "
        "(created inactive, or refused with --map-users existing); a damaged or altered archive is refused "
        "and nothing is written. Prints the report as JSON on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the backup .zip")
        parser.add_argument("--slug", help="restore under this slug (needed when the project's slug is taken)")
        parser.add_argument("--map-users", choices=("create", "existing"), default="create")

    def handle(self, *args, **options):
        def progress(done, total, message=""):
            if message and done % 20000 < 1000:
                self.stderr.write(f"{100 * done // max(total, 1):3d}% {message}")

        try:
            with open(options["file"], "rb") as handle:
                report = project_backup_restore(
                    source=handle, slug=options["slug"], map_users=options["map_users"], progress=progress
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc.strerror or exc}.") from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Restored project {report['project']}: {sum(report['counts'].values())} rows, "
            f"{len(report['users_created'])} users created (inactive), {report['users_matched']} matched."
        )
        print_json(self.stdout, report)
