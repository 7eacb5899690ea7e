"""python manage.py suggest_leaves PROJECT (--text TEXT | --input FILE) [--top K] [--rounds 1-5] --format json|table"""

from django.core.management.base import BaseCommand, CommandError

from core.cli import existing_project, print_json, read_file
from taxonomy.suggestion_selectors import DEFAULT_TOP, MAX_TOP, leaf_suggestions
from taxonomy.suggestions.model import parse_rounds


class Command(BaseCommand):
    help = (
        "The K most likely taxonomy leaves for label texts, learned from the project's decided items "
        '(imported rounds included). JSON: {"suggestions": [{"text", "leaves": [{"name", "path", "score"}]}]}.'
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        source = parser.add_mutually_exclusive_group(required=True)
        source.add_argument("--text", help="one label text")
        source.add_argument("--input", help="a file with one label text per line ('-' for stdin)")
        parser.add_argument("--top", type=int, default=DEFAULT_TOP, help=f"suggestions per text (1-{MAX_TOP})")
        parser.add_argument("--rounds", help="use only the history of these rounds, e.g. 1-5 or 1,3")
        parser.add_argument("--format", choices=("json", "table"), default="table")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        if not 1 <= options["top"] <= MAX_TOP:
            raise CommandError(f"--top must be between 1 and {MAX_TOP}.")
        try:
            rounds = parse_rounds(options["rounds"])
        except ValueError as exc:
            raise CommandError(f"--rounds: {exc}.") from exc
        if options["text"] is not None:
            texts = [options["text"]]
        else:
            raw = read_file(options["input"]).decode("utf-8-sig", errors="replace")
            texts = [line.strip() for line in raw.splitlines() if line.strip()]
        results = leaf_suggestions(project=project, texts=texts, top=options["top"], rounds=rounds)
        payload = {
            "suggestions": [
                {
                    "text": r["text"],
                    "leaves": [{"name": s["name"], "path": s["path"], "score": s["score"]} for s in r["leaves"]],
                }
                for r in results
            ]
        }
        if options["format"] == "json":
            print_json(self.stdout, payload)
            return
        for r in payload["suggestions"]:
            self.stdout.write(r["text"])
            if not r["leaves"]:
                self.stdout.write("  (no suggestion)")
            for rank, s in enumerate(r["leaves"], start=1):
                self.stdout.write(f"  {rank}. {s['score']:.3f}  {s['path']}")
