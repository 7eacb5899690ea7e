"""The survey API: leads manage, leads and moderators read results, respondents answer by token."""

import io

import openpyxl
import pytest

from tests.factories import ProjectFactory, member
from tests.helpers import api_client as api
from validation.models import Answer, Response, Survey

from .factories import respond, small_taxonomy, survey_with_categories

pytestmark = pytest.mark.django_db


def base(project):
    return f"/api/projects/{project.slug}/surveys/"


@pytest.fixture
def tax(team):
    return small_taxonomy(team.project)


def test_create_open_close_and_read(team, tax):
    lead = api(team.lead)
    created = lead.post(base(team.project), {"title": "Survey A", "levels": [1], "ask_comment": False}, format="json")
    assert created.status_code == 201, created.data
    body = created.data
    assert [c["name"] for c in body["categories"]] == ["Model", "Training"]
    assert body["status"] == "draft"
    assert body["questions"] == {
        "encountered": True,
        "severity": True,
        "effort": True,
        "comment": False,
        "background": True,
        "missing_faults": True,
        "severity_scale": ["Minor", "Major", "Critical"],
        "effort_scale": ["Low", "Medium", "High"],
    }
    numeric = lead.post(
        base(team.project), {"title": "B", "severity_scale": "numeric", "effort_scale": ["a", "b"]}, format="json"
    )
    assert numeric.status_code == 201 and numeric.data["questions"]["severity_scale"] == ["1", "2", "3", "4", "5"]
    assert numeric.data["questions"]["effort_scale"] == ["a", "b"]
    assert lead.delete(f"{base(team.project)}{numeric.data['id']}/").status_code == 204
    assert body["share_url"].endswith(f"/survey/t/{Survey.objects.get().token}/")
    url = f"{base(team.project)}{body['id']}/"
    assert lead.post(url + "open/").data["status"] == "open"
    listed = api(team.moderator).get(base(team.project)).data["results"]
    assert [(s["title"], s["categories"], s["submitted"]) for s in listed] == [("Survey A", 2, 0)]
    assert api(team.moderator).get(url).data["share_url"] is None
    assert lead.patch(url, {"intro": "Please help"}, format="json").data["intro"] == "Please help"
    assert lead.post(url + "close/").data["status"] == "closed"


def test_explicit_categories_and_bad_input(team, tax):
    lead = api(team.lead)
    body = lead.post(
        base(team.project), {"title": "S", "node_ids": [tax["hyper"].id], "leaf_ids": [tax["leaf"].id]}, format="json"
    ).data
    assert [c["name"] for c in body["categories"]] == ["wrong activation", "Hyperparameters"]
    bad = lead.post(base(team.project), {"title": "T", "node_ids": [99999999]}, format="json")
    assert bad.status_code == 400 and "node_ids" in bad.data
    bad = lead.post(base(team.project), {"title": "S"}, format="json")
    assert bad.status_code == 400 and "title" in bad.data
    bad = lead.post(base(team.project), {"levels": ["x"]}, format="json")
    assert bad.status_code == 400 and set(bad.data) == {"title", "levels"}
    assert Survey.objects.count() == 1


def test_permissions(team, tax):
    survey, _ = survey_with_categories(project=team.project, n=1)
    url = f"{base(team.project)}{survey.id}/"
    outsider = member(ProjectFactory(), lead=True)
    for path in (base(team.project), url, url + "results/"):
        assert api().get(path).status_code == 401
        assert api(outsider).get(path).status_code == 404
        assert api(team.evaluators[0]).get(path).status_code == 403
        assert api(team.moderator).get(path).status_code == 200
    for method, path in (
        ("post", base(team.project)),
        ("post", url + "open/"),
        ("post", url + "close/"),
        ("patch", url),
        ("delete", url),
    ):
        assert getattr(api(team.moderator), method)(path, {"title": "x"}, format="json").status_code == 403
        assert getattr(api(team.evaluators[0]), method)(path, {"title": "x"}, format="json").status_code == 403
        assert getattr(api(outsider), method)(path, {"title": "x"}, format="json").status_code == 404
    survey.refresh_from_db()
    assert survey.status == "open" and Survey.objects.count() == 1
    other, _ = survey_with_categories(n=1)
    assert api(team.lead).get(f"{base(team.project)}{other.id}/").status_code == 404


