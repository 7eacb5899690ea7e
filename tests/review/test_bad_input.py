"""Odd input is a 4xx, never a 500.

- Characters that `str.isdigit()` accepts but `int()` refuses ("²", "³", "①") used to raise
  ValueError, and a category code holding one broke the taxonomy page for good.
- Ids beyond 64 bits in request bodies overflowed SQLite in IN (...) lookups."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from collection.models import Artefact
from taxonomy import services as taxonomy_services
from taxonomy.models import Node
from tests.factories import ArtefactFactory, LabelFactory, member
from tests.review.world import World


@pytest.fixture
def lead_client(team):
    client = Client()
    client.force_login(team.lead)
    return client


def test_a_category_code_with_a_superscript_digit_keeps_the_taxonomy_readable(team, lead_client):
    taxonomy_services.node_create(project=team.project, user=team.lead, name="Model", code="1")
    taxonomy_services.node_create(project=team.project, user=team.lead, name="Layers", code="1.²")
    slug = team.project.slug
    for url in (f"/p/{slug}/taxonomy/", f"/p/{slug}/taxonomy/export.json", f"/p/{slug}/taxonomy/export.svg"):
        response = lead_client.get(url)
        assert response.status_code == 200, url
    assert "Layers" in lead_client.get(f"/p/{slug}/taxonomy/").content.decode()


@pytest.mark.parametrize(
    "path, params",
    [
        ("/p/{slug}/queue/", {"round": "²"}),
        ("/p/{slug}/conflicts/", {"round": "³"}),
        ("/p/{slug}/taxonomy/", {"node": "²"}),
        ("/p/{slug}/taxonomy/", {"selected": "leaf-²"}),
        ("/p/{slug}/interviews/", {"q": "²"}),
        ("/p/{slug}/interviews/review/", {"interview": "²"}),
        ("/p/{slug}/interviews/suggest/", {"piece": "²"}),
        ("/p/{slug}/survey/new/", {"level": "²"}),
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
    response = lead_client.post(f"/p/{slug}/taxonomy/attach/", {"node": node.id, "labels": ["²"]})
    assert response.status_code == 302  # not an id: a label named "²", created on first use
    assert list(node.leaves.values_list("label__name", flat=True)) == ["²"]

    ArtefactFactory(project=team.project, kind=Artefact.Kind.SO_QUESTION)
    response = lead_client.post(
        f"/p/{slug}/rounds/",
        {"mode": "selection", "artefact_ids": "1, ²", "evaluators": [e.id for e in team.evaluators[:2]]},
    )
    assert response.status_code == 400
    assert not team.project.rounds.exists()


H = 2**70  # beyond any 64-bit id: SQLite cannot even bind it (OverflowError) in an IN (...) lookup


@pytest.mark.django_db
def test_ids_beyond_64_bits_in_request_bodies_are_a_4xx():
    """Ids in bodies (lists and single ids) reach `__in` lookups, which Django does not guard against
    out-of-range integers: on SQLite that raised OverflowError. Every such request is a 4xx."""
    a = World("a")
    user = member(a.project, lead=True, moderator=True, evaluator=True, username="all")
    api = APIClient()
    api.force_authenticate(user)
    page = Client()
    page.force_login(user)
    s = a.project.slug
    i = a.ids
    api_calls = [
        ("post", f"/api/projects/{s}/rounds/", {"evaluator_ids": [H, 1], "sample_size": 1}),
        ("post", f"/api/projects/{s}/rounds/", {"evaluator_ids": [1, 2], "artefact_ids": [H]}),
        ("post", f"/api/projects/{s}/labels/{i['label_id']}/merge/", {"target_id": H}),
        ("post", f"/api/projects/{s}/conflicts/{i['item_id']}/resolve/", {"annotation_id": H}),
        ("put", f"/api/projects/{s}/interviews/1/coders/", {"moderator": H, "evaluator1": 1, "evaluator2": 2}),
        ("post", f"/api/projects/{s}/interviews/final-tags/place/", {"ids": [H]}),
        ("post", f"/api/projects/{s}/interviews/final-tags/place/", {"ids": [i["final_tag_id"]], "leaf": H}),
        ("post", f"/api/projects/{s}/interviews/final-tags/place/", {"ids": [i["final_tag_id"]], "node": H}),
        ("post", f"/api/projects/{s}/interviews/1/fragments/", {"start": H, "end": H + 1, "tag": "x"}),
        ("post", f"/api/projects/{s}/surveys/", {"title": "t", "node_ids": [H]}),
        ("post", f"/api/projects/{s}/surveys/", {"title": "t2", "leaf_ids": [H]}),
        ("post", f"/api/projects/{s}/taxonomy/nodes/", {"name": "n", "parent": H}),
        ("post", f"/api/projects/{s}/taxonomy/nodes/", {"name": "n2", "round": H}),
        ("post", f"/api/projects/{s}/taxonomy/nodes/{i['node_id']}/move/", {"parent": H}),
        ("post", f"/api/projects/{s}/taxonomy/nodes/{i['node_id']}/merge/", {"target": H}),
        ("post", f"/api/projects/{s}/taxonomy/leaves/", {"node": i["node_id"], "label_ids": [H]}),
        ("post", f"/api/projects/{s}/taxonomy/leaves/", {"node": H, "label_ids": [1]}),
        ("post", f"/api/projects/{s}/taxonomy/leaves/{i['leaf_id']}/move/", {"node": H}),
        (
            "patch",
            f"/api/projects/{s}/taxonomy/comparisons/{i['comparison_id']}/classes/{i['class_id']}/",
            {"node_ids": [H]},
        ),
        (
            "patch",
            f"/api/projects/{s}/taxonomy/comparisons/{i['comparison_id']}/classes/{i['class_id']}/",
            {"leaf_ids": [H]},
        ),
        ("post", f"/api/projects/{s}/vocabulary/{i['term_id']}/flag/", {"verdict": "relevant"}),
        ("post", f"/api/projects/{s}/assignments/{i['assignment_id']}/annotation/", {"label": "x"}),
    ]
    problems = []
    for method, url, body in api_calls:
        try:
            r = getattr(api, method)(url, body, format="json")
            status = r.status_code
        except Exception as exc:  # noqa: BLE001 - reported with the request
            status = f"raised {type(exc).__name__}: {exc}"
        if status not in (400, 403, 404) and not url.endswith("/flag/"):
            problems.append((method, url, body, status))
    page_calls = [
        (
            f"/p/{s}/taxonomy/comparisons/{i['comparison_id']}/classes/{i['class_id']}/",
            {"targets": [f"node-{H}"], "targets_sent": "1"},
        ),
        (
            f"/p/{s}/taxonomy/comparisons/{i['comparison_id']}/classes/{i['class_id']}/",
            {"targets": [f"leaf-{H}"], "targets_sent": "1"},
        ),
        (f"/p/{s}/interviews/1/coders/", {"moderator": H, "evaluator1": 1, "evaluator2": 2}),
        (f"/p/{s}/interviews/unmapped/", {"ids": str(H), "leaf": H}),
        (f"/p/{s}/interviews/unmapped/", {"ids": str(i["final_tag_id"]), "node": H}),
        (f"/p/{s}/survey/new/", {"title": "t", "categories": [f"node-{H}"]}),
        (f"/p/{s}/taxonomy/nodes/new/", {"name": "x", "parent": str(H)}),
        (f"/p/{s}/taxonomy/nodes/new/", {"name": "y", "node_round": str(H)}),
        (f"/p/{s}/taxonomy/attach/", {"node": str(H), "labels": ["1"]}),
        (f"/p/{s}/taxonomy/attach/", {"node": str(i["node_id"]), "labels": [str(H)]}),
        (f"/p/{s}/vocabulary/", {"action": "flag", "term_id": str(H), "verdict": "relevant"}),
        (f"/p/{s}/conflicts/{i['item_id']}/", {"annotation_id": str(H)}),
        (f"/p/{s}/labels/", {"action": "uncatalogue", "label_id": str(H)}),
        (f"/p/{s}/rounds/", {"mode": "sample", "sample_size": "1", "evaluators": [str(H)]}),
        (f"/p/{s}/import/artefacts/{i['job_id']}/", {"col0": "url"}),
        (f"/p/{s}/interviews/1/fragments/", {"start": str(H), "end": str(H + 1), "tag": "x"}),
    ]
    for url, body in page_calls:
        try:
            status = page.post(url, body).status_code
        except Exception as exc:  # noqa: BLE001 - reported with the request
            status = f"raised {type(exc).__name__}: {exc}"
        if status not in (400, 403, 404):
            problems.append((url, body, status))
    assert not problems, "\n".join(map(str, problems))
