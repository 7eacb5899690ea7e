"""Odd input reaching int(): characters that `str.isdigit()` accepts but `int()` refuses ("²", "³", "①")
used to raise ValueError (a 500), and a category code holding one broke the taxonomy page for good."""

import pytest
from django.test import Client

from labelling.models import Artefact
from taxonomy import services as taxonomy_services
from taxonomy.models import Node
from tests.factories import ArtefactFactory, LabelFactory


@pytest.fixture
def lead_client(team):
    client = Client()
    client.force_login(team.lead)
    return client


def test_a_category_code_with_a_superscript_digit_keeps_the_taxonomy_readable(team, lead_client):
    taxonomy_services.node_create(project=team.project, user=team.lead, name="Model", code="1")
    taxonomy_services.node_create(project=team.project, user=team.lead, name="Layers", code="1.²")
    slug = team.project.slug
    for url in (f"/taxonomy/{slug}/", f"/taxonomy/{slug}/export.json", f"/taxonomy/{slug}/export.svg"):
        response = lead_client.get(url)
        assert response.status_code == 200, url
    assert "Layers" in lead_client.get(f"/taxonomy/{slug}/").content.decode()


@pytest.mark.parametrize(
    "path, params",
    [
        ("/p/{slug}/queue/", {"round": "²"}),
        ("/p/{slug}/conflicts/", {"round": "³"}),
        ("/taxonomy/{slug}/", {"node": "²"}),
        ("/taxonomy/{slug}/", {"selected": "leaf-²"}),
        ("/interviews/{slug}/", {"q": "²"}),
        ("/interviews/{slug}/review/", {"interview": "²"}),
        ("/interviews/{slug}/suggest/", {"piece": "²"}),
        ("/survey/{slug}/new/", {"level": "²"}),
        ("/api/projects/{slug}/interviews/final-tags/", {"interview": "²"}),
    ],
)
def test_superscript_digits_in_query_parameters_are_not_a_server_error(team, path, params):
    client = Client()
    user = team.lead
    team.project.memberships.filter(user=user).update(is_evaluator=True, is_moderator=True)
    client.force_login(user)
    response = client.get(path.format(slug=team.project.slug), params)
    assert response.status_code < 500
    if params.get("round"):
        assert response.status_code == 400  # "round must be a whole number"


def test_superscript_digits_in_posted_ids_are_a_400(team, lead_client):
    slug = team.project.slug
    label = LabelFactory(project=team.project)
    response = lead_client.post(f"/p/{slug}/labels/", {"action": "rename", "label_id": "²", "name": "x"})
    assert response.status_code == 400
    label.refresh_from_db()
    assert label.name != "x"

    node = Node.objects.create(project=team.project, name="Training")
    response = lead_client.post(f"/taxonomy/{slug}/attach/", {"node": node.id, "labels": ["²"]})
    assert response.status_code == 302  # not an id: a label named "²", created on first use
    assert list(node.leaves.values_list("label__name", flat=True)) == ["²"]

    ArtefactFactory(project=team.project, kind=Artefact.Kind.SO_QUESTION)
    response = lead_client.post(
        f"/p/{slug}/rounds/",
        {"mode": "selection", "artefact_ids": "1, ²", "evaluators": [e.id for e in team.evaluators[:2]]},
    )
    assert response.status_code == 400
    assert not team.project.rounds.exists()
