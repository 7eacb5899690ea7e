"""The audit log: what is recorded (who, when, what, from where), append-only, the lead's page and CSV."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import reverse

from core.models import AuditEvent
from core.services import membership_set
from labelling import services
from tests.factories import PASSWORD, LabelFactory, UserFactory, team_round


def actions(project=None):
    events = AuditEvent.objects.all() if project is None else AuditEvent.objects.filter(project_id=project.id)
    return list(events.order_by("id").values_list("action", flat=True))


@pytest.mark.django_db
def test_sign_ins_and_failures_are_recorded_with_the_address(client):
    user = UserFactory(username="ada")
    client.post(reverse("login"), {"username": "ada", "password": "nope"}, REMOTE_ADDR="10.1.2.3")
    client.post(reverse("login"), {"username": "ada", "password": PASSWORD}, REMOTE_ADDR="10.1.2.4")
    failed, signed_in = AuditEvent.objects.order_by("id")
    assert (failed.action, failed.target, failed.address, failed.actor_id) == (
        "sign_in_failed",
        "ada",
        "10.1.2.3",
        None,
    )
    assert (signed_in.action, signed_in.actor_id, signed_in.address) == ("sign_in", user.id, "10.1.2.4")


def test_membership_changes_are_recorded(project):
    user = UserFactory(username="bob")
    membership_set(project=project, user=user, evaluator=True)
    membership_set(project=project, user=user, evaluator=True, moderator=True)
    added, changed = AuditEvent.objects.filter(target="bob").order_by("id")
    assert added.action == "membership.add" and added.details["evaluator"] is True
    assert changed.action == "membership.change" and changed.details["moderator"] is True


def test_rounds_edits_with_notes_resolutions_and_labels_are_recorded(team, django_capture_on_commit_callbacks):
    rnd = team_round(team, n=1)
    item = rnd.items.get()
    first, second = item.assignments.order_by("order")
    services.annotation_submit(assignment_id=first.id, user=first.evaluator, label="a", note="n1")
    services.annotation_submit(assignment_id=first.id, user=first.evaluator, label="a", note="n2")  # a note edit
    annotation = first.annotation.__class__.objects.get(assignment=first)
    assert annotation.history[-1]["note"] == "n1"
    edit = AuditEvent.objects.get(action="annotation.edit")
    assert edit.actor_id == first.evaluator_id
    assert (edit.details["before"]["note"], edit.details["after"]["note"]) == ("n1", "n2")
    label = LabelFactory(project=team.project, name="old name")
    services.label_rename(label_id=label.id, user=team.lead, name="new name")
    other = LabelFactory(project=team.project, name="dup")
    services.label_merge(source_id=other.id, target_id=label.id, user=team.lead)
    services.round_close(round=rnd, user=team.lead)
    recorded = actions(team.project)
    for expected in ("round.open", "annotation.edit", "label.rename", "label.merge", "round.close"):
        assert expected in recorded
    assert AuditEvent.objects.get(action="label.rename").details == {"from": "old name"}


def test_conflict_resolution_is_recorded(team, django_capture_on_commit_callbacks):
    team.project.max_evaluators_per_artefact = 2
    team.project.save()
    rnd = team_round(team, n=1)
    item = rnd.items.get()
    for assignment, label in zip(item.assignments.order_by("order"), ("x", "y"), strict=True):
        with django_capture_on_commit_callbacks(execute=True):
            services.annotation_submit(assignment_id=assignment.id, user=assignment.evaluator, label=label)
    item.refresh_from_db()
    assert item.is_conflict
    services.conflict_resolve(item_id=item.id, user=team.moderator, label="z", note="why")
    event = AuditEvent.objects.get(action="conflict.resolve")
    assert event.actor_id == team.moderator.id and event.details["note"] == "why"


def test_downloads_and_uploads_are_recorded(team, client):
    rnd = team_round(team, n=1)
    client.force_login(team.lead)
    url = reverse("labelling:export_round", args=[team.project.slug, rnd.number])
    assert client.get(url, {"format": "csv"}, REMOTE_ADDR="10.7.7.7").status_code == 200
    download = AuditEvent.objects.get(action="download")
    assert (download.actor_id, download.project_id, download.address) == (team.lead.id, team.project.id, "10.7.7.7")
    assert download.details["file"].endswith(".csv")
    client.post(
        reverse("collection:import_artefacts", args=[team.project.slug]),
        {"file": SimpleUploadedFile("a.csv", b"url\nhttps://x.example/1\n")},
    )
    upload = AuditEvent.objects.get(action="import.upload")
    assert upload.target == "a.csv" and upload.actor_id == team.lead.id


@pytest.mark.django_db
def test_the_log_is_append_only():
    event = AuditEvent.objects.create(action="x")
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(action="y")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    if connection.vendor == "postgresql":
        for sql in ("UPDATE core_auditevent SET action = 'y'", "DELETE FROM core_auditevent"):
            with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert AuditEvent.objects.get().action == "x"


def test_the_leads_page_filters_and_exports_csv(team, client):
    rnd = team_round(team, n=1)
    services.round_close(round=rnd, user=team.lead)
    membership_set(project=team.project, user=UserFactory(username="=cmd|calc"), evaluator=True)
    client.force_login(team.evaluators[0])
    assert client.get(reverse("core:audit", args=[team.project.slug])).status_code == 403
    client.force_login(team.lead)
    url = reverse("core:audit", args=[team.project.slug])
    page = client.get(url, {"action": "round."})
    assert page.status_code == 200
    table = page.content.split(b'id="audit-table"')[1]
    assert b"round.close" in table and b"membership.add" not in table
    assert client.get(url, {"since": "yesterday"}).status_code == 400
    export = client.get(url, {"format": "csv", "action": "membership."})
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == ["at", "actor", "action", "target", "address", "details"]
    assert [r[2] for r in rows[1:]] and {r[2] for r in rows[1:]} == {"membership.add"}
    assert "'=cmd|calc" in [r[3] for r in rows[1:]]  # neutralised like every CSV export
