"""python manage.py import_artefacts PROJECT FILE [--map column=field ...] [--lead USERNAME]
[--framework F] [--malformed keep|skip|error] [--fetch] [--tool label-studio|doccano]
[--label-field NAME ...] [--evaluator NAME] [--keep-annotations [--round N]
[--predictions]]

Lives in the taxonomy app (not collection) because keeping another tool's annotations imports a
round (taxonomy.round_import), which the collection app may not import.
"""

from django.core.management.base import BaseCommand

from collection.formats.detect import TOOLS
from collection.importers.headers import MAPPING_CHOICES
from collection.mining.csvlines import MODES as CSV_MODES
from collection.services import artefacts_fetch_missing, artefacts_import_file
from core.cli import (
    add_import_arguments,
    print_json,
    project_for_import,
    read_file,
    stderr_progress,
    summary_lines,
)
from taxonomy.round_import import exchange_round_import


class Command(BaseCommand):
    help = (
        "Import artefacts from CSV, JSON, JSON Lines or XLSX, or from a Label Studio (JSON, JSON-MIN, CSV) or "
        "doccano (JSONL, JSON, CSV, zip) export, into a project (created when missing). Another tool's "
        "annotations never become artefact fields; with --keep-annotations they become an imported round. "
        "Prints the report as JSON on stdout; progress and a summary go to stderr."
    )

    def add_arguments(self, parser):
        add_import_arguments(
            parser, file_help="CSV, JSON, JSON Lines, XLSX, or a Label Studio/doccano export ('-' for stdin)"
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help=f"map a column (header or 1-based number) to one of: {', '.join(MAPPING_CHOICES)}",
        )
        parser.add_argument("--framework", default="", help="framework of rows that name none, e.g. keras")
        parser.add_argument(
            "--malformed",
            choices=CSV_MODES,
            default="keep",
            help="a malformed CSV line (more cells than columns, a quote never closed) is reported with its line "
            "number and kept whole (default), skipped, or fails the import (error)",
        )
        parser.add_argument(
            "--fetch",
            action="store_true",
            help="fill title and body of link-only artefacts from the Stack Exchange and GitHub APIs",
        )
        parser.add_argument("--tool", choices=TOOLS, help="read the file as this tool's export (default: recognised)")
        parser.add_argument(
            "--label-field",
            action="append",
            metavar="NAME",
            help="Label Studio JSON-MIN/CSV: a column holding the annotators' answers (default: those that look "
            "like labels); with --keep-annotations the first one given is the round's label",
        )
        parser.add_argument("--evaluator", default="", help="doccano: whose labels the file holds when it does not say")
        parser.add_argument(
            "--keep-annotations",
            action="store_true",
            help="import the file's annotations as an imported round (evaluators from completed_by/annotator)",
        )
        parser.add_argument("--round", type=int, help="with --keep-annotations: the round's number (default: next)")
        parser.add_argument("--predictions", action="store_true", help="keep predictions too, as evaluators model:…")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        filename = "" if options["file"] == "-" else options["file"]
        with project_for_import(self, options) as project:
            report = artefacts_import_file(
                project=project,
                data=data,
                filename=filename,
                map_options=options["map"],
                progress=stderr_progress(self.stderr),
                tool=options["tool"],
                label_fields=options["label_field"],
                framework=options["framework"],
                on_malformed=options["malformed"],
            )
            if options["fetch"]:  # inside the import's transaction: a failed fetch leaves nothing behind
                report["fetched"] = artefacts_fetch_missing(project=project, progress=stderr_progress(self.stderr))
            if options["keep_annotations"]:
                report["imported_round"] = exchange_round_import(
                    project=project,
                    data=data,
                    filename=filename,
                    number=options["round"],
                    tool=options["tool"],
                    label_fields=options["label_field"],
                    field_name=(options["label_field"] or [None])[0],
                    include_predictions=options["predictions"],
                    evaluator=options["evaluator"],
                    progress=stderr_progress(self.stderr),
                )
        for entry in report.get("malformed_lines", []):
            self.stderr.write(f"malformed line {entry['line']}: {entry['reason']}")
        for line in summary_lines(report):
            self.stderr.write(line)
        exchange = report.get("exchange")
        if exchange:
            self._exchange_notes(exchange, options["keep_annotations"])
        if "imported_round" in report:
            for line in summary_lines(report["imported_round"]):
                self.stderr.write(line)
        print_json(self.stdout, report)

    def _exchange_notes(self, exchange: dict, kept: bool) -> None:
        self.stderr.write(f"Read as a {exchange['tool']} {exchange['format']} export: {exchange['tasks']} tasks.")
        if exchange["flagged"]:
            self.stderr.write(
                f"Columns that look like labels or annotations were not imported as artefact fields: "
                f"{', '.join(exchange['flagged'])} (map one with --map COLUMN=FIELD if it is not a label)."
            )
        if exchange["annotations"] and not kept:
            self.stderr.write(
                f"{exchange['annotations']} annotations by {len(exchange['evaluators'])} evaluators were not kept; "
                "--keep-annotations imports them as a round."
            )
