"""python manage.py suggest_merges PROJECT --format json|table"""

from django.core.management.base import BaseCommand

from core.cli import existing_project, print_json
from taxonomy.suggestion_selectors import merge_suggestions


class Command(BaseCommand):
    help = (
        "Clusters of labels likely to name the same fault, with their evidence (shared leaf, wording, "
        'co-occurrence on an artefact); rejected pairs left out. JSON: {"clusters": [{"labels", "score", "evidence"}]}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--format", choices=("json", "table"), default="table")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        clusters = [
            {"labels": c["labels"], "score": c["score"], "evidence": c["evidence"]}
            for c in merge_suggestions(project=project)
        ]
        if options["format"] == "json":
            print_json(self.stdout, {"clusters": clusters})
            return
        if not clusters:
            self.stdout.write("No merge suggested.")
        for c in clusters:
            self.stdout.write(f"{c['score']:.3f}  " + " | ".join(c["labels"]))
            for e in c["evidence"]:
                leaves = f", shared leaf {', '.join(e['shared_leaves'])}" if e["shared_leaves"] else ""
                self.stdout.write(
                    f"       {e['pair'][0]} ~ {e['pair'][1]}: wording {e['wording']:.2f}"
                    f", on {e['co_occurrences']} artefact(s) together{leaves}"
                )
