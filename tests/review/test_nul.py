"""NUL characters. PostgreSQL can neither store nor compare text holding "\\x00" (psycopg raises
ValueError: a 500 on any search box or raw form field that reached a query), and jsonb refuses
"\\u0000" (an artefact import from JSON failed as a whole). Query and form values holding one are a
400 on every page and API; JSON documents are read without it, as CSV files already were."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from collection.models import Artefact
from collection.services import artefacts_import_file
from core.models import Job
from taxonomy.models import Node

NUL = "loss\x00nan"


@pytest.fixture
def lead(team):
    client = Client()
    client.force_login(team.lead)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/p/{slug}/suggest/",
        "/p/{slug}/labels/",
        "/p/{slug}/interviews/",
        "/p/{slug}/interviews/review/",
        "/p/{slug}/interviews/suggest/",
        "/api/projects/{slug}/interviews/",
        "/api/projects/{slug}/interviews/suggestions/",
        "/api/projects/{slug}/interviews/final-tags/",
    ],
)
def test_a_nul_in_a_search_is_a_400(team, lead, path):
    response = lead.get(path.format(slug=team.project.slug), {"q": NUL}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_nul_in_a_posted_form_is_a_400_and_nothing_is_written(team, lead):
    slug = team.project.slug
    response = lead.post(f"/p/{slug}/taxonomy/nodes/new/", {"name": NUL})
    assert response.status_code == 400
    response = lead.post(f"/p/{slug}/taxonomy/comparisons/", {"name": NUL, "classes": NUL})
    assert response.status_code == 400
    assert not Node.objects.exists() and not team.project.taxonomy_comparisons.exists()


def test_a_taxonomy_document_with_a_nul_fails_its_import_job(team, lead, django_capture_on_commit_callbacks):
    """A taxonomy document is read in its job: a NUL in a name, code or description fails the job, naming
    the file (the body's is `taxonomy.json`) and the entry, with nothing written."""
    api = APIClient()
    api.force_authenticate(team.lead)
    url = f"/api/projects/{team.project.slug}/taxonomy/import/"
    for entry in ({"name": NUL}, {"name": "Model", "code": "1\x00"}, {"name": "Model", "description": NUL}):
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(url, {"nodes": [{**entry, "children": []}]}, format="json")
        assert response.status_code == 202, entry
        job = Job.objects.get(id=response.json()["id"])
        assert job.status == Job.Status.FAILED and job.error.startswith("taxonomy.json: "), (entry, job.error)
        assert job.report["error_field"].startswith("nodes[0]."), entry
    upload = SimpleUploadedFile("t.json", json.dumps({"nodes": [{"name": NUL, "children": []}]}).encode())
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(f"/p/{team.project.slug}/taxonomy/import/", {"file": upload})
    job = Job.objects.latest("id")
    assert response.status_code == 302 and job.status == Job.Status.FAILED
    assert job.error.startswith("t.json: ") and "NUL" in job.error
    assert not Node.objects.exists()


def test_json_imports_drop_nul_characters(team):
    rows = [
        {
            "url": "https://stackoverflow.com/questions/5",
            "title": NUL,
            "body": NUL,
            "extra": NUL,
            "tags": ["x\x00y"],
            "escaped": "a\\u0000b",
        }
    ]
    options = ["url=url", "title=title", "body=body", "extra=metadata", "escaped=metadata", "tags=tags"]
    for data, name in ((json.dumps(rows).encode(), "a.json"), (json.dumps(rows[0]).encode() + b"\n", "a.jsonl")):
        artefacts_import_file(project=team.project, data=data, filename=name, map_options=options)
    artefact = Artefact.objects.get()
    assert (artefact.title, artefact.body, artefact.tags) == ("lossnan", "lossnan", ["xy"])
    assert artefact.metadata == {"extra": "lossnan", "escaped": "a\\u0000b"}  # an escaped backslash stays text
