"""The optional e-mail digest of notifications: off by default, chosen on the account page; one e-mail
per opted-in user listing their unread notifications since the last digest (none when nothing is new,
never twice the same one), sent by a Celery beat task and by `send_notification_digest` through Django's
configured mail backend — locmem here, and a real SMTP server on 127.0.0.1 below. The digest shows what
the bell shows, so never a label the notification did not show."""

import io
import json
import socket

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from core import services
from core.email import email_settings
from core.models import Notification, NotificationDigest
from core.tasks import notification_digest_task
from labelling import services as labelling_services
from tests.factories import team_round


def notify(user, text, *, project=None, url="/notifications/"):
    services.notification_send(users=[user], project=project, kind=Notification.Kind.ROUND_OPENED, text=text, url=url)
    return Notification.objects.filter(user=user).latest("id")


@pytest.fixture
def reader(team):
    user = team.evaluators[0]
    user.email = "eva1@example.org"
    user.save()
    return user


def test_off_by_default_and_chosen_on_the_account_page(team, reader, mailoutbox):
    notify(reader, "Round 1 opened")
    assert services.notification_digests_send()["sent"] == 0 and mailoutbox == []

    client = Client()
    client.force_login(reader)
    page = client.get("/accounts/settings/").content.decode()
    assert 'id="digest-form"' in page and "eva1@example.org" in page and " checked" not in page
    assert client.post("/accounts/settings/", {"digest": "on"}).status_code == 302
    assert NotificationDigest.objects.get(user=reader).enabled
    assert " checked" in client.get("/accounts/settings/").content.decode()

    services.notification_digests_send()
    assert mailoutbox == []  # what came before opting in is never mailed
    client.post("/accounts/settings/", {})
    assert not NotificationDigest.objects.get(user=reader).enabled


def test_one_mail_per_user_with_what_is_new_and_unread_never_twice(team, reader, mailoutbox):
    services.notification_digest_set(user=reader, enabled=True)
    first = notify(reader, "Round 1 of DL faults opened", project=team.project, url=f"/p/{team.project.slug}/queue/")
    read = notify(reader, "Already read")
    services.notifications_mark_read(user=reader, ids=[read.id])
    notify(team.evaluators[1], "Someone else's")  # not opted in: nothing for them

    report = services.notification_digests_send()
    assert report == {"users": 1, "sent": 1, "notifications": 1, "failed": 0}
    (mail,) = mailoutbox
    assert mail.to == ["eva1@example.org"] and mail.subject == "Concord: 1 new notification"
    assert "Round 1 of DL faults opened" in mail.body and team.project.name in mail.body
    assert f"{django_settings.CONCORD_SITE_URL}/p/{team.project.slug}/queue/" in mail.body
    assert "Already read" not in mail.body and "Someone else" not in mail.body
    first.refresh_from_db()
    assert first.emailed_at is not None

    assert services.notification_digests_send()["sent"] == 0  # nothing new: no mail
    assert len(mailoutbox) == 1
    notify(reader, "Round 2 opened")
    services.notification_digests_send()
    assert len(mailoutbox) == 2
    assert "Round 2 opened" in mailoutbox[1].body and "Round 1 of DL faults" not in mailoutbox[1].body
    assert NotificationDigest.objects.get(user=reader).last_sent_at is not None


def test_the_digest_shows_what_the_bell_shows_never_a_label(
    team, reader, mailoutbox, django_capture_on_commit_callbacks
):
    """A tie-break and a conflict notify; their digests name no label of the undecided item."""
    eva1, eva2, eva3 = team.evaluators
    for user in (eva3, team.moderator):
        user.email = f"{user.username}@example.org"
        user.save()
        services.notification_digest_set(user=user, enabled=True)
    item = team_round(team).items.get()
    a1, a2 = item.assignments.order_by("order")
    labelling_services.annotation_submit(assignment_id=a1.id, user=eva1, label="exploding gradients")
    with django_capture_on_commit_callbacks(execute=True):
        labelling_services.annotation_submit(assignment_id=a2.id, user=eva2, label="wrong loss function")
    a3 = item.assignments.get(order=3)
    with django_capture_on_commit_callbacks(execute=True):
        labelling_services.annotation_submit(assignment_id=a3.id, user=eva3, label="noisy data")

    services.notification_digests_send()
    mails = {mail.to[0]: mail.body for mail in mailoutbox}
    assert set(mails) == {"eva3@example.org", "moderator@example.org"}
    shown = {n.user.email: n.text for n in Notification.objects.filter(user__in=[eva3, team.moderator])}
    for address, body in mails.items():
        assert shown[address] in body
        for label in ("exploding gradients", "wrong loss function", "noisy data"):
            assert label not in body


def test_users_without_an_address_are_skipped_and_a_failed_send_is_tried_again(team, reader, mailoutbox, monkeypatch):
    nowhere = team.evaluators[1]
    nowhere.email = ""
    nowhere.save()
    services.notification_digest_set(user=nowhere, enabled=True)  # no e-mail address: skipped
    services.notification_digest_set(user=reader, enabled=True)
    notify(team.evaluators[1], "Nowhere to go")
    waiting = notify(reader, "Round 3 opened")

    def broken(*args, **kwargs):
        raise OSError("mail server away")

    monkeypatch.setattr(services, "send_mail", broken)
    assert services.notification_digests_send() == {"users": 1, "sent": 0, "notifications": 0, "failed": 1}
    waiting.refresh_from_db()
    assert waiting.emailed_at is None  # nothing marked: the next run sends it
    monkeypatch.undo()
    assert services.notification_digests_send()["sent"] == 1
    assert [m.to for m in mailoutbox] == [["eva1@example.org"]]


def test_the_command_and_the_beat_task_send_it(team, reader, mailoutbox):
    services.notification_digest_set(user=reader, enabled=True)
    notify(reader, "Round 4 opened")
    out = io.StringIO()
    call_command("send_notification_digest", "--format", "json", stdout=out)
    assert json.loads(out.getvalue()) == {"users": 1, "sent": 1, "notifications": 1, "failed": 0}
    notify(reader, "Round 5 opened")
    assert notification_digest_task.apply().get() == {"users": 1, "sent": 1, "notifications": 1, "failed": 0}
    assert [("Round 5 opened" in m.body) for m in mailoutbox] == [False, True]
    schedule = django_settings.CELERY_BEAT_SCHEDULE["notification-digest"]
    assert schedule["task"] == "core.tasks.notification_digest_task" and schedule["schedule"] == 24 * 3600.0
    out = io.StringIO()
    call_command("send_notification_digest", stdout=out)
    assert out.getvalue().startswith("0 digest(s) sent")


class Collect:
    """aiosmtpd handler keeping each message it accepted."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode("utf-8")))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def test_through_a_real_smtp_server_named_by_email_url(team, reader, settings, smtp_server):
    controller, handler = smtp_server
    for name, value in email_settings({"EMAIL_URL": f"smtp://127.0.0.1:{controller.port}"}).items():
        setattr(settings, name, value)
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend"
    services.notification_digest_set(user=reader, enabled=True)
    notify(reader, "Round 6 of DL faults opened", project=team.project)

    assert services.notification_digests_send()["sent"] == 1
    ((sender, recipients, content),) = handler.messages  # the server answered 250 before send returned
    assert sender == settings.DEFAULT_FROM_EMAIL and recipients == ["eva1@example.org"]
    assert "Subject: Concord: 1 new notification" in content and "Round 6 of DL faults opened" in content
    assert services.notification_digests_send()["sent"] == 0 and len(handler.messages) == 1
