"""python manage.py load_demo — a demo project to try Concord at once (idempotent; `make run` calls it)."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from collection.importers.headers import match_round_headers, round_header_score
from collection.importers.reading import read_table
from collection.importers.values import canonical_url
from collection.models import Artefact
from collection.services import artefacts_import_file
from core.errors import DomainError
from core.services import membership_set, project_ensure
from labelling.models import Round
from labelling.services import round_create
from taxonomy.round_import import outline_import_file, round_import_file

SLUG = "demo"
NAME = "Demo: real faults in deep learning systems"
CITATION = (
    "Artefacts, round 2 and the taxonomy outline come from the replication package of Humbatova, "
    "Jahangirova, Bavota, Riccio, Stocco, Tonella: “Taxonomy of Real Faults in Deep Learning Systems”, "
    "ICSE 2020 (DOI 10.5281/zenodo.3667541), licensed CC-BY 4.0."
)
# username, password, roles — demo credentials, printed on every run
PEOPLE = [
    ("demo-lead", "concord-lead", {"lead": True}),
    ("demo-moderator", "concord-moderator", {"moderator": True}),
    ("demo-eva1", "concord-eva1", {"evaluator": True}),
    ("demo-eva2", "concord-eva2", {"evaluator": True}),
    ("demo-eva3", "concord-eva3", {"evaluator": True}),
]


class Command(BaseCommand):
    help = (
        "Create (or refresh) the demo project: a lead, a moderator and three evaluators (passwords printed), "
        "the artefacts of the study's round_1.xlsx in an open round for the three evaluators, the study's "
        "round 2 imported as a labelled round and its taxonomy outline. Safe to run again."
    )

    def handle(self, *args, **options):
        User = get_user_model()
        replication = Path(settings.SHARED_FIXTURES_DIR) / "replication"
        with transaction.atomic():
            users = {}
            for username, password, _ in PEOPLE:
                user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
                user.set_password(password)
                user.is_active = True
                user.save()
                users[username] = user
            project, notes = project_ensure(slug=SLUG, lead_username="demo-lead", name=NAME)
            for note in notes:
                self.stderr.write(note)
            if not project.description:
                project.description = CITATION
                project.save(update_fields=["description"])
            for username, _, roles in PEOPLE:
                membership_set(project=project, user=users[username], **roles)
        lead = users["demo-lead"]
        evaluators = [users[f"demo-eva{i}"] for i in (1, 2, 3)]

        if not replication.exists():
            self.stderr.write(f"Shared fixtures not found at {replication}: the demo project has no artefacts.")
        else:
            try:
                self._load(project, replication, lead, evaluators)
            except DomainError as exc:
                self.stderr.write(f"Could not load the demo data: {exc.message}")

        self.stdout.write(f"Demo project “{project.name}” (/p/{project.slug}/). Log in at /accounts/login/ as:")
        for username, password, roles in PEOPLE:
            self.stdout.write(f"  {username:<16} password {password:<18} ({', '.join(roles)})")

    def _load(self, project, replication, lead, evaluators):
        round_1 = replication / "round_1.xlsx"
        with transaction.atomic():
            report = artefacts_import_file(project=project, data=round_1.read_bytes(), filename=round_1.name)
            self.stderr.write(
                f"Artefacts from {round_1.name}: {report['created']} created, {report['unchanged']} unchanged."
            )
            outline = replication / "taxonomy_outline.csv"
            if outline.exists():
                outline_import_file(project=project, data=outline.read_bytes(), filename=outline.name, user=lead)
            round_2 = replication / "round_2.xlsx"
            if (
                round_2.exists()
                and not Round.objects.filter(project=project, number=2).exclude(source=Round.Source.IMPORT).exists()
            ):
                report = round_import_file(
                    project=project, data=round_2.read_bytes(), filename=round_2.name, number=2, user=lead
                )
                self.stderr.write(
                    f"Round 2 imported from {round_2.name}: {report['analysed']} analysed, "
                    f"{report['conflicts']} conflicts, {report['relevant']} relevant."
                )
        if Round.objects.filter(project=project, number=1).exists():
            return

        sheet = read_table(round_1.read_bytes(), round_1.name, header_score=round_header_score).first
        link = match_round_headers(sheet.header)[0]["link"]
        urls = [canonical_url(row.values[link])[0] for row in sheet.rows]
        ids = list(
            Artefact.objects.filter(project=project, url__in=urls, round_items__isnull=True).values_list(
                "id", flat=True
            )
        )
        if ids:
            round_create(
                project=project,
                user=lead,
                evaluator_ids=[e.id for e in evaluators],
                artefact_ids=ids,
                number=1,
                name="Round 1 (open: try labelling)",
            )
            self.stderr.write(f"Opened round 1 with {len(ids)} artefacts for demo-eva1, demo-eva2 and demo-eva3.")
