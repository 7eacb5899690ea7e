"""mine_github and mine_stackoverflow against a local fake API: artefacts, repositories, resume, failures."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collection.models import Artefact, MiningRun, Repository
from collection.services import mining_github_prepare
from core.models import Job, Project
from tests.collection.mining.fakeapi import FakeApi
from tests.collection.mining.test_github import REPO, github
from tests.collection.mining.test_posts import EDGE_CASES, posts_xml
from tests.collection.mining.test_stackexchange import QUESTIONS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gh(monkeypatch):
    with FakeApi() as server:
        github(server)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.setenv("GITHUB_TOKEN", "secret")
        yield server


def _mine_github(tmp_path, slug="study"):
    repos = tmp_path / "repos.txt"
    repos.write_text(f"https://github.com/{REPO}\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("mine_github", slug, framework="keras", repos=str(repos), stdout=out, stderr=err)
    return json.loads(out.getvalue()), err.getvalue()


def test_mine_github_creates_the_project_artefacts_and_the_repository(gh, tmp_path):
    report, err = _mine_github(tmp_path)
    assert "Created project study." in err and "[100%]" in err
    project = Project.objects.get(slug="study")
    kinds = sorted(Artefact.objects.filter(project=project).values_list("kind", flat=True))
    assert kinds.count(Artefact.Kind.GH_ISSUE) == 4 and kinds.count(Artefact.Kind.GH_PULL) == 2
    assert kinds.count(Artefact.Kind.GH_COMMIT) == 3
    issue = Artefact.objects.get(url=f"https://github.com/{REPO}/issues/1")
    assert (issue.title, issue.body, issue.framework) == ("Title 1", "Body 1", "keras")
    assert [c["body"] for c in issue.metadata["comments"]] == ["comment 0", "comment 1", "comment 2"]
    commit = Artefact.objects.get(url=f"https://github.com/{REPO}/commit/a1")
    assert commit.body == "Fix bug in loss" and commit.metadata["additions"] == 5
    repo = Repository.objects.get(url=f"https://github.com/{REPO}")
    assert (repo.contributors, repo.commits, repo.stars, repo.relevant_issues, repo.relevant_commits) == (
        7,
        5,
        42,
        6,
        3,
    )
    assert repo.exclusion_reason == "commits" and not repo.selected  # 5 commits < 100
    assert report["repositories"][f"https://github.com/{REPO}"] == {"relevant_issues": 6, "relevant_commits": 3}
    assert Job.objects.get(project=project).kind == Job.Kind.MINE_GITHUB


def test_mine_github_resumes_after_a_failure(gh, tmp_path):
    gh.script(f"/repos/{REPO}/commits/a2", 403, {}, {"message": "Repository access blocked"})
    with pytest.raises(CommandError, match="Repository access blocked.*resume"):
        _mine_github(tmp_path)
    assert Project.objects.filter(slug="study").exists()  # the run and its cursors stay for the resume
    assert Artefact.objects.count() == 7  # six issues/PRs and the first commit
    first = len(gh.log)
    _mine_github(tmp_path)
    again = [r["path"] for r in gh.log[first:]]
    assert f"/repos/{REPO}/issues" not in again and f"/repos/{REPO}/commits/a1" not in again
    assert f"/repos/{REPO}" not in again and f"/repos/{REPO}/issues/1/comments" not in again
    assert f"/repos/{REPO}/commits/a2" in again
    assert Artefact.objects.count() == 9
    report, _ = _mine_github(tmp_path)  # a finished run: a new one, and everything is updated, not duplicated
    assert Artefact.objects.count() == 9
    assert MiningRun.objects.filter(finished=True).count() == 2
    assert report["artefacts"]["commit updated"] == 3


def test_mine_github_bad_list_creates_nothing(gh, tmp_path):
    repos = tmp_path / "repos.txt"
    repos.write_text("not a repository\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="not a GitHub repository"):
        call_command("mine_github", "nothing", framework="keras", repos=str(repos), stdout=io.StringIO(), stderr=err)
    assert not Project.objects.filter(slug="nothing").exists()
    assert "Created project" not in err.getvalue()


def test_mine_stackoverflow_from_posts_xml(tmp_path):
    path = tmp_path / "Posts.xml"
    path.write_text(posts_xml(EDGE_CASES), encoding="utf-8")
    out = io.StringIO()
    call_command(
        "mine_stackoverflow", "so", tag="tensorflow", exclude_title_words="how,install,build",
        accepted_answer=True, top=3, posts_xml=str(path), stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    report = json.loads(out.getvalue())
    assert (report["questions"], report["created"]) == (3, 3)
    questions = {a.url: a for a in Artefact.objects.filter(project__slug="so")}
    assert set(questions) == {f"https://stackoverflow.com/questions/{i}" for i in (3, 7, 1)}
    first = questions["https://stackoverflow.com/questions/1"]
    assert first.kind == Artefact.Kind.SO_QUESTION and first.framework == "tensorflow"
    assert first.metadata["accepted_answer"] == "<p>reshape it &amp; go</p>" and first.tags == ["python", "tensorflow"]


def test_mine_stackoverflow_from_the_api(monkeypatch):
    with FakeApi() as api:

        def search(request):
            page = int(request["query"]["page"])
            items = QUESTIONS[(page - 1) * 4 : page * 4]
            return 200, {}, {"items": items, "has_more": page * 4 < len(QUESTIONS), "quota_remaining": 50}

        api.route("/2.3/search/advanced", search)
        api.route(
            "/2.3/answers/400;300",
            lambda r: (200, {}, {"items": [{"answer_id": 400, "body": "<p>a</p><script>x</script>"}]}),
        )
        monkeypatch.setenv("STACKEXCHANGE_API_URL", api.url + "/2.3")
        out = io.StringIO()
        call_command(
            "mine_stackoverflow", "so", tag="tensorflow", exclude_title_words="how,build",
            accepted_answer=True, top=2, stdout=out, stderr=io.StringIO(),
        )  # fmt: skip
    assert json.loads(out.getvalue())["questions"] == 2
    top = Artefact.objects.get(url="https://stackoverflow.com/questions/4")
    assert top.metadata["views"] == 800 and top.metadata["accepted_answer"] == "<p>a</p>"


def test_mine_stackoverflow_missing_dump_creates_nothing(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("mine_stackoverflow", "so2", tag="keras", posts_xml=str(tmp_path / "none.xml"))
    assert not Project.objects.filter(slug="so2").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acme/net\nhttps://github.com/acme/net\n# comment\nhttps://github.com/o/r.git\n", ["acme/net", "o/r"]),
        (
            "project,is_a_fork,has_issues,contributors,commits,stars,forks,top-contributor,to_select\n"
            "https://github.com/o/r,False,True,5,100,10,10,x,True\n",
            ["o/r"],
        ),
        ('[{"full_name": "o/s"}, {"html_url": "https://github.com/o/t"}]', ["o/s", "o/t"]),
    ],
)
def test_repository_lists_for_mining(project, text, expected):
    run = mining_github_prepare(project=project, framework="keras", repositories_text=text)
    assert run.params["repositories"] == expected
    assert mining_github_prepare(project=project, framework="keras", repositories_text=text).pk == run.pk  # resumed
