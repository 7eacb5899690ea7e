import pytest
from django.urls import reverse

from core.models import Job
from interviews import services
from interviews.models import FinalTag, Fragment, Interview, Piece
from tests.factories import ProjectFactory, member
from tests.interviews.factories import span, tag, transcript_txt, upload

pytestmark = pytest.mark.django_db


def url(name, project, *args):
    return reverse(f"interviews:{name}", args=[project.slug, *args])


def test_outsiders_get_404_everywhere(coding, client):
    outsider = member(ProjectFactory(), lead=True)
    client.force_login(outsider)
    p = coding.project
    for target in (
        url("list", p),
        url("detail", p, 1),
        url("moderate", p, 1),
        url("review", p),
        url("unmapped", p),
        url("transcript", p, 1, "txt"),
        url("export", p, "xlsx"),
        url("suggest", p) + "?q=a",
    ):
        assert client.get(target).status_code == 404, target
    start, end = span(coding.interview, "learning rate")
    response = client.post(url("fragments", p, 1), {"start": start, "end": end, "tag": "x"})
    assert response.status_code == 404
    assert not Fragment.objects.exists()


def test_list_page_shows_interviews_stats_and_lead_forms(coding, client):
    client.force_login(coding.lead)
    response = client.get(url("list", coding.project))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Upload a transcript" in html and "Import a coding sheet" in html
    assert reverse("interviews:detail", args=[coding.project.slug, 1]) in html
    client.force_login(coding.eva1)
    html = client.get(url("list", coding.project)).content.decode()
    assert "Upload a transcript" not in html
    assert "evaluator 1" in html  # my coding


def test_upload_through_the_page_runs_a_job_and_a_bad_file_fails_it_naming_it(
    team, client, django_capture_on_commit_callbacks
):
    client.force_login(team.lead)
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the job runs once the request commits
        response = client.post(
            url("upload", team.project),
            {"file": SimpleUploadedFile("interview5.txt", transcript_txt()), "interviewee_profile": "Data scientist"},
        )
    job = Job.objects.get(project=team.project, kind=Job.Kind.IMPORT_INTERVIEW)
    job_page = reverse("labelling:task_progress", args=[team.project.slug, job.id])
    assert response.status_code == 302 and response["Location"] == job_page
    html = client.get(job_page).content.decode()
    assert url("detail", team.project, 5) in html and "4 paragraphs" in html and "hx-trigger" not in html
    assert Interview.objects.get(number=5).interviewee_profile == "Data scientist"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("upload", team.project), {"file": SimpleUploadedFile("broken.docx", b"garbage")})
    job = Job.objects.filter(kind=Job.Kind.IMPORT_INTERVIEW).first()
    assert response.status_code == 302 and job.status == Job.Status.FAILED and job.input_data is None
    html = client.get(reverse("labelling:task_progress", args=[team.project.slug, job.id])).content.decode()
    assert 'id="job-error"' in html and "broken.docx: not a readable .docx file" in html
    assert Interview.objects.count() == 1

    response = client.post(
        url("upload", team.project), {"file": SimpleUploadedFile("i7.txt", transcript_txt()), "duration": "long"}
    )
    assert response.status_code == 400 and "long" in response.content.decode()  # refused before any job
    assert Job.objects.filter(kind=Job.Kind.IMPORT_INTERVIEW).count() == 2
    client.force_login(team.evaluators[0])
    response = client.post(url("upload", team.project), {"file": SimpleUploadedFile("i6.txt", transcript_txt())})
    assert response.status_code == 403


