"""Each kind of background job gets its own summary: an export shows rows written and its file, not the
import summary's blanks."""

from django.test import TestCase

from labelling import exports
from tests.factories import team_round


def test_round_export_job_page_shows_rows_written_and_the_file(client, team):
    rnd = team_round(team, n=3)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = exports.export_round_job_create(project=team.project, user=team.lead, number=rnd.number, fmt="csv")
    job.refresh_from_db()
    assert job.status == "done", job.error
    client.force_login(team.lead)
    page = client.get(f"/p/{team.project.slug}/jobs/{job.id}/").content.decode()
    assert 'id="export-summary"' in page
    assert "3</span> rows written" in page
    assert f"{team.project.slug}-round-{rnd.number}.csv" in page
    assert "analysed" not in page and "disagreements" not in page


def test_annotations_export_job_page(client, team):
    team_round(team, n=1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = exports.export_annotations_job_create(project=team.project, user=team.lead)
    client.force_login(team.lead)
    page = client.get(f"/p/{team.project.slug}/jobs/{job.id}/").content.decode()
    assert "decisions written" in page and "-annotations.jsonl" in page
    assert "analysed" not in page
