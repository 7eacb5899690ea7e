"""Upload limits on every path: refused with a clear 4xx before parsing, nothing written."""

import io
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import Job
from core.uploads import DEFAULT_UPLOAD_LIMITS, FORM_OVERHEAD, request_size_limit
from interviews.models import Interview
from taxonomy.models import Node

MB = 1024 * 1024
SMALL = {"artefacts": 4096, "round": 4096, "interview": 2048, "interview_sheet": 2048, "taxonomy": 2048}


def bomb(unpacked: int, entry: str = "xl/worksheets/sheet1.xml") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open(entry, "w", force_zip64=True) as handle:
            for _ in range(unpacked // MB):
                handle.write(b"0" * MB)
    return buffer.getvalue()


def wide_csv(columns: int) -> bytes:
    return (
        "url," + ",".join(f"c{i}" for i in range(columns)) + "\nhttps://x.example/1" + "," * columns + "\n"
    ).encode()


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def lead_client(team, client):
    client.force_login(team.lead)
    return client


@override_settings(CONCORD_UPLOAD_ZIP_UNPACKED=8 * MB)
def test_an_xlsx_bomb_on_the_artefact_import_page_is_refused_quickly_and_no_job_is_kept(team, lead_client):
    data = bomb(64 * MB)
    started = time.monotonic()
    response = lead_client.post(
        reverse("collection:import_artefacts", args=[team.project.slug]),
        {"file": SimpleUploadedFile("bomb.xlsx", data)},
    )
    assert time.monotonic() - started < 30  # no unpacking: a bound, not a timing measurement
    assert response.status_code == 413
    assert b"unpacks to 64 MB" in response.content
    assert not Job.objects.exists()


@override_settings(CONCORD_UPLOAD_LIMITS=SMALL)
def test_an_oversized_artefact_file_is_refused_before_it_is_read(team, lead_client):
    response = lead_client.post(
        reverse("collection:import_artefacts", args=[team.project.slug]),
        {"file": SimpleUploadedFile("big.csv", b"url\n" + b"https://x.example/\n" * 400)},
    )
    assert response.status_code == 413
    assert b"the limit is 4096 bytes" in response.content
    assert not Job.objects.exists()


@override_settings(CONCORD_UPLOAD_CSV_COLUMNS=50)
def test_a_csv_with_too_many_columns_never_becomes_a_mapping_page(team, lead_client):
    response = lead_client.post(
        reverse("collection:import_artefacts", args=[team.project.slug]),
        {"file": SimpleUploadedFile("wide.csv", wide_csv(5000))},
    )
    assert response.status_code == 413
    assert b"the limit is 50" in response.content
    assert not Job.objects.exists()


@override_settings(CONCORD_UPLOAD_CSV_COLUMNS=50)
def test_a_round_upload_with_too_many_columns_is_refused(team, lead_client):
    response = lead_client.post(
        reverse("taxonomy:import_round", args=[team.project.slug]),
        {"round": 1, "file": SimpleUploadedFile("round.csv", wide_csv(5000))},
    )
    assert response.status_code == 413
    assert not Job.objects.exists()


@override_settings(CONCORD_UPLOAD_ZIP_UNPACKED=8 * MB)
def test_a_docx_bomb_transcript_is_refused_by_the_api(team):
    response = api(team.lead).post(
        f"/api/projects/{team.project.slug}/interviews/",
        {"file": SimpleUploadedFile("t.docx", bomb(32 * MB, entry="word/document.xml")), "number": 1},
        format="multipart",
    )
    assert response.status_code == 413
    assert "unpacks to 32 MB" in response.data["file"][0]
    assert not Interview.objects.exists() and not Job.objects.exists()  # refused before its job: nothing stored


@override_settings(CONCORD_UPLOAD_ZIP_UNPACKED=8 * MB)
def test_a_bomb_coding_sheet_is_refused_on_the_page_before_its_job(team, lead_client):
    page = lead_client.post(
        reverse("interviews:import", args=[team.project.slug]),
        {"file": SimpleUploadedFile("s.xlsx", bomb(32 * MB))},
    )
    assert page.status_code == 413 and "unpacks to 32 MB" in page.content.decode()
    assert not Interview.objects.exists() and not Job.objects.exists()


@override_settings(CONCORD_UPLOAD_LIMITS=SMALL)
def test_an_oversized_transcript_is_refused_on_the_page_and_the_api(team, lead_client):
    text = b"Interviewer: hello\n" * 200
    page = lead_client.post(
        reverse("interviews:upload", args=[team.project.slug]),
        {"file": SimpleUploadedFile("t.txt", text), "number": 1},
    )
    assert page.status_code == 413
    answer = api(team.lead).post(
        f"/api/projects/{team.project.slug}/interviews/",
        {"file": SimpleUploadedFile("t.txt", text), "number": 1},
        format="multipart",
    )
    assert answer.status_code == 413
    assert "the limit is 2048 bytes" in answer.data["file"][0]
    assert not Interview.objects.exists() and not Job.objects.exists()


@override_settings(CONCORD_UPLOAD_LIMITS=SMALL)
def test_an_oversized_coding_sheet_and_taxonomy_file_are_refused(team):
    client = api(team.lead)
    sheet = client.post(
        f"/api/projects/{team.project.slug}/interviews/import/",
        {"file": SimpleUploadedFile("s.csv", b"Interview Num,Tag\n" + b"1,x\n" * 1000)},
        format="multipart",
    )
    assert sheet.status_code == 413
    taxonomy = client.post(
        f"/api/projects/{team.project.slug}/taxonomy/import/",
        {"file": SimpleUploadedFile("o.csv", b"code,name\n" + b"1,x\n" * 1000)},
        format="multipart",
    )
    assert taxonomy.status_code == 413
    assert not Interview.objects.exists() and not Node.objects.exists() and not Job.objects.exists()


# --- the request body: refused from its Content-Length before anything reads it ------------------


class UnreadableBody(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body of a request over the limit was read")

    readline = read


def test_the_request_limit_is_the_largest_upload_kind_and_its_form():
    assert request_size_limit() == max(DEFAULT_UPLOAD_LIMITS.values()) + FORM_OVERHEAD
    with override_settings(CONCORD_UPLOAD_LIMITS={"interview": 300 * MB}):
        assert request_size_limit() == 300 * MB + FORM_OVERHEAD
    with override_settings(CONCORD_MAX_REQUEST_BYTES=1234):
        assert request_size_limit() == 1234


@pytest.mark.parametrize("path", ["/p/{slug}/import/artefacts/", "/api/projects/{slug}/exchange/import/"])
def test_a_body_over_every_limit_is_refused_unread_on_pages_and_api(team, lead_client, path):
    url = path.format(slug=team.project.slug)
    ten_gigabytes = 10 * 1024 * MB
    response = lead_client.generic(
        "POST",
        url,
        b"",
        content_type="multipart/form-data; boundary=BoUnDaRy",
        CONTENT_LENGTH=str(ten_gigabytes),
        **{"wsgi.input": UnreadableBody()},
    )
    assert response.status_code == 413
    assert response["Connection"] == "close"
    text = response.content.decode()
    assert "The request is 10240 MB; the largest upload accepted is 51 MB." in text
    if path.startswith("/api/"):
        assert response.json() == {"detail": "The request is 10240 MB; the largest upload accepted is 51 MB."}
    else:
        assert "That did not work" in text  # the error page, for a browser
    assert not Job.objects.exists()


@override_settings(CONCORD_MAX_REQUEST_BYTES=2000)
def test_a_real_upload_over_the_request_limit_is_refused_with_nothing_stored(team, lead_client):
    response = lead_client.post(
        reverse("collection:import_artefacts", args=[team.project.slug]),
        {"file": SimpleUploadedFile("big.csv", b"url\n" + b"https://x.example/\n" * 200)},
    )
    assert response.status_code == 413 and b"the largest upload accepted is 2000 bytes" in response.content
    assert not Job.objects.exists()
    small = lead_client.post(
        reverse("collection:import_artefacts", args=[team.project.slug]),
        {"file": SimpleUploadedFile("small.csv", b"url\nhttps://x.example/1\n")},
    )
    assert small.status_code == 302 and Job.objects.count() == 1  # under the limit: read as before
