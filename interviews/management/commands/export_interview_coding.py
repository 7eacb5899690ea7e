"""python manage.py export_interview_coding PROJECT [--format xlsx|csv] [--output FILE] [--interview N …]
[--transcripts DIR [--transcript-format txt|md|json] [--pseudonymise]]"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.cli import existing_project
from interviews import exports
from interviews.models import Interview


class Command(BaseCommand):
    help = (
        "Export a project's interview coding in the coding-sheet layout (Interview Num, Evaluator 1, "
        "Evaluator 2, Moderator Tag, Tag, Status), which import_interview_coding reads back. With "
        "--transcripts DIR, also write each transcript there (optionally with speakers pseudonymised)."
    )

    def add_arguments(self, parser):
        parser.add_argument("project", help="project slug")
        parser.add_argument("--format", choices=["xlsx", "csv"], help="default: from --output's extension, else xlsx")
        parser.add_argument("--output", default="-", help="file to write ('-' or absent: stdout)")
        parser.add_argument("--interview", type=int, action="append", dest="numbers", help="only this interview")
        parser.add_argument("--transcripts", help="directory to write the transcripts into")
        parser.add_argument("--transcript-format", choices=["txt", "md", "json"], default="txt")
        parser.add_argument("--pseudonymise", action="store_true", help="replace speaker names in transcripts")

    def handle(self, *args, **options):
        project = existing_project(options["project"])
        output = options["output"]
        fmt = options["format"] or ("csv" if output.lower().endswith(".csv") else "xlsx")
        rows = exports.coding_sheet_rows(project=project, numbers=options["numbers"])
        content = exports.coding_sheet(project=project, fmt=fmt, numbers=options["numbers"])
        if output == "-":
            sys.stdout.buffer.write(content)
            sys.stdout.flush()
        else:
            try:
                Path(output).write_bytes(content)
            except OSError as exc:
                raise CommandError(f"output: cannot write {output}: {exc.strerror or exc}.") from exc
        self.stderr.write(f"{len(rows)} tagged pieces written as {fmt}{'' if output == '-' else ' to ' + output}.")
        if options["transcripts"]:
            folder = Path(options["transcripts"])
            folder.mkdir(parents=True, exist_ok=True)
            interviews = Interview.objects.filter(project=project).exclude(text="").order_by("number")
            if options["numbers"]:
                interviews = interviews.filter(number__in=options["numbers"])
            for interview in interviews:
                ext = options["transcript_format"]
                content, _ = exports.transcript_export(
                    interview=interview, fmt=ext, pseudonymise=options["pseudonymise"]
                )
                (folder / f"interview{interview.number}.{ext}").write_bytes(content)
                self.stderr.write(f"interview {interview.number}: transcript written")
