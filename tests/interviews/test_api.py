"""The interviews API: the same rules as the pages (membership, roles, blindness, bad input)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from interviews.models import FinalTag, Fragment, Interview, InterviewCoder, Piece
from tests.factories import ProjectFactory, member
from tests.helpers import api_client as api
from tests.interviews.factories import span, tag, transcript_txt

pytestmark = pytest.mark.django_db


def base(project):
    return f"/api/projects/{project.slug}/interviews/"


def test_anonymous_is_401_and_outsiders_404(coding):
    b = base(coding.project)
    assert api().get(b).status_code in (401, 403)
    outsider = member(ProjectFactory(), lead=True)
    for path in (b, b + "1/", b + "1/fragments/", b + "1/pieces/", b + "stats/", b + "final-tags/", b + "unmapped/"):
        assert api(outsider).get(path).status_code == 404, path


def test_role_matrix_for_writes(coding, django_capture_on_commit_callbacks):
    """Who may do what: lead uploads and names coders; evaluators tag; the moderator decides."""
    b = base(coding.project)
    upload = {"file": SimpleUploadedFile("interview2.txt", transcript_txt())}
    for user in (coding.eva1, coding.moderator):
        response = api(user).post(
            b, {"file": SimpleUploadedFile("interview2.txt", transcript_txt())}, format="multipart"
        )
        assert response.status_code == 403
    with django_capture_on_commit_callbacks(execute=True):  # the upload's job runs (eager Celery)
        response = api(coding.lead).post(b, upload, format="multipart")
    assert response.status_code == 202 and response.json()["kind"] == "import_interview"
    job = api(coding.lead).get(response.json()["url"]).json()
    assert job["status"] == "done" and job["report"]["interview"] == 2
    detail = api(coding.lead).get(b + "2/").json()
    assert detail["paragraphs"][1]["speaker"] == "Interviewee"

    coders = {"moderator": coding.moderator.id, "evaluator1": coding.eva1.id, "evaluator2": coding.eva2.id}
    assert api(coding.eva1).put(b + "2/coders/", coders, format="json").status_code == 403
    assert api(coding.lead).put(b + "2/coders/", coders, format="json").status_code == 200
    clash = {**coders, "evaluator2": coding.moderator.id}
    response = api(coding.lead).put(b + "2/coders/", clash, format="json")
    assert response.status_code == 400 and "moderator" in response.json()

    start, end = span(Interview.objects.get(number=2), "learning rate")
    fragment = {"start": start, "end": end, "tag": "suboptimal learning rate"}
    for user in (coding.moderator, coding.lead, coding.eva3):
        assert api(user).post(b + "2/fragments/", fragment, format="json").status_code == 403
    response = api(coding.eva1).post(b + "2/fragments/", fragment, format="json")
    assert response.status_code == 201
    fid = response.json()["id"]
    assert api(coding.eva2).patch(b + f"2/fragments/{fid}/", {"tag": "x"}, format="json").status_code == 403
    assert api(coding.eva2).delete(b + f"2/fragments/{fid}/").status_code == 403
    response = api(coding.eva1).patch(b + f"2/fragments/{fid}/", {"note": "high"}, format="json")
    assert response.status_code == 200 and response.json()["note"] == "high"


def test_blindness_over_the_api(coding):
    b = base(coding.project)
    tag(coding.interview, coding.eva1, "learning rate", "suboptimal learning rate")
    tag(coding.interview, coding.eva2, "training data", "small training set")
    assert [f["tag"] for f in api(coding.eva1).get(b + "1/fragments/").json()] == ["suboptimal learning rate"]
    assert api(coding.moderator).get(b + "1/fragments/").json() == []
    assert api(coding.moderator).get(b + "1/pieces/").json() == []
    suggestions = api(coding.eva1).get(b + "suggestions/", {"q": "s"}).json()
    assert "small training set" not in {s["name"] for s in suggestions}
    assert api(coding.eva1).post(b + "1/done/").status_code == 200
    assert len(api(coding.eva1).get(b + "1/fragments/").json()) == 1  # the other is not done yet
    assert api(coding.eva1).delete(b + "1/done/").status_code == 200  # reopen
    assert api(coding.eva1).post(b + "1/done/").status_code == 200
    response = api(coding.eva2).post(b + "1/done/")
    assert response.json()["stage"] == "moderation"
    assert len(api(coding.eva1).get(b + "1/fragments/").json()) == 2
    assert len(api(coding.moderator).get(b + "1/pieces/").json()) == 2


def test_moderation_and_review_over_the_api(coding):
    b = base(coding.project)
    tag(coding.interview, coding.eva2, "labels were noisy", "noisy labels")
    api(coding.eva1).post(b + "1/done/")
    api(coding.eva2).post(b + "1/done/")
    piece = Piece.objects.get()
    assert (
        api(coding.eva1).post(b + f"pieces/{piece.id}/keep/", {"moderator_tag": "x"}, format="json").status_code == 403
    )
    response = api(coding.moderator).post(b + f"pieces/{piece.id}/keep/", {"moderator_tag": ""}, format="json")
    assert response.status_code == 400 and "moderator_tag" in response.json()
    response = api(coding.moderator).post(
        b + f"pieces/{piece.id}/keep/", {"moderator_tag": "wrong labels for training data"}, format="json"
    )
    assert response.status_code == 200
    final_id = response.json()["final_tag"]["id"]
    response = api(coding.moderator).patch(b + f"final-tags/{final_id}/", {"status": "maybe"}, format="json")
    assert response.status_code == 400 and "status" in response.json()
    response = api(coding.moderator).patch(b + f"final-tags/{final_id}/", {"status": "accepted"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "accepted"
    stats = api(coding.eva3).get(b + "stats/").json()
    assert (stats["analysed"], stats["final"], stats["relevant"], stats["conflicts"]) == (1, 1, 1, 0)
    assert api(coding.eva3).get(b + "unmapped/").json()[0]["text"] == "wrong labels for training data"
    # A piece of another project is 404 here.
    other = ProjectFactory()
    member(other, moderator=True, username=coding.moderator.username)
    assert (
        api(coding.moderator).post(f"/api/projects/{other.slug}/interviews/pieces/{piece.id}/discard/").status_code
        == 404
    )
    assert FinalTag.objects.get().status == "accepted"


def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(coding, django_capture_on_commit_callbacks):
    b = base(coding.project)
    response = api(coding.eva1).post(b + "1/fragments/", {"start": 0, "end": 10**6, "tag": "x"}, format="json")
    assert response.status_code == 400 and "end" in response.json()
    response = api(coding.eva1).post(b + "1/fragments/", {"start": 0, "end": 5, "tag": "   "}, format="json")
    assert response.status_code == 400 and "tag" in response.json()
    response = api(coding.eva1).post(b + "1/fragments/", {"start": "a", "end": 5, "tag": "x"}, format="json")
    assert response.status_code == 400 and "start" in response.json()
    response = api(coding.lead).post(b, {"file": SimpleUploadedFile("empty.txt", b"")}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    response = api(coding.lead).post(b, {"file": SimpleUploadedFile("i4.txt", b"x"), "date": "soon"})
    assert response.status_code == 400 and "date" in response.json()  # checked before the job starts
    with django_capture_on_commit_callbacks(execute=True):
        response = api(coding.lead).post(
            b + "import/", {"file": SimpleUploadedFile("x.xlsx", b"PK broken")}, format="multipart"
        )
    assert response.status_code == 202  # an unreadable sheet is found by the job, which fails naming it
    job = api(coding.lead).get(response.json()["url"]).json()
    assert job["status"] == "failed" and "x.xlsx" in job["error"] and job["report"] == {"error_field": "file"}
    assert not Fragment.objects.exists()
    assert Interview.objects.count() == 1 and InterviewCoder.objects.count() == 3


def test_schema_lists_the_interview_endpoints(coding):
    response = api(coding.lead).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/projects/{project_slug}/interviews/{number}/fragments/" in paths
    assert "/api/projects/{project_slug}/interviews/pieces/{piece_id}/keep/" in paths


def test_details_edit_and_delete(coding):
    b = base(coding.project)
    response = api(coding.lead).patch(b + "1/", {"duration": "1:05:00", "date": "2019-08-24"}, format="json")
    assert response.status_code == 200 and response.json()["duration"] == "01:05:00"
    assert response.json()["date"] == "2019-08-24"
    response = api(coding.lead).patch(b + "1/", {"date": "yesterday"}, format="json")
    assert response.status_code == 400 and "date" in response.json()
    assert api(coding.eva1).delete(b + "1/").status_code == 403
    tag(coding.interview, coding.eva1, "learning rate", "suboptimal learning rate")
    assert api(coding.lead).delete(b + "1/").status_code == 409  # coded: kept
    Fragment.objects.all().delete()
    assert api(coding.lead).delete(b + "1/").status_code == 204
    assert not Interview.objects.exists()


def test_exports_take_file_format_not_drfs_format(coding):
    """DRF reserves ?format= for its renderers (a 404 for csv): the exports read ?file_format=."""
    b = base(coding.project)
    response = api(coding.lead).get(b + "export/?file_format=csv")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('.csv"')
    assert api(coding.lead).get(b + "export/?file_format=pdf").status_code == 400
    transcript = api(coding.lead).get(b + "1/transcript/?file_format=txt")
    assert transcript.status_code == 200 and not transcript.content.startswith(b"{")
