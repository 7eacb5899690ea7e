"""The import page (preview of the matching, then import) and the participants page (import, table, downloads)."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from core.models import Job
from tests.factories import NodeFactory
from validation.models import Participant, Response, Survey

from .qualtrics_files import SurveyRows, as_xlsx

pytestmark = pytest.mark.django_db


def test_preview_then_import(client, team):
    NodeFactory(project=team.project, name="Hyperparameters", code="5.1")
    NodeFactory(project=team.project, name="Optimiser", code="5.5")
    source = SurveyRows.random(["Hyperparameters", "OptimiserProblems", "Odd group"], n=5, seed=3)
    url = reverse("validation:import", args=[team.project.slug])
    client.force_login(team.evaluators[0])
    assert client.get(url).status_code == 403
    client.force_login(team.lead)
    assert client.get(url).status_code == 200
    upload = SimpleUploadedFile("export.xlsx", as_xlsx(source.rows("three-row")))
    page = client.post(url, {"file": upload, "action": "preview"}).content.decode()
    assert "Optimiser" in page and "normalised" in page
    assert 'id="import-unmatched"' in page and "Odd group" in page
    assert not Survey.objects.exists()  # a preview writes nothing
    # the kept file, mapped and imported
    response = client.post(url, {"action": "import", "mapping": "Odd group="})
    survey = Survey.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/survey/{survey.id}/")
    assert Response.objects.filter(survey=survey).count() == 5
    assert sorted(survey.categories.values_list("name", flat=True)) == ["Hyperparameters", "Optimiser"]


def test_import_page_names_the_problem(client, team):
    client.force_login(team.lead)
    url = reverse("validation:import", args=[team.project.slug])
    response = client.post(url, {"action": "preview"})
    assert response.status_code == 400 and "Choose the exported file" in response.content.decode()
    bad = SimpleUploadedFile("x.csv", b"a,b\n1,2\n")
    response = client.post(url, {"file": bad, "action": "preview"})
    assert response.status_code == 400 and "No category questions" in response.content.decode()


def test_participants_page_import_and_downloads(client, team, django_capture_on_commit_callbacks):
    """The import runs as a job (tests/validation/test_participants_jobs.py): the page redirects to its page."""
    url = reverse("reports:participants", args=[team.project.slug])
    sheet = (
        "Participant,Role,Experience,DL experience,Frameworks\n"
        'P1,Researcher,6,2,Keras\nP2,Developer,10,4,"PyTorch, TensorFlow"\nP3,Engineer,4,1,Keras\n'
    )
    client.force_login(team.moderator)
    refused = client.post(url, {"file": SimpleUploadedFile("p.csv", sheet.encode()), "kind": "interviewee"})
    assert refused.status_code == 403 and not Participant.objects.exists() and not Job.objects.exists()
    client.force_login(team.lead)
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url, {"file": SimpleUploadedFile("p.csv", sheet.encode()), "kind": "interviewee"})
    page = client.get(posted["Location"])
    assert page.status_code == 200 and "3 participants added, 0 updated." in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url, {"file": SimpleUploadedFile("p.csv", sheet.encode()), "kind": "interviewee"})
    again = client.get(posted["Location"])
    assert "0 participants added, 3 updated." in again.content.decode() and Participant.objects.count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        posted = client.post(url, {"file": SimpleUploadedFile("p.csv", sheet.encode())})
    no_kind = client.get(posted["Location"])
    assert 'id="job-error"' in no_kind.content.decode()
    assert "p.csv: say whether the participants" in no_kind.content.decode()
    assert "interviewees or survey respondents" in no_kind.content.decode()
    data = json.loads(client.get(url, {"format": "json"}).content)
    rows = {(r["kind"], r["role"]): r for r in data["rows"]}
    assert rows["interviewee", "practitioner"]["n"] == 2
    assert rows["interviewee", "all"]["experience"] == {"min": 4, "median": 6, "max": 10}
    assert data["frameworks"][0] == {"name": "Keras", "n": 2}
    csv_text = client.get(url, {"format": "csv"}).content.decode()
    assert "Interviewees,Practitioners,2,4,7,10,1,2.5,4" in csv_text
    assert client.get(url, {"format": "pdf"}).status_code == 404


def test_survey_list_links_import_and_participants(client, team):
    client.force_login(team.lead)
    page = client.get(reverse("validation:list", args=[team.project.slug])).content.decode()
    assert reverse("validation:import", args=[team.project.slug]) in page
    assert reverse("reports:participants", args=[team.project.slug]) in page


def test_import_participants_command(team, tmp_path, capsys):
    path = tmp_path / "people.csv"
    path.write_text("Respondent,Position,Years of experience\nR_1,Data scientist,5\nR_2,PhD student,2\n")
    call_command("import_participants", team.project.slug, str(path), "--kind", "respondent")
    assert json.loads(capsys.readouterr().out) == {"created": 2, "updated": 0}
    assert sorted(Participant.objects.values_list("external_id", "role")) == [
        ("R_1", "practitioner"),
        ("R_2", "researcher"),
    ]
    with pytest.raises(CommandError, match="interviewees or survey respondents"):
        call_command("import_participants", team.project.slug, str(path))
