"""Survey pages: who sees what (non-members 404, evaluators 403), creating, opening and closing,
the results page with its empty state and downloads, and the respondents' token pages."""

import pytest
from django.urls import reverse

from tests.factories import ProjectFactory, UserFactory, member
from validation.models import Answer, Response, Survey

from .factories import SurveyFactory, respond, small_taxonomy, survey_with_categories

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def survey(team):
    s, cats = survey_with_categories(project=team.project, n=3, title="Faults survey")
    s.cats = cats
    return s


def as_user(client, user):
    client.force_login(user)
    return client


def urls(survey):
    slug, sid = survey.project.slug, survey.id
    return {
        "list": reverse("validation:list", args=[slug]),
        "create": reverse("validation:create", args=[slug]),
        "survey": reverse("validation:survey", args=[slug, sid]),
        "status": reverse("validation:status", args=[slug, sid]),
        "delete": reverse("validation:delete", args=[slug, sid]),
        "export": reverse("reports:survey_table2_export", args=[slug, sid, "csv"]),
        "table2": reverse("reports:survey_table2", args=[slug, sid]),
    }


# --- permissions ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "survey", "export", "table2"])
def test_reading_pages(client, team, survey, name):
    url = urls(survey)[name]
    assert client.get(url).status_code == 302  # to the login page
    assert as_user(client, team.lead).get(url).status_code == 200
    assert as_user(client, team.moderator).get(url).status_code == 200
    assert as_user(client, team.evaluators[0]).get(url).status_code == 403
    outsider = member(ProjectFactory(), lead=True)
    assert as_user(client, outsider).get(url).status_code == 404
    assert as_user(client, UserFactory()).get(url).status_code == 404


@pytest.mark.parametrize(("name", "data"), [("create", {"title": "x"}), ("status", {"action": "open"}), ("delete", {})])
def test_managing_needs_the_lead(client, team, survey, name, data):
    url = urls(survey)[name]
    survey.status = Survey.Status.DRAFT
    survey.save()
    for user in (team.moderator, team.evaluators[0]):
        assert as_user(client, user).post(url, data).status_code == 403
    assert as_user(client, member(ProjectFactory(), lead=True)).post(url, data).status_code == 404
    survey.refresh_from_db()
    assert survey.status == Survey.Status.DRAFT
    assert Survey.objects.count() == 1


def test_a_survey_of_another_project_is_not_found(client, team, survey):
    other = SurveyFactory()
    member(other.project, lead=True, username="lead-elsewhere")
    url = reverse("validation:survey", args=[team.project.slug, other.id])
    assert as_user(client, team.lead).get(url).status_code == 404
    url = reverse("validation:survey", args=[team.project.slug, 2**70])
    assert as_user(client, team.lead).get(url).status_code == 404


def test_nav_link_for_leads_and_moderators(client, team, survey):
    project_url = reverse("labelling:project", args=[team.project.slug])
    link = f'href="{urls(survey)["list"]}"'
    assert link in as_user(client, team.lead).get(project_url).content.decode()
    assert link in as_user(client, team.moderator).get(project_url).content.decode()
    assert link not in as_user(client, team.evaluators[0]).get(project_url).content.decode()


# --- list and create ------------------------------------------------------------------------


def test_list(client, team, survey):
    respond(survey, {c: (False, None, None) for c in survey.cats})
    respond(survey, {}, submitted=False)
    page = as_user(client, team.lead).get(urls(survey)["list"]).content.decode()
    assert "Faults survey" in page and "New survey" in page
    assert "New survey" not in as_user(client, team.moderator).get(urls(survey)["list"]).content.decode()
    fragment = as_user(client, team.lead).get(urls(survey)["list"], **HX).content.decode()
    assert fragment.startswith('<div id="survey-table">')


def test_list_empty(client, team):
    page = as_user(client, team.lead).get(reverse("validation:list", args=[team.project.slug])).content.decode()
    assert "No surveys yet" in page


def test_create_page_preselects_inner_categories(client, team):
    tax = small_taxonomy(team.project)
    c = as_user(client, team.lead)
    url = reverse("validation:create", args=[team.project.slug])
    page = c.get(url).content.decode()
    for key in ("model", "layers", "hyper", "training"):
        assert f'value="node-{tax[key].id}" checked' in page
    assert f'value="leaf-{tax["leaf"].id}">' in page  # not ticked
    fragment = c.get(url + "?level=2", **HX).content.decode()
    assert fragment.startswith('<div id="category-picker">')
    assert f'value="node-{tax["layers"].id}" checked' in fragment
    assert f'value="node-{tax["model"].id}">' in fragment
    assert f'value="leaf-{tax["leaf"].id}" checked' in c.get(url + "?leaves=1", **HX).content.decode()


def test_create_page_without_taxonomy(client, team):
    page = as_user(client, team.lead).get(reverse("validation:create", args=[team.project.slug])).content.decode()
    assert "no categories yet" in page


