"""Query counts stay flat as responses, categories and surveys grow."""

import pytest
from django.urls import reverse

from .factories import SurveyCategoryFactory, SurveyFactory, respond, survey_with_categories

pytestmark = pytest.mark.django_db

RESULTS_MAX = 13  # + Table 2's counts (one query, whatever the size); a download appends its audit record
RESPOND_MAX = 4
LIST_MAX = 7  # + the notifications bell's count
SAVE_MAX = 12  # lock, survey, categories, answers (one upsert), frameworks, response, submit…


def grow(survey, cats, n):
    for i in range(n):
        respond(
            survey,
            {c: (True, 1 + (i + k) % 5, 1 + i % 5, f"comment {i}" if k == 0 else "") for k, c in enumerate(cats)},
            role=["developer", "researcher", "student"][i % 3],
            years=i % 12,
            frameworks=["Keras", "PyTorch", f"Other {i}"][: 1 + i % 3],
            missing=f"missing fault {i}",
        )
        respond(survey, {cats[0]: (False, None, None)}, submitted=False)


@pytest.mark.parametrize("size", [1, 30])
def test_results_page_and_downloads(client, team, django_assert_max_num_queries, size):
    survey, cats = survey_with_categories(project=team.project, n=3 * size)
    grow(survey, cats, size)
    client.force_login(team.lead)
    url = reverse("reports:survey_table2", args=[team.project.slug, survey.id])
    with django_assert_max_num_queries(RESULTS_MAX):
        page = client.get(url)
    assert page.status_code == 200
    assert f'id="survey-respondents">{size}<' in page.content.decode()
    with django_assert_max_num_queries(RESULTS_MAX):
        assert client.get(url, HTTP_HX_REQUEST="true").status_code == 200
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(RESULTS_MAX):
            assert (
                client.get(
                    reverse("reports:survey_table2_export", args=[team.project.slug, survey.id, fmt])
                ).status_code
                == 200
            )


@pytest.mark.parametrize("size", [1, 40])
def test_respondent_page(client, django_assert_max_num_queries, size):
    survey, cats = survey_with_categories(n=size)
    response = respond(survey, {c: (True, 2, 2, "x") for c in cats}, submitted=False, frameworks=["Keras", "Flax"])
    url = reverse("survey:respond", args=[response.token])
    with django_assert_max_num_queries(RESPOND_MAX):
        assert client.get(url).status_code == 200
    data = {"action": "save"}
    for c in cats:
        data.update({f"c{c.id}-encountered": "yes", f"c{c.id}-severity": "3", f"c{c.id}-effort": "4"})
    with django_assert_max_num_queries(SAVE_MAX):
        assert client.post(url, data).status_code == 302
    with django_assert_max_num_queries(SAVE_MAX):
        assert client.post(url, {**data, "action": "submit"}).status_code == 302


@pytest.mark.parametrize("size", [1, 20])
def test_survey_list(client, team, django_assert_max_num_queries, size):
    for _ in range(size):
        s = SurveyFactory(project=team.project)
        SurveyCategoryFactory.create_batch(2, survey=s)
        respond(s, {}, submitted=True)
    client.force_login(team.moderator)
    with django_assert_max_num_queries(LIST_MAX):
        assert client.get(reverse("validation:list", args=[team.project.slug])).status_code == 200
