"""python manage.py agreement PROJECT [--round N] [--level leaf|1|2|…]
--format table|csv|json|latex|markdown [--output FILE] [--kind KIND] [--framework NAME]"""

from django.core.management.base import BaseCommand

from core.cli import existing_project, fail, write_table
from core.errors import DomainError
from reports.agreement import FORMATS, render
from reports.selectors import agreement_asked


class Command(BaseCommand):
    help = (
        "Inter-rater agreement per round and taxonomy level: percent, Cohen's kappa (pairs and mean), "
        "Fleiss' kappa, Krippendorff's alpha with its 95% bootstrap interval, top disagreements. "
        "JSON prints only JSON on stdout; null = undefined."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--round", type=int, dest="number", help="only this round")
        parser.add_argument("--level", help="leaf, or a depth of the taxonomy (1, 2, …); all levels by default")
        parser.add_argument("--kind", help="only artefacts of this kind (so_question, gh_issue, …)")
        parser.add_argument("--framework", help="only artefacts of this framework")
        parser.add_argument("--format", choices=FORMATS, default="table")
        parser.add_argument("--output", "-o", help="write to this file instead of stdout")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        try:
            report = agreement_asked(
                project,
                number=options["number"],
                level=options["level"],
                kind=options["kind"],
                framework=options["framework"],
            )
        except DomainError as exc:
            raise fail(exc) from exc
        write_table(self, render(report, options["format"]).encode(), options)
