"""python manage.py send_notification_digest [--format text|json]"""

from django.core.management.base import BaseCommand

from core.cli import print_json
from core.services import notification_digests_send


class Command(BaseCommand):
    help = (
        "E-mail each user who opted in one digest of their unread notifications since their last digest "
        "(nothing when nothing is new), through the configured mail backend (EMAIL_URL)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args, **options):
        report = notification_digests_send()
        if options["format"] == "json":
            print_json(self.stdout, report)
            return
        self.stdout.write(
            f"{report['sent']} digest(s) sent listing {report['notifications']} notification(s); "
            f"{report['users']} user(s) opted in, {report['failed']} failed."
        )
        if report["failed"]:
            self.stderr.write("Some digests failed (see the log); they are tried again next time.")
