"""The artefact import page with another tool's export: the preview flags label-like columns and leaves them out."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from collection.models import Artefact
from tests.collection.test_exchange_formats import LS_MIN
from tests.factories import member

pytestmark = pytest.mark.django_db


def test_preview_flags_label_columns_and_the_guessed_mapping_leaves_them_out(
    project, client, django_capture_on_commit_callbacks
):
    client.force_login(member(project, lead=True, username="lead"))
    url = reverse("collection:import_artefacts", args=[project.slug])
    upload = SimpleUploadedFile("export.json", json.dumps(LS_MIN).encode(), content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True):  # the preview is read by the job's Celery step
        response = client.post(url, {"file": upload})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "label-studio" in page and 'id="exchange-flagged"' in page
    assert "<code>sentiment</code>" in page and "<code>fault</code>" in page
    assert page.count("label?") == 2 and "4 annotations by 2 evaluators" in page
    # post the guessed mapping as the page shows it: link -> url, text -> body, id -> metadata
    fields = {}
    for line in page.split("<select name=")[1:]:
        name = line.split('"')[1]
        selected = (
            line.split(" selected>")[0].rsplit('value="', 1)[1].split('"')[0] if " selected>" in line else "ignore"
        )
        fields[name] = selected
    # the flagged columns, and the task's url (already the link column)
    assert list(fields.values()).count("ignore") == 3
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], fields)
    artefact = Artefact.objects.get(project=project)
    assert artefact.url == "https://stackoverflow.com/questions/111" and artefact.body == "Loss is nan"
    visible = json.dumps([artefact.title, artefact.body, artefact.tags, artefact.metadata, artefact.framework])
    for secret in ("Positive", "Negative", "Wrong loss function", "alice@example.com"):
        assert secret not in visible
