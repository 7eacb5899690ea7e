"""python manage.py mine_github PROJECT --framework F --repos FILE [--queue] [--lead USERNAME]"""

from django.core.management.base import BaseCommand, CommandError

from collection.services import mining_github_prepare, mining_job_create, mining_job_enqueue, mining_job_run
from core.cli import print_json, project_for_import, read_file, stderr_progress
from core.models import Job


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
            job = mining_job_create(run=run)
            if options["queue"]:
                mining_job_enqueue(job=job)
        if options["queue"]:
            self.stderr.write(f"Queued job {job.pk} (mining run {run.pk}).")
            return
        mining_job_run(job_id=job.pk, progress=stderr_progress(self.stderr))
        job.refresh_from_db()
        if job.status != Job.Status.DONE:
            raise CommandError(job.error or "Mining failed.")
        print_json(self.stdout, job.report)
