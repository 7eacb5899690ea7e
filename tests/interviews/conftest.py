import pytest

from interviews import services
from tests.interviews.factories import upload


@pytest.fixture
def coding(team):
    """An interview with a transcript, team.moderator as moderator, eva1 and eva2 as evaluators 1 and 2."""
    interview = upload(team.project, team.lead, number=1)
    services.interview_coders_set(
        interview_id=interview.id,
        user=team.lead,
        moderator_id=team.moderator.id,
        evaluator1_id=team.evaluators[0].id,
        evaluator2_id=team.evaluators[1].id,
    )
    interview.refresh_from_db()
    team.interview = interview
    team.eva1, team.eva2, team.eva3 = team.evaluators
    return team
