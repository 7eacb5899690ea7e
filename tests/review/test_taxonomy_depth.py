"""Categories nest at most MAX_DEPTH levels: some 60 levels made the tree page (rendered recursively)
fail with a RecursionError for every member, and a 200-deep tree broke the taxonomy API too; a
category could be nested that deep by creating, moving or merging, or by importing a JSON document."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.errors import InvalidInput
from core.models import Job
from taxonomy import services
from taxonomy.models import Node
from taxonomy.services import MAX_DEPTH


def chain(team, levels, prefix="c"):
    parent = None
    for i in range(levels):
        parent = services.node_create(project=team.project, user=team.lead, name=f"{prefix}{i}", parent=parent)
    return parent


def test_the_deepest_allowed_taxonomy_renders(team):
    chain(team, MAX_DEPTH)
    client = Client()
    client.force_login(team.evaluators[0])
    slug = team.project.slug
    for url in (f"/p/{slug}/taxonomy/", f"/api/projects/{slug}/taxonomy/", f"/p/{slug}/taxonomy/export.svg"):
        assert client.get(url).status_code == 200, url


def test_creating_moving_and_merging_stop_at_the_deepest_level(team):
    deepest = chain(team, MAX_DEPTH)
    with pytest.raises(InvalidInput) as error:
        services.node_create(project=team.project, user=team.lead, name="too deep", parent=deepest)
    assert error.value.field == "parent"

    two_levels = chain(team, 2, prefix="sub")  # sub0 > sub1
    top = two_levels.parent
    with pytest.raises(InvalidInput):
        services.node_move(node=top, user=team.lead, parent=deepest.parent)  # depth 19 + 2 levels
    services.node_move(node=two_levels, user=team.lead, parent=deepest.parent.parent)  # 18 + 1: allowed

    holder = services.node_create(project=team.project, user=team.lead, name="holder")
    services.node_create(project=team.project, user=team.lead, name="child", parent=holder)
    with pytest.raises(InvalidInput):
        services.node_merge(source=holder, target=deepest, user=team.lead)  # its child would be at 21
    assert Node.objects.filter(name="child", parent=holder).exists()


def test_importing_a_document_deeper_than_allowed_writes_nothing(team, django_capture_on_commit_callbacks):
    document = {"nodes": []}
    level = document["nodes"]
    for i in range(MAX_DEPTH + 1):
        entry = {"name": f"n{i}", "code": f"c{i}", "children": []}
        level.append(entry)
        level = entry["children"]
    api = APIClient()
    api.force_authenticate(team.lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/projects/{team.project.slug}/taxonomy/import/", document, format="json")
    assert response.status_code == 202  # the document is read in its job, which fails naming it
    job = Job.objects.get(id=response.json()["id"])
    assert job.status == Job.Status.FAILED and job.error.startswith("taxonomy.json: "), job.error
    assert not Node.objects.exists()
