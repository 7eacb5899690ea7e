"""python manage.py mine_stackoverflow PROJECT --tag T [--exclude-title-words how,install,build] [--accepted-answer]
[--order views] [--top N] [--posts-xml FILE] [--queue] [--lead USERNAME]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from collection.cli import mining_job_finish, mining_job_start
from collection.mining.posts import ORDERS, PostRules
from collection.services import mining_stackoverflow_prepare
from core.cli import project_for_import


class Command(BaseCommand):
    help = (
        "Collect Stack Overflow questions the study's way: the tag among the question's tags, no excluded word in "
        "the title (whole word, any case), an accepted answer when asked, ordered by views, top N. From a data "
        "dump's Posts.xml (or the .7z holding it), streamed, or from the Stack Exchange API (STACKEXCHANGE_API_URL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug (created when missing)")
        parser.add_argument("--tag", required=True)
        parser.add_argument("--exclude-title-words", default="", help="comma-separated, e.g. how,install,build")
        parser.add_argument("--accepted-answer", action="store_true", help="only questions with an accepted answer")
        parser.add_argument("--order", choices=sorted(ORDERS), default="views")
        parser.add_argument("--top", type=int, default=1000)
        parser.add_argument("--posts-xml", help="a Stack Exchange dump's Posts.xml or .7z (else the API)")
        parser.add_argument("--queue", action="store_true", help="send the job to the Celery workers and return")
        parser.add_argument("--lead", help="username of the lead when the project is created")

    def handle(self, *args, **options):
        words = tuple(w.strip() for w in options["exclude_title_words"].split(",") if w.strip())
        try:
            rules = PostRules(
                tag=options["tag"].strip().lower(),
                excluded_title_words=words,
                accepted_answer=options["accepted_answer"],
                order=options["order"],
                top=options["top"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        posts = ""
        if options["posts_xml"]:
            path = Path(options["posts_xml"])
            if not path.is_file():
                raise CommandError(f"Cannot read {path}: no such file.")
            posts = str(path.resolve())
        with project_for_import(self, options) as project:
            run = mining_stackoverflow_prepare(project=project, rules=rules, posts_xml=posts)
            job = mining_job_start(run=run, queue=options["queue"])
        mining_job_finish(self, job=job, run=run, queued=options["queue"])
