"""python manage.py import_vocabulary PROJECT FILE [--final] [--lead USERNAME]"""

from django.core.management.base import BaseCommand

from collection.services import vocabulary_words_check, vocabulary_words_import
from core.cli import add_import_arguments, print_json, project_for_import, read_file


class Command(BaseCommand):
    help = (
        "Import a word list in the study's layout (word,n_documents): each word becomes its stem's term. "
        "With --final the list is the final vocabulary (the meeting's outcome). Prints the report as JSON."
    )

    def add_arguments(self, parser):
        add_import_arguments(parser, file_help="CSV word list ('-' for stdin)")
        parser.add_argument("--final", action="store_true", help="the list is the final vocabulary")

    def handle(self, *args, **options):
        data = read_file(options["file"])
        with project_for_import(self, options) as project:
            # the upload limits of the pages: size, then CSV shape, before the list is parsed
            vocabulary_words_check(data=data, filename="" if options["file"] == "-" else options["file"])
            report = vocabulary_words_import(project=project, data=data, final=options["final"])
        for entry in report["unusable"]:
            self.stderr.write(f"line {entry['line']}: {entry['word']!r} is not one word; skipped")
        print_json(self.stdout, report)
