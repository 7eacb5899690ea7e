"""python manage.py import_repositories PROJECT FILE --framework F [--malformed error|keep|skip] [--lead USERNAME]"""

from django.core.management.base import BaseCommand

from collection.mining.csvlines import MODES
from collection.services import repositories_import
from core.cli import add_import_arguments, print_json, project_for_import, read_file


class Command(BaseCommand):
    help = (
        "Import GitHub repositories: the study's CSV layout (project,is_a_fork,has_issues,contributors,commits,"
        "stars,forks,top-contributor,to_select[,comment][,relevant_issues,relevant_commits]) or a JSON list of "
        "GitHub repository objects. Re-importing updates by URL; the project's rules decide the selection. "
        "Prints the report as JSON on stdout."
    )

    def add_arguments(self, parser):
        add_import_arguments(parser, file_help="CSV or JSON file ('-' for stdin)")
        parser.add_argument("--framework", required=True, help="the framework these repositories use, e.g. keras")
        parser.add_argument(
            "--malformed",
            choices=MODES,
            default="error",
            help="a malformed CSV line (more cells than columns, an unclosed quote): fail (default), keep it "
            "whole, or skip it; either way it is reported with its line number",
        )

    def handle(self, *args, **options):
        data = read_file(options["file"])
        with project_for_import(self, options) as project:
            report = repositories_import(
                project=project,
                framework=options["framework"],
                filename=options["file"],
                data=data,
                on_malformed=options["malformed"],
            )
        for entry in report["malformed_lines"]:
            self.stderr.write(f"malformed line {entry['line']}: {entry['reason']} ({options['malformed']})")
        self.stderr.write(
            f"Repositories created {report['created']}, updated {report['updated']}, selected {report['selected']}."
        )
        print_json(self.stdout, report)
