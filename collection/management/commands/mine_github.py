"""python manage.py mine_github PROJECT --framework F --repos FILE [--queue] [--lead USERNAME]"""

from django.core.management.base import BaseCommand

from collection.cli import mining_job_finish, mining_job_start
from collection.services import mining_github_prepare
from core.cli import project_for_import, read_file


class Command(BaseCommand):
    help = (
        "Mine GitHub the study's way for the listed repositories: attributes, issues and pull requests labelled "
        "bug/defect/error with their comments, and commits whose message matches (fix|solve) and "
        "(bug|issue|problem|defect|error). GITHUB_API_URL and GITHUB_TOKEN come from the environment. "
        "An interrupted run resumes where it stopped when the same command is run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug (created when missing)")
        parser.add_argument("--framework", required=True)
        parser.add_argument(
            "--repos", required=True, help="repositories: one URL or owner/name a line, a study CSV or GitHub JSON"
        )
        parser.add_argument("--queue", action="store_true", help="send the job to the Celery workers and return")
        parser.add_argument("--lead", help="username of the lead when the project is created")

    def handle(self, *args, **options):
        text = read_file(options["repos"]).decode("utf-8-sig", errors="replace")
        with project_for_import(self, options) as project:
            run = mining_github_prepare(project=project, framework=options["framework"], repositories_text=text)
            job = mining_job_start(run=run, queue=options["queue"])
        mining_job_finish(self, job=job, run=run, queued=options["queue"])