def test_results(team):
    survey, (a, b) = survey_with_categories(project=team.project, n=2)
    respond(survey, {a: (True, 5, 1), b: (False, None, None)}, missing="leaks")
    respond(survey, {a: (True, 3, 2), b: (True, 2, 2)})
    respond(survey, {a: (False, None, None), b: (False, None, None)})
    url = f"{base(team.project)}{survey.id}/results/"
    data = api(team.lead).get(url).data
    assert list(data) == ["rows"]  # the paper's layout, as every Table 2 download (issue 13)
    assert [(r["yes"], r["no"], r["n_encountered"], r["n_severity"], r["n_effort"]) for r in data["rows"]] == [
        (67, 33, 3, 2, 2),
        (33, 67, 3, 1, 1),
    ]
    assert data["rows"][0]["counts"]["severity_5"] == 1 and data["rows"][0]["severity_5"] == 50
    xlsx = api(team.moderator).get(url, {"file_format": "xlsx"})
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book["Table 2"]["C3"].value == 67 and book["Missing faults"]["C2"].value == "leaks"
    latex = api(team.lead).get(url, {"file_format": "latex"})
    assert b"\\toprule" in latex.content
    assert api(team.lead).get(url, {"file_format": "pdf"}).status_code == 400


def test_delete(team):
    survey, _ = survey_with_categories(project=team.project, n=1)
    url = f"{base(team.project)}{survey.id}/"
    respond(survey, {}, submitted=False)
    assert api(team.lead).delete(url).status_code == 409
    Response.objects.all().delete()
    assert api(team.lead).delete(url).status_code == 204
    assert not Survey.objects.exists()


# --- respondents -----------------------------------------------------------------------------


def test_answer_by_token_without_an_account(db):
    survey, (a, b) = survey_with_categories(n=2, ask_background=True)
    anon = api()
    public = anon.get(f"/api/surveys/{survey.token}/").data
    assert public["accepts_answers"] is True
    assert [c["id"] for c in public["categories"]] == [a.id, b.id]
    assert "source_id" not in public["categories"][0]
    started = anon.post(f"/api/surveys/{survey.token}/responses/")
    assert started.status_code == 201
    token = started.data["token"]
    assert started.data["url"].endswith(f"/survey/r/{token}/")
    url = f"/api/responses/{token}/"
    saved = anon.patch(url, {"answers": [{"category": a.id, "encountered": True, "severity": 5}]}, format="json")
    assert saved.status_code == 200
    assert saved.data["answers"] == [
        {"category": a.id, "encountered": True, "severity": 5, "effort": None, "comment": ""}
    ]
    bad = anon.patch(url, {"answers": [{"category": b.id, "encountered": False, "severity": 9}]}, format="json")
    assert bad.status_code == 400 and f"answers.{b.id}.severity" in bad.data
    done = anon.post(
        url + "submit/",
        {
            "answers": [
                {"category": a.id, "encountered": True, "severity": 5, "effort": 1},
                {"category": b.id, "encountered": False},
            ],
            "background": {"role": "researcher", "experience_years": 6, "frameworks": ["TensorFlow"]},
            "missing_faults": "Mixed precision overflow",
        },
        format="json",
    )
    assert done.status_code == 200, done.data
    assert done.data["final"] is True
    # submitting with gaps is the respondent's choice (issue 13): b unanswered, a without effort
    other = anon.post(f"/api/surveys/{survey.token}/responses/").data["token"]
    partial = anon.post(
        f"/api/responses/{other}/submit/",
        {"answers": [{"category": a.id, "encountered": True, "severity": 2}]},
        format="json",
    )
    assert partial.status_code == 200 and partial.data["final"] is True
    assert partial.data["answers"] == [
        {"category": a.id, "encountered": True, "severity": 2, "effort": None, "comment": ""}
    ]
    assert done.data["background"] == {"role": "researcher", "experience_years": 6, "frameworks": ["TensorFlow"]}
    again = anon.post(url + "submit/", {}, format="json")
    assert again.status_code == 409 and "final" in again.data["response"][0]
    assert anon.patch(url, {"answers": []}, format="json").status_code == 409
    assert anon.get(url).data["answers"][0]["severity"] == 5


def test_closed_survey_and_unknown_tokens(db):
    survey, (a,) = survey_with_categories(n=1, status=Survey.Status.CLOSED)
    anon = api()
    assert anon.get(f"/api/surveys/{survey.token}/").data["accepts_answers"] is False
    refused = anon.post(f"/api/surveys/{survey.token}/responses/")
    assert refused.status_code == 409 and "closed" in refused.data["survey"][0]
    r = Response.objects.create(survey=survey)
    refused = anon.patch(
        f"/api/responses/{r.token}/", {"answers": [{"category": a.id, "encountered": True}]}, format="json"
    )
    assert refused.status_code == 409
    assert not Answer.objects.exists()
    assert anon.get("/api/surveys/nope/").status_code == 404
    assert anon.get("/api/responses/nope/").status_code == 404
    assert anon.patch(f"/api/responses/{r.token}/", [1, 2], format="json").status_code == 400


def test_schema_builds(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/surveys/{token}/responses/" in response.content
