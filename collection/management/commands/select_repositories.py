"""python manage.py select_repositories PROJECT --framework F [--top 100] [--format json|csv|table]"""

import io
import json

from django.core.management.base import BaseCommand, CommandError

from collection.selectors import repository_selection
from core import csv_safe
from core.cli import existing_project

FORMATS = ("json", "csv", "table")


def _csv(selection: dict) -> str:
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\n")
    writer.writerow(["rank", "url", "relevant_issues", "relevant_commits"])
    for row in selection["repositories"]:
        writer.writerow([row["rank"], row["url"], row["relevant_issues"], row["relevant_commits"]])
    return out.getvalue()


def _table(selection: dict) -> str:
    rows = [("rank", "url", "relevant issues/PRs", "relevant commits")]
    rows += [
        (str(r["rank"]), r["url"], str(r["relevant_issues"]), str(r["relevant_commits"]))
        for r in selection["repositories"]
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.append("")
    lines.append(f"{len(selection['excluded'])} excluded")
    lines += [f"  {e['url']}: {e['reason']}" for e in selection["excluded"]]
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = (
        "Rank the selected, not-excluded repositories of a framework the study's way: by relevant issues/PRs, "
        "filled by relevant commits when fewer than --top have any; ties by stars then URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("project")
        parser.add_argument("--framework", required=True)
        parser.add_argument("--top", type=int, default=100)
        parser.add_argument("--format", choices=FORMATS, default="table")

    def handle(self, *args, **options):
        if options["top"] < 1:
            raise CommandError("--top must be at least 1.")
        project = existing_project(options["project"])
        selection = repository_selection(project=project, framework=options["framework"], top=options["top"])
        if options["format"] == "json":
            self.stdout.write(json.dumps(selection, indent=2, ensure_ascii=False))
        elif options["format"] == "csv":
            self.stdout.write(_csv(selection), ending="")
        else:
            self.stdout.write(_table(selection), ending="")
