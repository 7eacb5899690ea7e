"""python manage.py import_taxonomy PROJECT FILE [--user USERNAME] [--lead USERNAME]

FILE is the JSON written by export_taxonomy (categories, leaves and their rounds) or an
outline (`code,name` CSV/XLSX). The change is recorded in the taxonomy's history (so it can
be undone on the page) as made by --user, or by the project's first lead.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from labelling.errors import DomainError
from labelling.management.commands._io import print_json, read_file
from labelling.models import Membership
from taxonomy import services


class Command(BaseCommand):
    help = (
        "Import a taxonomy: the JSON export (round trip) or a code,name outline. Importing the same file again "
        "changes nothing. Prints the report as JSON on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug (created when missing, with --lead as its lead)")
        parser.add_argument("file", help="taxonomy JSON, or outline CSV/XLSX; - reads stdin")
        parser.add_argument("--user", help="lead or moderator recorded as the author (default: the first lead)")
        parser.add_argument("--lead", help="username of the lead when the project is created")

    def handle(self, *args, **options):
        from labelling.importers.common import project_ensure

        data = read_file(options["file"])
        try:
            with transaction.atomic():
                project, notes = project_ensure(slug=options["project"], lead_username=options["lead"])
                for note in notes:
                    self.stderr.write(note)
                user = self._author(project, options["user"])
                report = services.taxonomy_import_file(
                    project=project, user=user, data=data, filename="" if options["file"] == "-" else options["file"]
                )
        except DomainError as exc:
            where = f"{exc.field}: " if exc.field else ""
            raise CommandError(f"{where}{exc.message}") from exc
        self.stderr.write(services.import_summary(report))
        print_json(self.stdout, report)

    @staticmethod
    def _author(project, username):
        if username:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}.")
            return user
        membership = (
            Membership.objects.filter(project=project, is_lead=True, is_active=True)
            .select_related("user")
            .order_by("created_at", "id")
            .first()
        )
        if membership is None:
            raise CommandError(f"Project {project.slug} has no active lead; give --user or --lead.")
        return membership.user
