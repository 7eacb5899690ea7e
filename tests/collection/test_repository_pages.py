"""The repositories page: list, filters, exclude/include, rules, the rule report and mining from the page."""

import pytest
from django.urls import reverse

from collection.models import Artefact, MiningRun, Repository
from tests.collection.mining.fakeapi import FakeApi
from tests.collection.mining.test_github import REPO, github
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def repos(project):
    def make(name, **kw):
        values = dict(framework="keras", contributors=10, commits=500, stars=50, forks=5, has_open_issues=True)
        values.update(kw)
        return Repository.objects.create(project=project, url=f"https://github.com/{name}", **values)

    return [make("a/big", relevant_issues=9), make("a/small", commits=3, selected=False, exclusion_reason="commits"),
            make("b/torch", framework="pytorch")]  # fmt: skip


def test_list_filters_and_report(project, repos, client):
    client.force_login(member(project, evaluator=True))
    url = reverse("collection:repositories", args=[project.slug])
    page = client.get(url)
    assert page.status_code == 200 and b"a/big" in page.content and b"b/torch" in page.content
    assert b"at least 100 commits" in page.content
    keras = client.get(url, {"framework": "keras", "state": "excluded"}).content
    assert b"a/small" in keras and b"a/big" not in keras and b"b/torch" not in keras
    assert b'value="exclude"' not in page.content  # evaluators only look


def test_exclude_include_and_rules_from_the_page(project, repos, client):
    client.force_login(member(project, lead=True))
    url = reverse("collection:repositories", args=[project.slug])
    client.post(url, {"action": "exclude", "repository_id": repos[0].id, "reason": "Student Project"})
    repos[0].refresh_from_db()
    assert (repos[0].selected, repos[0].exclusion_reason) == (False, "Student Project")
    assert client.post(url, {"action": "exclude", "repository_id": repos[2].id, "reason": ""}).status_code == 400
    client.post(url, {"action": "include", "repository_id": repos[1].id})
    repos[1].refresh_from_db()
    assert repos[1].selected and repos[1].included_by_hand
    rules = {"action": "rules", "min_contributors": "20", "min_commits": "100", "min_stars": "10", "min_forks": "10"}
    client.post(url, {**rules, "require_open_issues": "on", "exclude_forks": "on"})
    repos[2].refresh_from_db()
    assert (repos[2].selected, repos[2].exclusion_reason) == (False, "contributors")
    assert b"Student Project (1)" in client.get(url).content


def test_mining_from_the_page(project, client, monkeypatch, django_capture_on_commit_callbacks):
    with FakeApi() as api:
        github(api)
        monkeypatch.setenv("GITHUB_API_URL", api.url)
        client.force_login(member(project, lead=True))
        url = reverse("collection:repositories", args=[project.slug])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"action": "mine", "framework": "keras", "repositories": REPO})
    assert response.status_code == 302
    assert MiningRun.objects.get(project=project).finished
    assert Artefact.objects.filter(project=project, kind=Artefact.Kind.GH_COMMIT).count() == 3
    assert b"done" in client.get(url).content
