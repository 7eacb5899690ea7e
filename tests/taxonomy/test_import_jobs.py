"""A taxonomy file is imported in a background job, never in the request.

The request checks the lead's role and the upload (size, a ZIP's unpacked size, a CSV's shape) and
starts the job: the page redirects to the job's page, the API answers 202 with the job (a JSON export
sent as the body too, stored as `taxonomy.json`). The job reads and imports the file in one
transaction: its report is the import's, and a file it cannot import fails it, naming the file, with
nothing written."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import AuditEvent, Job
from taxonomy import services
from taxonomy.models import Leaf, Node, TaxonomyChange
from tests.factories import ProjectFactory, member
from tests.helpers import api_client as api

pytestmark = pytest.mark.django_db

OUTLINE = b"code,name\n7,Deployment\n7.1,Serving\n7.2,\n"
DOCUMENT = {"nodes": [{"name": "Model", "code": "1", "children": [{"name": "Layers", "children": []}]}]}


def url(project):
    return f"/api/projects/{project.slug}/taxonomy/import/"


def job_page(project, job):
    return reverse("labelling:task_progress", args=[project.slug, job.id])


def test_an_uploaded_file_answers_202_and_the_job_reports_the_import(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.lead).post(
            url(team.project), {"file": SimpleUploadedFile("outline.csv", OUTLINE)}, format="multipart"
        )
    assert response.status_code == 202
    answer = response.json()
    job = Job.objects.get(id=answer["id"])
    assert (answer["kind"], answer["input_name"]) == ("import_taxonomy", "outline.csv")
    assert answer["url"].endswith(f"/api/projects/{team.project.slug}/jobs/{job.id}/")
    assert answer["page"].endswith(job_page(team.project, job))
    polled = api(team.lead).get(answer["url"]).json()
    assert polled["status"] == "done" and polled["percent"] == 100 and polled["error"] == ""
    # the report is what the import answered in the request before
    other = ProjectFactory()
    expected = services.taxonomy_import_file(
        project=other, user=member(other, lead=True), data=OUTLINE, filename="outline.csv"
    )
    assert polled["report"] == expected
    assert polled["report"]["format"] == "outline" and polled["report"]["nodes_created"] == 2
    assert [s["row"] for s in polled["report"]["skipped"]] == [4]
    assert set(Node.objects.filter(project=team.project).values_list("name", flat=True)) == {"Deployment", "Serving"}
    assert job.input_data is None  # the upload is deleted once the job has run
    change = TaxonomyChange.objects.get(project=team.project)
    assert change.user == team.lead and change.action == "import"
    # recorded: the upload (in the request) and the import (in the job), both by the lead
    events = AuditEvent.objects.filter(project_id=team.project.id, action__startswith="import.").order_by("id")
    assert [(e.action, e.target, e.actor_name) for e in events] == [
        ("import.upload", "outline.csv", "lead"),
        ("import.taxonomy", "outline.csv", "lead"),
    ]


def test_a_json_body_is_imported_in_a_job_too(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.lead).post(url(team.project), DOCUMENT, format="json")
    assert response.status_code == 202
    job = Job.objects.get(id=response.json()["id"])
    assert job.input_name == "taxonomy.json" and job.status == Job.Status.DONE
    assert job.report == {
        "format": "json",
        "nodes_created": 1,
        "nodes_existing": 0,
        "leaves_created": 1,
        "leaves_existing": 0,
        "warnings": [],
    }
    assert Node.objects.get(project=team.project).code == "1" and Leaf.objects.get().label.name == "Layers"
    with django_capture_on_commit_callbacks(execute=True):  # the same document again changes nothing
        again = api(team.lead).post(url(team.project), DOCUMENT, format="json").json()
    assert Job.objects.get(id=again["id"]).report["nodes_existing"] == 1
    assert Node.objects.count() == 1 and TaxonomyChange.objects.count() == 1


def test_the_page_redirects_to_the_job_page_which_shows_the_report(team, client, django_capture_on_commit_callbacks):
    client.force_login(team.lead)
    assert b'id="tx-import"' in client.get(reverse("taxonomy:tree", args=[team.project.slug])).content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("taxonomy:import", args=[team.project.slug]),
            {"file": SimpleUploadedFile("outline.csv", OUTLINE)},
        )
    job = Job.objects.get(kind=Job.Kind.IMPORT_TAXONOMY)
    assert response.status_code == 302 and response["Location"] == job_page(team.project, job)
    assert job.status == Job.Status.DONE and job.report["nodes_created"] == 2
    html = client.get(job_page(team.project, job)).content.decode()
    assert "outline.csv read as an outline" in html
    assert '<span class="big">2</span> categories created' in html
    assert 'id="skipped-rows"' in html and "code 7.2 has no name" in html
    tree = reverse("taxonomy:tree", args=[team.project.slug])
    assert f'id="open-taxonomy" href="{tree}"' in html and f'href="{tree}" id="taxonomy-link"' in html
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("taxonomy:import", args=[team.project.slug]),
            {"file": SimpleUploadedFile("t.json", json.dumps(DOCUMENT).encode())},
        )
    job = Job.objects.filter(kind=Job.Kind.IMPORT_TAXONOMY).latest("id")
    html = client.get(job_page(team.project, job)).content.decode()
    assert "t.json read as the JSON export" in html and '<span class="big">1</span> leaves created' in html


@pytest.mark.parametrize(
    ("name", "data", "message", "field"),
    [
        ("t.json", b'{"nodes": [{"name": "Model", "children": [{"name": ""}]}]}', "empty", "nodes[0].children[0].name"),
        ("t.json", b'{"nodes": [{"name": "Mod', "Not a JSON document", "file"),
        ("deep.json", b"[" * 100_000, "Not a JSON document: nested too deeply", "file"),
        ("codes.qdc", b"<outline/>", "Not a REFI-QDA codebook", "file"),
        ("o.csv", b"code,name\n", "no `code,name` rows", "outline"),
    ],
)
def test_a_file_the_job_cannot_import_fails_it_naming_the_file_and_writes_nothing(
    team, client, django_capture_on_commit_callbacks, name, data, message, field
):
    services.node_create(project=team.project, user=team.lead, name="Kept")
    before = TaxonomyChange.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.lead).post(url(team.project), {"file": SimpleUploadedFile(name, data)}, format="multipart")
    assert response.status_code == 202
    job = Job.objects.get(id=response.json()["id"])
    assert job.status == Job.Status.FAILED and job.input_data is None
    assert job.error.startswith(f"{name}: ") and message in job.error, job.error
    assert job.report == {"error_field": field}
    assert list(Node.objects.values_list("name", flat=True)) == ["Kept"] and not Leaf.objects.exists()
    assert TaxonomyChange.objects.count() == before
    client.force_login(team.lead)
    html = client.get(job_page(team.project, job)).content.decode()
    assert 'id="job-error"' in html and f"{name}: " in html


def test_a_bad_json_body_fails_its_job_naming_it_and_writes_nothing(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(team.lead).post(
            url(team.project), {"nodes": [{"name": "Model", "children": [{"name": ""}]}]}, format="json"
        )
    assert response.status_code == 202
    job = Job.objects.get(id=response.json()["id"])
    assert job.status == Job.Status.FAILED and job.error.startswith("taxonomy.json: ")
    assert job.report == {"error_field": "nodes[0].children[0].name"}
    assert not Node.objects.exists() and not TaxonomyChange.objects.exists()


def test_the_request_does_not_read_the_file(team, client, monkeypatch):
    """Without the task running (it is sent once the transaction commits: here, never) the job waits with
    the upload; nothing in the request reads it, and the job reads it when it runs."""

    def not_in_the_request(**kwargs):
        raise AssertionError("the taxonomy file was read in the request")

    monkeypatch.setattr(services, "taxonomy_import_file", not_in_the_request)
    response = api(team.lead).post(url(team.project), {"file": SimpleUploadedFile("o.csv", OUTLINE)})
    body = api(team.lead).post(url(team.project), DOCUMENT, format="json")
    client.force_login(team.lead)
    page = client.post(
        reverse("taxonomy:import", args=[team.project.slug]), {"file": SimpleUploadedFile("o.csv", b"x")}
    )
    assert (response.status_code, body.status_code, page.status_code) == (202, 202, 302)
    jobs = list(Job.objects.order_by("id"))
    assert [(j.status, j.input_name) for j in jobs] == [
        ("pending", "o.csv"),
        ("pending", "taxonomy.json"),
        ("pending", "o.csv"),
    ]
    assert bytes(jobs[0].input_data) == OUTLINE and json.loads(bytes(jobs[1].input_data)) == DOCUMENT
    assert all(j.task_id for j in jobs) and not Node.objects.exists()
    monkeypatch.undo()
    assert services.taxonomy_import_job_run(job_id=jobs[0].id) == Job.Status.DONE
    assert services.taxonomy_import_job_run(job_id=jobs[0].id) == "noop"  # a job runs once
    assert services.taxonomy_import_job_run(job_id=jobs[1].id) == Job.Status.DONE
    assert Node.objects.filter(project=team.project).count() == 3


def test_the_upload_is_checked_in_the_request(team, client):
    """No file, a JSON body without a "nodes" list, or a file too large are 4xx before any job exists."""
    lead = api(team.lead)
    missing = lead.post(url(team.project), {"other": "x"}, format="json")
    assert missing.status_code == 400 and "file" in missing.json()
    shape = lead.post(url(team.project), {"nodes": "Model"}, format="json")
    assert shape.status_code == 400 and '"nodes" list' in shape.json()["nodes"][0]
    client.force_login(team.lead)
    assert client.post(reverse("taxonomy:import", args=[team.project.slug]), {}).status_code == 400
    assert not Job.objects.exists()


def test_editors_import_and_follow_their_own_job(team, client, django_capture_on_commit_callbacks):
    """Leads and moderators edit the tree, so both import; a moderator follows their own job (not others');
    evaluators and strangers are refused before anything is stored."""
    for user, status in [(team.evaluators[0], 403), (member(ProjectFactory(), lead=True), 404)]:
        upload = SimpleUploadedFile("o.csv", OUTLINE)
        assert api(user).post(url(team.project), {"file": upload}).status_code == status, user
        assert api(user).post(url(team.project), DOCUMENT, format="json").status_code == status, user
        client.force_login(user)
        upload = SimpleUploadedFile("o.csv", OUTLINE)
        page = client.post(reverse("taxonomy:import", args=[team.project.slug]), {"file": upload})
        assert page.status_code == status, user
    assert not Job.objects.exists() and not Node.objects.exists()
    client.force_login(team.moderator)
    tree = client.get(reverse("taxonomy:tree", args=[team.project.slug])).content
    assert b'id="tx-tools"' in tree and b'id="tx-import"' in tree
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            reverse("taxonomy:import", args=[team.project.slug]), {"file": SimpleUploadedFile("o.csv", OUTLINE)}
        )
    job = Job.objects.get(kind=Job.Kind.IMPORT_TAXONOMY)
    assert page.status_code == 302 and page.url == reverse("labelling:task_progress", args=[team.project.slug, job.id])
    assert job.status == Job.Status.DONE and job.created_by == team.moderator and Node.objects.exists()
    followed = client.get(page.url)
    assert followed.status_code == 200 and b'id="taxonomy-link"' in followed.content
    lead_job = services.taxonomy_import_start(project=team.project, user=team.lead, filename="o.csv", data=OUTLINE)
    assert client.get(reverse("labelling:task_progress", args=[team.project.slug, lead_job.id])).status_code == 403


def test_a_job_whose_lead_account_is_gone_fails_and_writes_nothing(team):
    job = services.taxonomy_import_start(project=team.project, user=team.lead, filename="o.csv", data=OUTLINE)
    Job.objects.filter(id=job.id).update(created_by=None)
    assert services.taxonomy_import_job_run(job_id=job.id) == Job.Status.FAILED
    job.refresh_from_db()
    assert job.error.startswith("o.csv: The member who uploaded this file no longer has an account")
    assert not Node.objects.exists()
