"""python manage.py import_taxonomy PROJECT FILE [--user USERNAME] [--lead USERNAME]

FILE is the JSON written by export_taxonomy (categories, leaves and their rounds), a REFI-QDA
codebook (.qdc, or the codebook of a .qdpx project: codes with sub-codes become categories,
childless codes below the top level leaves) or an
outline (`code,name` CSV/XLSX). The change is recorded in the taxonomy's history (so it can
be undone on the page) as made by --user, or by the project's first lead.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from core.cli import add_import_arguments, print_json, project_for_import, read_file
from core.models import Membership
from taxonomy import services


class Command(BaseCommand):
    help = (
        "Import a taxonomy: the JSON export (round trip) or a code,name outline. Importing the same file again "
        "changes nothing. Prints the report as JSON on stdout."
    )

    def add_arguments(self, parser):
        add_import_arguments(parser, file_help="taxonomy JSON, REFI-QDA .qdc/.qdpx, or outline CSV/XLSX; - reads stdin")
        parser.add_argument("--user", help="lead or moderator recorded as the author (default: the first lead)")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        with project_for_import(self, options) as project:
            user = self._author(project, options["user"])
            report = services.taxonomy_import_file(
                project=project, user=user, data=data, filename="" if options["file"] == "-" else options["file"]
            )
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
