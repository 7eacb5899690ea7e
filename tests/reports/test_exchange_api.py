"""API: whole-project backup as a job, exchange export/import, and `file_format` on export routes."""

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from collection.models import Artefact
from core.models import Job
from labelling.models import Annotation
from reports.backup.archive import ArchiveReader
from taxonomy import round_import
from tests.collection.test_exchange_formats import LS_JSON
from tests.helpers import api_client as api
from tests.reports.test_exchange_exports import project  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def test_backup_is_a_job_with_progress_and_a_download(project, django_capture_on_commit_callbacks):  # noqa: F811
    lead = project.memberships.get(user__username="exp-mod").user
    project.memberships.filter(user=lead).update(is_lead=True)
    eva = project.memberships.get(user__username="exp-eva").user
    assert api(eva).get("/api/projects/exp/backup/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api(lead).get("/api/projects/exp/backup/")
    assert response.status_code == 202
    job_id = response.json()["job"]
    status = api(lead).get(f"/api/projects/exp/backup/{job_id}/").json()
    assert status["status"] == "done" and status["percent"] == 100
    assert status["report"]["counts"]["core.project"] == 1
    archive = api(lead).get(status["download_url"])
    assert archive.status_code == 200 and archive["Content-Type"] == "application/zip"
    with ArchiveReader(io.BytesIO(archive.content)) as reader:
        reader.verify()
        # the backup job itself is not in the backup
        assert reader.counts["core.job"] == 0
    assert Job.objects.filter(project=project, kind=Job.Kind.EXPORT_PROJECT).count() == 1


def test_exchange_export_uses_file_format(project):  # noqa: F811
    lead = project.memberships.get(user__username="exp-mod").user
    project.memberships.filter(user=lead).update(is_lead=True)
    response = api(lead).get("/api/projects/exp/exchange/export/?file_format=qdpx")
    assert response.status_code == 200
    assert "project.qde" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    response = api(lead).get("/api/projects/exp/exchange/export/?file_format=doccano")
    assert [json.loads(line)["label"] for line in response.content.decode().splitlines()][0] == ["wrong loss function"]
    assert api(lead).get("/api/projects/exp/exchange/export/?file_format=pdf").status_code == 400
    taxonomy = api(lead).get("/api/projects/exp/taxonomy/export/?file_format=qdc")
    assert taxonomy.status_code == 200 and b"urn:QDA-XML:codebook:1.0" in taxonomy.content


def _lead(project):  # noqa: F811
    lead = project.memberships.get(user__username="exp-mod").user
    project.memberships.filter(user=lead).update(is_lead=True)
    return lead


def _post_import(user, content: bytes, name: str = "tasks.json", **fields):
    upload = SimpleUploadedFile(name, content, content_type="application/json")
    return api(user).post("/api/projects/exp/exchange/import/", {"file": upload, **fields}, format="multipart")


def _artefact_rows(project):  # noqa: F811
    return sorted(Artefact.objects.filter(project=project).values_list("url", "title"))


def test_exchange_import_keeps_annotations_as_a_round(project, django_capture_on_commit_callbacks):  # noqa: F811
    lead = _lead(project)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_import(lead, json.dumps(LS_JSON).encode(), keep_annotations="true")
    assert response.status_code == 202, response.content
    job = response.json()
    assert job["kind"] == "import_exchange" and job["url"].endswith(f"/api/projects/exp/jobs/{job['id']}/")
    done = api(lead).get(f"/api/projects/exp/jobs/{job['id']}/").json()
    assert done["status"] == "done", done
    report = done["report"]
    assert report["exchange"]["annotations"] == 3 and report["imported_round"]["round"] == 2
    artefact = Artefact.objects.get(project=project, url="https://stackoverflow.com/questions/111")
    assert "Wrong loss function" not in json.dumps([artefact.title, artefact.body, artefact.tags, artefact.metadata])
    assert Annotation.objects.filter(assignment__round__number=2, assignment__round__project=project).count() == 2
    assert Job.objects.get(id=job["id"]).input_data is None  # the upload is gone once read


def test_exchange_import_reads_nothing_in_the_request(project, monkeypatch):  # noqa: F811
    """The request stores the upload and starts the job; the file is read only when the task runs."""

    def no_reading(**kwargs):
        raise AssertionError("the export was read inside the request")

    monkeypatch.setattr(round_import, "artefacts_import_file", no_reading)
    monkeypatch.setattr(round_import, "exchange_round_import", no_reading)
    before = _artefact_rows(project)
    response = _post_import(_lead(project), json.dumps(LS_JSON).encode(), keep_annotations="true", round="4")
    assert response.status_code == 202, response.content
    job = Job.objects.get(id=response.json()["id"])
    assert job.status == Job.Status.PENDING and job.kind == Job.Kind.IMPORT_EXCHANGE and job.task_id
    assert bytes(job.input_data) == json.dumps(LS_JSON).encode()
    assert job.params["keep_annotations"] is True and job.params["number"] == 4
    assert _artefact_rows(project) == before


def test_exchange_import_of_another_file_fails_its_job_naming_it(project, django_capture_on_commit_callbacks):  # noqa: F811
    lead = _lead(project)
    before = _artefact_rows(project)
    plain = b"url,title\nhttps://github.com/x/y/issues/9,Not an export\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = _post_import(lead, plain, name="plain.csv", keep_annotations="true")
    assert response.status_code == 202, response.content
    failed = api(lead).get(f"/api/projects/exp/jobs/{response.json()['id']}/").json()
    assert failed["status"] == "failed"
    assert failed["error"] == "plain.csv: Not a Label Studio or doccano export."
    assert failed["report"] == {"error_field": "file"}
    assert _artefact_rows(project) == before  # the artefact the file held was not kept


def test_exchange_import_refuses_in_the_request_what_it_can_tell_without_reading(project):  # noqa: F811
    lead = _lead(project)
    content = json.dumps(LS_JSON).encode()
    with override_settings(CONCORD_UPLOAD_LIMITS={"artefacts": 100}):
        too_big = _post_import(lead, content)
    assert too_big.status_code == 413 and "the limit is 100 bytes" in too_big.json()["file"][0], too_big.content
    labelled_here = _post_import(lead, content, keep_annotations="true", round="1")
    assert labelled_here.status_code == 400
    assert "labelled in Concord" in labelled_here.json()["round"][0]
    eva = project.memberships.get(user__username="exp-eva").user
    assert _post_import(eva, content).status_code == 403
    assert not Job.objects.filter(project=project, kind=Job.Kind.IMPORT_EXCHANGE).exists()


def test_lead_page_starts_a_backup_and_offers_the_downloads(project, client, django_capture_on_commit_callbacks):  # noqa: F811
    lead = project.memberships.get(user__username="exp-mod").user
    project.memberships.filter(user=lead).update(is_lead=True)
    eva = project.memberships.get(user__username="exp-eva").user
    client.force_login(eva)
    assert client.get("/p/exp/exchange/").status_code == 403
    client.force_login(lead)
    page = client.get("/p/exp/exchange/")
    assert page.status_code == 200
    for href in (
        "/p/exp/exchange/download.qdpx",
        "/p/exp/exchange/download.label-studio",
        "/p/exp/taxonomy/export.qdc",
    ):
        assert href in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/p/exp/exchange/")
    assert response.status_code == 302
    job = Job.objects.get(project=project, kind=Job.Kind.EXPORT_PROJECT)
    assert job.status == Job.Status.DONE and job.result_name.endswith(".zip")
    download = client.get(f"/p/exp/jobs/{job.id}/download/")
    assert download.status_code == 200 and zipfile.ZipFile(io.BytesIO(download.content)).testzip() is None
    ls = client.get("/p/exp/exchange/download.label-studio")
    assert ls.status_code == 200 and json.loads(ls.content)[0]["data"]["url"].startswith("https://")


def test_page_export_routes_take_file_format_too(project, client):  # noqa: F811
    lead = project.memberships.get(user__username="exp-mod").user
    project.memberships.filter(user=lead).update(is_lead=True)
    client.force_login(lead)
    stats = client.get("/p/exp/stats/", {"file_format": "csv"})
    assert stats.status_code == 200 and stats["Content-Disposition"].endswith('table1.csv"')
    assert "file_format=csv" in client.get("/p/exp/stats/").content.decode()
    assert client.get("/p/exp/stats/", {"file_format": "pdf"}).status_code == 400