def test_evaluator_page_shows_only_own_fragments_until_both_are_done(coding, client):
    tag(coding.interview, coding.eva1, "learning rate was too high", "suboptimal learning rate")
    tag(coding.interview, coding.eva2, "not have enough training data", "small training set")
    client.force_login(coding.eva1)
    html = client.get(url("detail", coding.project, 1)).content.decode()
    assert "suboptimal learning rate" in html and "small training set" not in html
    assert 'id="tag-form"' in html
    # …nor in the suggestions while typing.
    html = client.get(url("suggest", coding.project) + "?tag=s").content.decode()
    assert "small training set" not in html and "suboptimal learning rate" in html
    client.force_login(coding.moderator)
    html = client.get(url("detail", coding.project, 1)).content.decode()
    assert "suboptimal learning rate" not in html and "small training set" not in html
    html = client.get(url("moderate", coding.project, 1)).content.decode()
    assert "small training set" not in html and "Nothing to moderate yet" in html


def test_tagging_through_the_page_htmx_returns_the_workspace(coding, client):
    client.force_login(coding.eva1)
    start, end = span(coding.interview, "learning rate was too high")
    response = client.post(
        url("fragments", coding.project, 1),
        {"start": start, "end": end, "tag": "suboptimal learning rate"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="workspace"')
    assert '<mark class="frag e1 mine"' in html and ">learning rate was too high</mark>" in html
    # Outside the text: 400 naming the field, nothing written.
    response = client.post(
        url("fragments", coding.project, 1), {"start": 5, "end": 99999, "tag": "x"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and "outside the transcript" in response.content.decode()
    assert Fragment.objects.count() == 1


def test_done_then_moderate_keep_and_review_through_pages(coding, client):
    tag(coding.interview, coding.eva1, "learning rate was too high", "suboptimal learning rate")
    tag(coding.interview, coding.eva2, "labels were noisy", "noisy labels")
    for user in (coding.eva1, coding.eva2):
        client.force_login(user)
        assert client.post(url("done", coding.project, 1), {"action": "done"}).status_code == 302
    client.force_login(coding.moderator)
    html = client.get(url("moderate", coding.project, 1)).content.decode()
    assert "One-sided" in html and "noisy labels" in html and "suboptimal learning rate" in html
    one_sided = Piece.objects.get(evaluator2_tag="noisy labels")
    response = client.post(
        url("piece", coding.project, one_sided.id),
        {"action": "keep", "moderator_tag": "wrong labels in training data"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="moderation-summary" hx-swap-oob="true"' in response.content.decode()
    final = FinalTag.objects.get()
    # An evaluator may not decide pieces.
    client.force_login(coding.eva1)
    other = Piece.objects.exclude(id=one_sided.id).get()
    assert client.post(url("piece", coding.project, other.id), {"action": "discard"}).status_code == 403
    client.force_login(coding.moderator)
    response = client.post(url("final_tag", coding.project, final.id), {"action": "accepted"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Accepted" in response.content.decode()
    html = client.get(url("review", coding.project)).content.decode()
    assert "wrong labels in training data" in html


def _coded_interview(coding, number, pieces):
    text = "\n\n".join(f"P{i}: sentence number {i} says something about layer {i}." for i in range(pieces))
    interview = services.interview_create(
        project=coding.project, user=coding.lead, filename=f"interview{number}.txt", data=text.encode()
    )
    services.interview_coders_set(
        interview_id=interview.id,
        user=coding.lead,
        moderator_id=coding.moderator.id,
        evaluator1_id=coding.eva1.id,
        evaluator2_id=coding.eva2.id,
    )
    for i in range(pieces):
        tag(interview, coding.eva1, f"layer {i}.", f"tag {i}")
        tag(interview, coding.eva2, f"about layer {i}", f"tag {i % 3}")
    services.coding_done(interview_id=interview.id, user=coding.eva1)
    services.coding_done(interview_id=interview.id, user=coding.eva2)
    for piece in Piece.objects.filter(interview=interview)[: pieces // 2]:
        services.piece_keep(piece_id=piece.id, user=coding.moderator, moderator_tag=f"kept {piece.id}")
    assert Piece.objects.filter(interview=interview).count() == pieces
    return interview


def _queries(client, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_moderation_review_and_list_pages_query_counts_are_flat(coding, client):
    """Ten times the pieces, fragments and final tags: the same number of queries per page."""
    _coded_interview(coding, 8, 6)
    _coded_interview(coding, 9, 60)
    client.force_login(coding.moderator)
    small, _ = _queries(client, url("moderate", coding.project, 8))
    large, html = _queries(client, url("moderate", coding.project, 9))
    assert small == large and html.count("data-piece>") == 60
    assert (
        _queries(client, url("review", coding.project) + "?interview=8")[0]
        == _queries(client, url("review", coding.project) + "?interview=9")[0]
    )
    client.force_login(coding.eva1)
    small, _ = _queries(client, url("detail", coding.project, 8))
    large, html = _queries(client, url("detail", coding.project, 9))
    assert small == large and html.count('<mark class="frag') >= 60
    before, _ = _queries(client, url("list", coding.project))
    for n in range(10, 20):
        upload(coding.project, coding.lead, number=n)
    after, html = _queries(client, url("list", coding.project))
    assert before == after and reverse("interviews:detail", args=[coding.project.slug, 19]) in html


def test_transcript_download_pseudonymised(coding, client):
    client.force_login(coding.eva3)
    response = client.get(url("transcript", coding.project, 1, "txt"))
    assert response.status_code == 200 and "Interviewee: Mostly the learning rate" in response.content.decode()


def test_a_fragment_across_paragraphs_is_highlighted_in_both(coding, client):
    start = coding.interview.text.index("exploded after a few epochs.")
    end = coding.interview.text.index("And the data?") + len("And the data?")
    fragment = services.fragment_create(
        interview_id=coding.interview.id, user=coding.eva1, start=start, end=end, tag="exploding loss"
    )
    client.force_login(coding.eva1)
    html = client.get(url("detail", coding.project, 1)).content.decode()
    assert html.count(f'data-fragments="{fragment.id}"') == 2


def test_lead_corrects_a_speaker_and_edits_details(coding, client):
    from interviews.models import Paragraph

    paragraph = Paragraph.objects.get(interview=coding.interview, position=2)
    client.force_login(coding.eva1)
    target = url("paragraph_speaker", coding.project, 1, paragraph.id)
    assert client.post(target, {"speaker": "Interviewee"}).status_code == 403
    client.force_login(coding.lead)
    assert client.post(target, {"speaker": "Interviewee"}).status_code == 302
    paragraph.refresh_from_db()
    assert paragraph.speaker == "Interviewee"
    response = client.post(url("details", coding.project, 1), {"title": "Bank data scientist", "duration": "50"})
    assert response.status_code == 302
    coding.interview.refresh_from_db()
    assert coding.interview.title == "Bank data scientist" and coding.interview.duration.total_seconds() == 3000
    response = client.post(url("details", coding.project, 1), {"duration": "a while"})
    assert response.status_code == 400


def test_back_after_navigating_the_list_restores_the_whole_page(coding, client):
    """htmx pages the list as a fragment; the Back button's history restore asks for the page itself,
    and every answer says it varies on HX-Request so no cache mixes the two."""
    client.force_login(coding.lead)
    target = url("list", coding.project) + "?page=1"
    fragment = client.get(target, HTTP_HX_REQUEST="true")
    restore = client.get(target, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    page = client.get(target)
    assert "<html" not in fragment.content.decode() and "<table" in fragment.content.decode()
    assert "<html" in restore.content.decode() and "<html" in page.content.decode()
    for response in (fragment, restore, page):
        assert "HX-Request" in response["Vary"]


def test_old_addresses_redirect_to_their_place(coding, client):
    client.force_login(coding.lead)
    response = client.get(f"/interviews/{coding.project.slug}/review/?q=x")
    assert response.status_code == 301
    assert response["Location"] == f"/p/{coding.project.slug}/interviews/review/?q=x"
    assert client.get(response["Location"]).status_code == 200
