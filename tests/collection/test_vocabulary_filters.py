"""The final vocabulary filters the artefact list page, the artefact API and round creation (page and API)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from collection.models import VocabularyTerm
from collection.services import term_decide, vocabulary_index
from labelling.models import RoundItem
from tests.factories import ArtefactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(team):
    relevant = [ArtefactFactory(project=team.project, title=f"Gradient vanishes {i}", body="") for i in range(3)]
    for i in range(4):
        ArtefactFactory(project=team.project, title=f"Install question {i}", body="")
    vocabulary_index(project=team.project)
    term = VocabularyTerm.objects.get(project=team.project, stem="gradient")
    term_decide(project=team.project, user=team.moderator, term_id=term.id, verdict="relevant")
    return team, {a.id for a in relevant}


def test_artefact_page_and_api(decided, client):
    team, relevant = decided
    client.force_login(team.lead)
    url = reverse("labelling:artefacts", args=[team.project.slug])
    page = client.get(url, {"vocabulary": "on"}).content.decode()
    assert all(f"Gradient vanishes {i}" in page for i in range(3)) and "Install question" not in page
    assert "Install question" in client.get(url).content.decode()
    api = APIClient()
    api.force_authenticate(team.lead)
    listing = api.get(f"/api/projects/{team.project.slug}/artefacts/", {"vocabulary": "true"}).json()
    assert {a["id"] for a in listing["results"]} == relevant
    assert api.get(f"/api/projects/{team.project.slug}/artefacts/").json()["count"] == 7


def test_round_creation_api_samples_the_vocabulary(decided):
    team, relevant = decided
    api = APIClient()
    api.force_authenticate(team.lead)
    body = {"sample_size": 3, "seed": 1, "evaluator_ids": [e.id for e in team.evaluators], "vocabulary_only": True}
    response = api.post(f"/api/projects/{team.project.slug}/rounds/", body, format="json")
    assert response.status_code == 201, response.content
    assert set(RoundItem.objects.values_list("artefact_id", flat=True)) == relevant
    body["sample_size"] = 4  # more than the vocabulary matches
    assert api.post(f"/api/projects/{team.project.slug}/rounds/", body, format="json").status_code == 400
