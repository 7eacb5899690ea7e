"""python manage.py export_vocabulary PROJECT [--list final|all]"""

from django.core.management.base import BaseCommand

from collection.selectors import vocabulary_word_list
from core import csv_safe
from core.cli import existing_project


class Command(BaseCommand):
    help = "Write the vocabulary as word,n_documents (the study's layout): the final list (default) or every word."

    def add_arguments(self, parser):
        parser.add_argument("project")
        parser.add_argument("--list", choices=("final", "all"), default="final")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        writer = csv_safe.writer(self.stdout, lineterminator="\n")
        writer.writerow(["word", "n_documents"])
        writer.writerows(vocabulary_word_list(project=project, which=options["list"]))
