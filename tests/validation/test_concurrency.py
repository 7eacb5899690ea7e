"""Once-only submission under real concurrency: PostgreSQL, one connection per thread, a barrier
so the requests land together. Marked `services` (skipped on SQLite)."""

import pytest

from core.errors import Conflict
from tests.helpers import in_threads
from validation import services
from validation.models import Answer, Response

from .factories import survey_with_categories

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_simultaneous_submits_of_one_response_submit_it_once():
    survey, cats = survey_with_categories(n=4)
    response = services.response_start(survey_token=survey.token)
    answers = [{"category": c.id, "encountered": True, "severity": 2, "effort": 3} for c in cats]

    def submit(i):
        return services.response_submit(response_token=response.token, answers=answers, missing_faults=f"from {i}")

    outcomes = in_threads(*[lambda i=i: submit(i) for i in range(8)], together=True, expected=Conflict)
    winners = [o for o in outcomes if isinstance(o, Response)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1 and len(losers) == 7
    assert all("final" in c.message for c in losers)
    response.refresh_from_db()
    assert response.submitted_at == winners[0].submitted_at
    assert response.missing_faults == winners[0].missing_faults
    assert Answer.objects.filter(response=response).count() == 4
    assert Response.objects.count() == 1


def test_simultaneous_saves_of_one_response_never_duplicate_answers():
    survey, cats = survey_with_categories(n=6)
    response = services.response_start(survey_token=survey.token)

    def save(i):
        # every thread writes every category, with its own severity
        return services.response_save(
            response_token=response.token,
            answers=[{"category": c.id, "encountered": True, "severity": 1 + i % 5, "effort": 1} for c in cats],
        )

    outcomes = in_threads(*[lambda i=i: save(i) for i in range(6)], together=True, expected=Conflict)
    assert all(isinstance(o, Response) for o in outcomes)
    rows = list(Answer.objects.filter(response=response).values_list("category_id", "severity"))
    assert sorted(c for c, _ in rows) == sorted(c.id for c in cats)
    assert len({s for _, s in rows}) == 1  # one whole save won last, not a mixture
