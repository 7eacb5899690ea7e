"""Repositories: the study's CSV and GitHub JSON imports, rules per project, manual exclusion, the ranking command."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from collection.models import Repository
from collection.selectors import repository_rule_report, repository_selection
from collection.services import repository_exclude, repository_include, repository_rules_set
from core.errors import InvalidInput, NotFound
from core.models import Project
from tests.factories import ProjectFactory, member

pytestmark = pytest.mark.django_db

HEADER = (
    "project,is_a_fork,has_issues,contributors,commits,stars,forks,top-contributor,to_select,comment,"
    "relevant_issues,relevant_commits\n"
)


def study_csv(tmp_path, lines, name="keras_init.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


LINES = [
    "https://github.com/a/top,False,True,20,900,500,80,alice,True,,30,5",
    "https://github.com/a/second,False,True,20,900,50,80,bob,True,,30,9",
    "https://github.com/a/commits-only,False,True,20,900,50,80,carl,True,,0,40",
    "https://github.com/a/fork,True,True,20,900,500,80,dan,False,,99,99",
    "https://github.com/a/tiny,False,True,20,900,3,2,eve,False,,99,99",
    "https://github.com/a/book,False,True,20,900,500,80,fay,False,Code for a book,99,99",
    "https://github.com/a/closed,False,False,20,900,500,80,gus,False,,99,99",
]


def _import(tmp_path, lines=LINES, slug="study", framework="keras", **kw):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_repositories", slug, study_csv(tmp_path, lines), framework=framework, stdout=out, stderr=err, **kw
    )
    return json.loads(out.getvalue()), err.getvalue()


def _select(slug="study", framework="keras", top=100, fmt="json"):
    out = io.StringIO()
    call_command("select_repositories", slug, framework=framework, top=top, format=fmt, stdout=out)
    return out.getvalue()


def test_import_creates_the_project_and_applies_the_rules(tmp_path):
    report, err = _import(tmp_path)
    assert "Created project study." in err
    assert (report["created"], report["updated"], report["selected"]) == (7, 0, 3)
    reasons = dict(Repository.objects.values_list("url", "exclusion_reason"))
    assert reasons["https://github.com/a/fork"] == "fork"
    assert reasons["https://github.com/a/tiny"] == "popularity"
    assert reasons["https://github.com/a/closed"] == "open_issues"  # has_issues means open issues
    assert reasons["https://github.com/a/book"] == "Code for a book"  # to_select false: the study's manual removal
    assert Repository.objects.get(url="https://github.com/a/top").top_contributor == "alice"


def test_reimport_updates_by_url(tmp_path):
    _import(tmp_path)
    lines = [LINES[0].replace(",30,5", ",31,6")]
    report, _ = _import(tmp_path, lines)
    assert (report["created"], report["updated"]) == (0, 1)
    repo = Repository.objects.get(url="https://github.com/a/top")
    assert (repo.relevant_issues, repo.relevant_commits) == (31, 6)
    assert Repository.objects.count() == 7


def test_select_json_ranks_and_lists_excluded(tmp_path):
    _import(tmp_path)
    data = json.loads(_select())
    assert data["repositories"] == [
        {"rank": 1, "url": "https://github.com/a/top", "relevant_issues": 30, "relevant_commits": 5},
        {"rank": 2, "url": "https://github.com/a/second", "relevant_issues": 30, "relevant_commits": 9},
        {"rank": 3, "url": "https://github.com/a/commits-only", "relevant_issues": 0, "relevant_commits": 40},
    ]
    assert {e["url"]: e["reason"] for e in data["excluded"]}["https://github.com/a/fork"] == "fork"
    assert len(data["excluded"]) == 4
    assert [r["url"] for r in json.loads(_select(top=1))["repositories"]] == ["https://github.com/a/top"]


def test_select_csv_and_table(tmp_path):
    _import(tmp_path)
    assert _select(fmt="csv").splitlines()[:2] == [
        "rank,url,relevant_issues,relevant_commits",
        "1,https://github.com/a/top,30,5",
    ]
    table = _select(fmt="table")
    assert "https://github.com/a/second" in table and "4 excluded" in table


def test_select_needs_an_existing_project():
    with pytest.raises(CommandError, match="No project"):
        _select(slug="nothing")


def test_rules_per_project_and_manual_decisions(tmp_path):
    _import(tmp_path)
    project = Project.objects.get(slug="study")
    lead = member(project, lead=True)
    repository_rules_set(project=project, user=lead, rules={"exclude_forks": False})
    fork = Repository.objects.get(url="https://github.com/a/fork")
    assert fork.selected and fork.exclusion_reason == ""
    top = Repository.objects.get(url="https://github.com/a/top")
    repository_exclude(project=project, user=lead, repository_id=top.id, reason="Student Project")
    repository_rules_set(project=project, user=lead, rules={})  # rules again: the manual decision stays
    top.refresh_from_db()
    assert (top.selected, top.exclusion_reason) == (False, "Student Project")
    tiny = Repository.objects.get(url="https://github.com/a/tiny")
    repository_include(project=project, user=lead, repository_id=tiny.id, reason="known benchmark")
    tiny.refresh_from_db()
    assert tiny.selected and tiny.comment == "known benchmark"
    report = repository_rule_report(project=project, framework="keras")
    assert report["excluded"]["fork"] == 1 and report["excluded_by_hand"] == 2 and report["included_by_hand"] == 1
    assert report["reasons"] == {"Student Project": 1, "Code for a book": 1}
    urls = [r["url"] for r in repository_selection(project=project, framework="keras")["repositories"]]
    assert "https://github.com/a/top" not in urls and "https://github.com/a/tiny" in urls
    with pytest.raises(InvalidInput):
        repository_exclude(project=project, user=lead, repository_id=tiny.id, reason=" ")
    with pytest.raises(InvalidInput):
        repository_rules_set(project=project, user=lead, rules={"min_commits": "lots"})
    other = ProjectFactory()
    with pytest.raises(NotFound):
        repository_exclude(project=other, user=member(other, lead=True), repository_id=tiny.id, reason="x")


def test_github_json_objects(tmp_path):
    path = tmp_path / "repos.json"
    common = {"fork": False, "stargazers_count": 50, "forks_count": 5, "open_issues_count": 2, "commits_count": 400}
    objects = [
        {"html_url": "https://github.com/o/r", "contributors_count": 9, **common},
        {"full_name": "o/s", "contributors_count": 2, **common},
    ]
    path.write_text(json.dumps(objects))
    out = io.StringIO()
    call_command("import_repositories", "gh", str(path), framework="pytorch", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue())["selected"] == 1
    assert Repository.objects.get(url="https://github.com/o/s").exclusion_reason == "contributors"


def test_malformed_line_reported_kept_or_skipped_and_failure_creates_nothing(tmp_path):
    bad = [LINES[0], "https://github.com/a/x,False,True,20,900,500,80,zed,True,a, b,1,1,extra", LINES[1]]
    err = io.StringIO()
    with pytest.raises(CommandError, match="line 3"):
        call_command(
            "import_repositories",
            "fresh",
            study_csv(tmp_path, bad),
            framework="keras",
            stdout=io.StringIO(),
            stderr=err,
        )
    assert not Project.objects.filter(slug="fresh").exists()
    assert "Created project" not in err.getvalue()
    report, err_text = _import(tmp_path, bad, slug="fresh", malformed="skip")
    assert report["created"] == 2 and report["malformed_lines"][0]["line"] == 3
    assert "malformed line 3" in err_text
    with pytest.raises(CommandError, match="line 3: relevant_issues must be a number"):
        _import(tmp_path, bad, slug="fresh", malformed="keep")  # kept whole: the surplus lands in the last column
