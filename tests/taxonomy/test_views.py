import pytest
from django.urls import reverse

from taxonomy import services
from taxonomy.models import Node
from tests.factories import ProjectFactory, member
from tests.taxonomy.conftest import label, relevant


@pytest.fixture
def built(team, rounds):
    project = team.project
    top = services.node_create(project=project, user=team.lead, name="Training & <Tuning>")
    sub = services.node_create(project=project, user=team.lead, name="Loss", parent=top)
    lab = label(project, 'wrong "loss" <fn>')
    relevant(project, lab, rounds[0])
    services.leaf_attach(project=project, user=team.lead, node=sub, labels=[lab.id])
    relevant(project, label(project, "unplaced label"), rounds[1])
    return team, top, sub


def test_page_renders_tree_counts_and_figure(client, built):
    team, top, sub = built
    client.force_login(team.evaluators[0])
    response = client.get(reverse("taxonomy:tree", args=[team.project.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Training &amp; &lt;Tuning&gt;" in html
    assert "<Tuning>" not in html
    assert "1+0" in html
    assert "unplaced label" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert 'name="new_name"' not in html  # evaluators read only


def test_stranger_gets_404(client, built):
    team, top, sub = built
    stranger = member(ProjectFactory(), lead=True)
    client.force_login(stranger)
    assert client.get(reverse("taxonomy:tree", args=[team.project.slug])).status_code == 404
    response = client.post(reverse("taxonomy:node_create", args=[team.project.slug]), {"name": "X"})
    assert response.status_code == 404


def test_htmx_edit_returns_workspace_and_error_fragment(client, built):
    team, top, sub = built
    client.force_login(team.moderator)
    url = reverse("taxonomy:node_move", args=[team.project.slug, top.id])
    response = client.post(url, {"parent": sub.id}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Training &amp; &lt;Tuning&gt;" in response.content.decode()
    response = client.post(
        reverse("taxonomy:node_create", args=[team.project.slug]), {"name": "GPU"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'id="tx-tree"' in response.content.decode()
    assert Node.objects.filter(name="GPU").exists()


def test_evaluator_cannot_edit(client, built):
    team, top, sub = built
    client.force_login(team.evaluators[0])
    response = client.post(reverse("taxonomy:node_create", args=[team.project.slug]), {"name": "X"})
    assert response.status_code == 403
    assert not Node.objects.filter(name="X").exists()
