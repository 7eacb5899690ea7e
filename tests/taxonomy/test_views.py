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


def test_page_edits_without_javascript_redirect_back(client, built):
    team, top, sub = built
    client.force_login(team.lead)
    slug = team.project.slug
    response = client.post(reverse("taxonomy:node_create", args=[slug]), {"name": "GPU", "q": "gpu"})
    gpu = Node.objects.get(name="GPU")
    assert response.status_code == 302 and response.url.endswith(f"?q=gpu&node={gpu.id}")
    page = client.get(response.url)
    assert "Created &quot;GPU&quot;." in page.content.decode()
    client.post(reverse("taxonomy:node_merge", args=[slug, gpu.id]), {"target": top.id})
    assert not Node.objects.filter(name="GPU").exists()
    response = client.post(reverse("taxonomy:attach", args=[slug]), {"labels": ["name:brand new"], "new_name": "Fresh"})
    fresh = Node.objects.get(name="Fresh")
    assert fresh.parent is None and fresh.leaves.get().label.name == "brand new"
    response = client.post(reverse("taxonomy:node_delete", args=[slug, fresh.id]))
    assert response.status_code == 302 and not Node.objects.filter(name="Fresh").exists()
    response = client.post(reverse("taxonomy:undo", args=[slug]))
    assert Node.objects.filter(name="Fresh").exists()


def test_attach_to_new_category_is_atomic(client, built):
    team, top, sub = built
    client.force_login(team.lead)
    leaf_label = sub.leaves.get().label
    response = client.post(
        reverse("taxonomy:attach", args=[team.project.slug]),
        {"labels": [str(leaf_label.id)], "node": sub.id},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409 and "already has the leaf" in response.content.decode()
    response = client.post(
        reverse("taxonomy:attach", args=[team.project.slug]), {"labels": ["999999"], "new_name": "Orphan"}
    )
    assert response.status_code == 404
    assert not Node.objects.filter(name="Orphan").exists()


def test_panels_history_and_exports(client, built):
    team, top, sub = built
    client.force_login(team.evaluators[0])
    slug = team.project.slug
    panel = client.get(reverse("taxonomy:node", args=[slug, sub.id]), HTTP_HX_REQUEST="true").content.decode()
    assert "Loss" in panel and "Move to" not in panel
    leaf = sub.leaves.get()
    panel = client.get(reverse("taxonomy:leaf", args=[slug, leaf.id]), HTTP_HX_REQUEST="true").content.decode()
    assert "wrong &quot;loss&quot; &lt;fn&gt;" in panel and "Why does my model" in panel
    assert client.get(reverse("taxonomy:node", args=[slug, sub.id])).status_code == 302
    assert client.get(reverse("taxonomy:node", args=[slug, 999999]), HTTP_HX_REQUEST="true").status_code == 404
    history = client.get(reverse("taxonomy:history", args=[slug])).content.decode()
    assert "Created &quot;Training &amp; &lt;Tuning&gt;&quot;" in history
    svg = client.get(reverse("taxonomy:export", args=[slug, "svg"]))
    assert svg["Content-Type"].startswith("image/svg+xml") and svg.content.startswith(b"<?xml")
    assert client.get(reverse("taxonomy:export", args=[slug, "csv"]))["Content-Disposition"].startswith("attachment")
    assert client.get(reverse("taxonomy:export", args=[slug, "pdf"])).status_code == 404
    assert client.get(reverse("taxonomy:tree", args=[slug]), {"source": "nope"}).status_code == 400


def test_comparison_pages(client, built):
    team, top, sub = built
    slug = team.project.slug
    client.force_login(team.moderator)
    response = client.post(
        reverse("taxonomy:comparisons", args=[slug]),
        {"name": "DeepCrime", "kind": "mutation_operators", "classes": "Change loss\nRemove <layer>\n"},
    )
    comparison = team.project.taxonomy_comparisons.get()
    assert response.status_code == 302
    change_loss, remove_layer = comparison.classes.all()
    response = client.post(
        reverse("taxonomy:comparison_class", args=[slug, comparison.id, change_loss.id]),
        {"targets_sent": "1", "targets": [f"node-{sub.id}"]},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="coverage"' in html
    assert list(change_loss.nodes.all()) == [sub]
    assert "Remove &lt;layer&gt;" in html and "to nothing" in html  # the unmapped operator
    page = client.get(reverse("taxonomy:comparison", args=[slug, comparison.id]), {"edit": remove_layer.id})
    assert 'name="targets"' in page.content.decode()
    client.force_login(team.evaluators[0])
    listing = client.get(reverse("taxonomy:comparisons", args=[slug])).content.decode()
    assert "DeepCrime" in listing and 'name="classes"' not in listing
    response = client.post(reverse("taxonomy:comparison", args=[slug, comparison.id]), {"action": "delete"})
    assert response.status_code == 403 and team.project.taxonomy_comparisons.exists()
