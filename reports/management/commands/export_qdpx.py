"""python manage.py export_qdpx PROJECT --output FILE.qdpx"""

from django.core.management.base import BaseCommand, CommandError

from core.cli import existing_project
from reports.exchange.project import export_qdpx


class Command(BaseCommand):
    help = (
        "Write the project as a REFI-QDA project (.qdpx, for ATLAS.ti, MAXQDA, NVivo, QDA Miner, QualCoder…): "
        "users, the taxonomy as the codebook, interview transcripts with their final codings and artefacts "
        "coded with their final label."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--output", "-o", required=True, help="the .qdpx file to write")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        try:
            counts = export_qdpx(project, options["output"])
        except OSError as exc:
            raise CommandError(f"Cannot write {options['output']}: {exc.strerror or exc}.") from exc
        self.stderr.write(
            f"Wrote {options['output']}: {counts['sources']} sources, {counts['codes']} codes, "
            f"{counts['codings']} codings, {counts['users']} users."
        )