def test_create(client, team):
    tax = small_taxonomy(team.project)
    url = reverse("validation:create", args=[team.project.slug])
    data = {
        "title": "Practitioners' survey",
        "intro": "Hi",
        "ask_severity": "on",
        "ask_comment": "on",
        "categories": [f"node-{tax['layers'].id}", f"leaf-{tax['leaf'].id}"],
    }
    response = as_user(client, team.lead).post(url, data)
    survey = Survey.objects.get()
    assert response.status_code == 302 and response.url == urls(survey)["survey"]
    assert (survey.ask_severity, survey.ask_effort, survey.ask_comment, survey.ask_background) == (
        True,
        False,
        True,
        False,
    )
    assert list(survey.categories.values_list("name", flat=True)) == ["Layers", "wrong activation"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"title": "t"}, "Choose at least one category"),
        ({"title": "", "categories": ["node-1"]}, "This field is required"),
        ({"title": "t", "categories": ["node-999999"]}, "not one of the available choices"),
    ],
)
def test_create_refuses_bad_input(client, team, data, message):
    small_taxonomy(team.project)
    response = as_user(client, team.lead).post(reverse("validation:create", args=[team.project.slug]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Survey.objects.exists()


# --- the survey page --------------------------------------------------------------------------


def test_survey_page_empty_state(client, team, survey):
    survey.status = Survey.Status.DRAFT
    survey.save()
    page = as_user(client, team.lead).get(urls(survey)["survey"]).content.decode()
    assert f'hx-get="{urls(survey)["table2"]}"' in page  # Table 2 comes from the reports app
    results = as_user(client, team.lead).get(urls(survey)["table2"], **HX).content.decode()
    assert "No submitted responses yet" in results
    assert "Open the survey" in results
    assert 'id="table2"' not in results
    assert survey.token in page  # the lead sees the link
    moderator_page = as_user(client, team.moderator).get(urls(survey)["survey"]).content.decode()
    assert survey.token not in moderator_page
    assert 'id="survey-open"' not in moderator_page
    assert 'id="survey-open"' in page


def test_survey_page_results(client, team, survey):
    a, b, c = survey.cats
    a.name = "<script>alert(1)</script>"
    a.save()
    respond(survey, {a: (True, 4, 2), b: (True, 2, 2), c: (False, None, None)}, missing="<b>Data</b> leakage")
    respond(survey, {a: (True, 2, 4), b: (False, None, None), c: (False, None, None)}, role="researcher")
    respond(survey, {a: (False, None, None), b: (False, None, None), c: (False, None, None)})
    page = as_user(client, team.moderator).get(urls(survey)["table2"]).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Table 2 in the paper's layout: whole percents (half up) and the base n of each group
    row_a = page.split(f'data-code="{a.code}"')[1].split("</tr>")[0]
    assert 'data-column="encountered-yes">67%<' in row_a and 'data-column="encountered-no">33%<' in row_a
    assert 'data-column="n-encountered">3<' in row_a and 'data-column="n-severity">2<' in row_a
    assert 'data-column="severity-2">50%<' in row_a and 'data-column="severity-4">50%<' in row_a
    row_c = page.split(f'data-code="{c.code}"')[1].split("</tr>")[0]
    assert 'data-column="encountered-yes">0%<' in row_c and 'data-column="n-severity">0<' in row_c
    assert '<span class="muted">–</span>' in row_c  # no base, no percentage
    assert '<svg class="chart survey-chart"' in page
    assert "&lt;b&gt;Data&lt;/b&gt; leakage" in page
    assert 'id="survey-respondents">3<' in page
    fragment = as_user(client, team.lead).get(urls(survey)["table2"], **HX).content.decode()
    assert fragment.startswith('<section class="card" id="survey-results">')


def test_open_and_close(client, team, survey):
    survey.status = Survey.Status.DRAFT
    survey.save()
    c = as_user(client, team.lead)
    response = c.post(urls(survey)["status"], {"action": "open"})
    assert response.status_code == 302
    survey.refresh_from_db()
    assert survey.status == "open"
    fragment = c.post(urls(survey)["status"], {"action": "close"}, **HX)
    assert fragment.status_code == 200
    assert 'id="survey-status"' in fragment.content.decode() and "Reopen the survey" in fragment.content.decode()
    survey.refresh_from_db()
    assert survey.status == "closed"
    assert c.post(urls(survey)["status"], {"action": "explode"}).status_code == 400


def test_delete(client, team, survey):
    c = as_user(client, team.lead)
    respond(survey, {}, submitted=False)
    assert c.post(urls(survey)["delete"]).status_code == 409
    Response.objects.all().delete()
    assert c.post(urls(survey)["delete"]).status_code == 302
    assert not Survey.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "latex", "markdown", "json", "table"])
def test_downloads(client, team, survey, fmt):
    respond(survey, {c: (True, 3, 3) for c in survey.cats})
    url = reverse("reports:survey_table2_export", args=[team.project.slug, survey.id, fmt])
    response = as_user(client, team.lead).get(url)
    assert response.status_code == 200
    assert f"survey-{survey.id}-table2." in response["Content-Disposition"]
    assert len(response.content) > 50


def test_unknown_download_format(client, team, survey):
    url = reverse("reports:survey_table2_export", args=[team.project.slug, survey.id, "pdf"])
    assert as_user(client, team.lead).get(url).status_code == 404


# --- respondents --------------------------------------------------------------------------------


def post_answers(client, response, cats, action="save", **extra):
    data = {"action": action, **extra}
    return client.post(reverse("survey:respond", args=[response.token]), data)


def test_take_start_and_resume(client, survey):
    take = reverse("survey:take", args=[survey.token])
    page = client.get(take).content.decode()
    assert "Start the survey" in page and "3 categories" in page
    response = client.post(take)
    r = Response.objects.get()
    assert response.status_code == 302 and response.url == reverse("survey:respond", args=[r.token])
    assert "Continue where you left off" in client.get(take).content.decode()  # the session remembers
    assert client.get(response.url).status_code == 200


def test_take_a_closed_or_draft_survey(client, survey):
    take = reverse("survey:take", args=[survey.token])
    for status, message in (("draft", "not open yet"), ("closed", "is closed")):
        survey.status = status
        survey.save()
        assert message in client.get(take).content.decode()
        response = client.post(take)
        assert response.status_code == 409 and message in response.content.decode()
    assert not Response.objects.exists()


def test_unknown_tokens(client):
    assert client.get(reverse("survey:take", args=["x" * 32])).status_code == 404
    assert client.get(reverse("survey:respond", args=["x" * 32])).status_code == 404


def test_answer_save_and_submit_through_the_page(client, survey):
    a, b, c = survey.cats
    r = Response.objects.create(survey=survey)
    url = reverse("survey:respond", args=[r.token])
    page = client.get(url).content.decode()
    assert f'name="c{a.id}-encountered"' in page and f'name="c{a.id}-severity"' in page
    # save progress: partial answers are fine
    response = client.post(url, {"action": "save", f"c{a.id}-encountered": "yes", f"c{a.id}-severity": "4"})
    assert response.status_code == 302
    assert Answer.objects.get(response=r, category=a).severity == 4
    page = client.get(url).content.decode()
    assert f'name="c{a.id}-severity" value="4" checked' in page
    # a rating without a yes: 400, the problem listed and linked, what was typed kept, nothing written
    response = client.post(
        url,
        {
            "action": "submit",
            f"c{a.id}-encountered": "yes",
            f"c{a.id}-severity": "4",
            f"c{b.id}-encountered": "no",
            f"c{b.id}-effort": "2",
            "missing_faults": "Keep me",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f'href="#q-{b.id}"' in page and f'href="#q-{a.id}"' not in page  # gaps are no problem
    assert "only for a fault you encountered" in page
    assert "Keep me" in page
    assert Response.objects.get(pk=r.pk).submitted_at is None
    assert not Answer.objects.filter(response=r, category=b).exists()
    # submit with gaps (a's effort, b unanswered): the respondent's choice, accepted
    response = client.post(
        url,
        {
            "action": "submit",
            f"c{a.id}-encountered": "yes",
            f"c{a.id}-severity": "4",
            f"c{c.id}-encountered": "no",
            f"c{c.id}-comment": "never in prod",
            "role": "developer",
            "experience_years": "3",
            "frameworks": ["Keras", "PyTorch"],
            "frameworks_other": "Flax, keras",
            "missing_faults": "Keep me",
        },
    )
    assert response.status_code == 302
    r.refresh_from_db()
    assert r.submitted_at and r.role == "developer" and r.experience_years == 3 and r.missing_faults == "Keep me"
    assert sorted(r.frameworks.values_list("name", flat=True)) == ["Flax", "Keras", "PyTorch"]
    page = client.get(url).content.decode()
    assert "Thank you" in page and "2 of 3 categories answered" in page
    assert Answer.objects.get(response=r, category=a).effort is None
    assert not Answer.objects.filter(response=r, category=b).exists()
    assert 'name="action"' not in page
    again = client.post(url, {"action": "submit", f"c{a.id}-encountered": "no"})
    assert again.status_code == 409 and "final" in again.content.decode()
    assert Answer.objects.get(response=r, category=a).encountered is True


def test_answer_after_closing(client, survey):
    r = Response.objects.create(survey=survey)
    survey.status = Survey.Status.CLOSED
    survey.save()
    url = reverse("survey:respond", args=[r.token])
    assert "This survey is closed" in client.get(url).content.decode()
    response = client.post(url, {"action": "save", f"c{survey.cats[0].id}-encountered": "yes"})
    assert response.status_code == 409
    assert "This survey is closed; it no longer accepts answers." in response.content.decode()
    assert not Answer.objects.exists()
