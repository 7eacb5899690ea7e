import json

import pytest

from collection.mining.repository_files import (
    RepositoryFileError,
    read_repository_csv,
    read_repository_file,
    read_repository_json,
    repository_url,
)
from collection.mining.rules import (
    RULE_COMMITS,
    RULE_CONTRIBUTORS,
    RULE_FORK,
    RULE_OPEN_ISSUES,
    RULE_POPULARITY,
    RepositoryFacts,
    RepositoryRules,
    exclusion_reason,
    rule_report,
    select_repositories,
)


def _repo(name="a/b", **kw):
    values = dict(is_fork=False, has_open_issues=True, contributors=5, commits=100, stars=10, forks=0)
    values.update(kw)
    return RepositoryFacts(url=f"https://github.com/{name}", **values)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, ""),
        ({"is_fork": True}, RULE_FORK),
        ({"contributors": 4}, RULE_CONTRIBUTORS),
        ({"has_open_issues": False}, RULE_OPEN_ISSUES),
        ({"open_issues": 0}, RULE_OPEN_ISSUES),
        ({"has_open_issues": False, "open_issues": 3}, ""),  # the count wins over the flag
        ({"commits": 99}, RULE_COMMITS),
        ({"stars": 9, "forks": 9}, RULE_POPULARITY),
        ({"stars": 9, "forks": 10}, ""),
        ({"stars": 0, "forks": 50}, ""),
        ({"is_fork": True, "contributors": 1}, RULE_FORK),  # the first broken rule is recorded
        ({"contributors": None, "commits": None, "stars": None, "forks": None}, ""),  # unknown breaks nothing
    ],
)
def test_study_defaults(changes, reason):
    assert exclusion_reason(_repo(**changes)) == reason


def test_rules_are_editable():
    rules = RepositoryRules.from_dict({"min_contributors": 2, "exclude_forks": False, "min_commits": 0})
    assert exclusion_reason(_repo(contributors=3, is_fork=True, commits=1), rules) == ""
    assert exclusion_reason(_repo(contributors=1), rules) == RULE_CONTRIBUTORS
    with pytest.raises(ValueError, match="unknown"):
        RepositoryRules.from_dict({"min_stars_typo": 1})
    with pytest.raises(ValueError, match="whole number"):
        RepositoryRules.from_dict({"min_commits": -1})
    with pytest.raises(ValueError, match="true or false"):
        RepositoryRules.from_dict({"exclude_forks": "yes"})
    assert RepositoryRules.from_dict(RepositoryRules().as_dict()) == RepositoryRules()


def test_rule_report_counts_first_broken_rule():
    repos = [_repo("a/1"), _repo("a/2", is_fork=True), _repo("a/3", commits=3), _repo("a/4", commits=3, stars=0)]
    report = rule_report(repos)
    assert report["total"] == 4 and report["kept"] == 1
    assert report["excluded"][RULE_FORK] == 1 and report["excluded"][RULE_COMMITS] == 2


def test_ranking_by_issues_then_filled_by_commits_ties_by_stars_then_url():
    repos = [
        _repo("z/issues5", relevant_issues=5, relevant_commits=0, stars=1),
        _repo("b/issues9", relevant_issues=9, relevant_commits=1, stars=1),
        _repo("a/issues5-more-stars", relevant_issues=5, stars=100),
        _repo("c/issues5", relevant_issues=5, relevant_commits=0, stars=1),
        _repo("d/commits50", relevant_issues=0, relevant_commits=50),
        _repo("e/commits70", relevant_issues=None, relevant_commits=70),
        _repo("f/nothing", relevant_issues=0, relevant_commits=0),
    ]
    ranked = select_repositories(repos, top=6)
    assert [r.url.removeprefix("https://github.com/") for r in ranked] == [
        "b/issues9",
        "a/issues5-more-stars",
        "c/issues5",
        "z/issues5",
        "e/commits70",
        "d/commits50",
    ]
    assert [r.rank for r in ranked] == [1, 2, 3, 4, 5, 6]
    assert ranked[4].as_dict() == {
        "rank": 5,
        "url": "https://github.com/e/commits70",
        "relevant_issues": 0,
        "relevant_commits": 70,
    }
    top2 = select_repositories(repos, top=2)
    assert [r.url for r in top2] == ["https://github.com/b/issues9", "https://github.com/a/issues5-more-stars"]
    assert select_repositories(repos, top=0) == []


@pytest.mark.parametrize(
    "value",
    [
        "tensorflow/models",
        "https://github.com/tensorflow/models",
        "github.com/tensorflow/models/",
        "https://api.github.com/repos/tensorflow/models",
        "git@github.com:tensorflow/models.git",
        "https://github.com/tensorflow/models/issues/3",
    ],
)
def test_repository_urls(value):
    assert repository_url(value) == "https://github.com/tensorflow/models"


def test_repository_url_rejects_non_repositories():
    with pytest.raises(RepositoryFileError):
        repository_url("tensorflow")


STUDY_CSV = (
    "project,is_a_fork,has_issues,contributors,commits,stars,forks,top-contributor,to_select,comment,relevant_issues,relevant_commits\n"
    "https://github.com/a/kept,False,True,12,1500,300,40,alice,True,,7,20\n"
    "https://github.com/a/fork,True,True,12,1500,300,40,bob,False,,,\n"
    "https://github.com/a/book,False,True,6,120,11,2,carol,False,Code for a book,0,3\n"
    "https://github.com/a/noissues,False,False,30,900,50,50,dan,False,,,\n"
)


def test_study_csv():
    repos, problems = read_repository_csv(STUDY_CSV)
    assert problems == []
    by = {r.url.rsplit("/", 1)[1]: r for r in repos}
    assert by["kept"].contributors == 12 and by["kept"].top_contributor == "alice" and by["kept"].to_select is True
    assert by["kept"].relevant_issues == 7 and by["kept"].relevant_commits == 20
    assert by["fork"].relevant_issues is None
    assert by["book"].comment == "Code for a book"
    assert exclusion_reason(by["fork"]) == RULE_FORK
    assert exclusion_reason(by["noissues"]) == RULE_OPEN_ISSUES  # has_issues stands for open issues
    assert exclusion_reason(by["kept"]) == ""


def test_study_csv_minimal_columns_and_errors():
    repos, _ = read_repository_csv(
        "project,is_a_fork,has_issues,contributors,commits,stars,forks,top-contributor,to_select\nx/y,0,1,5,100,10,10,z,1\n"
    )
    assert repos[0].url == "https://github.com/x/y" and repos[0].is_fork is False and repos[0].has_open_issues is True
    with pytest.raises(RepositoryFileError, match="line 2: contributors must be a number"):
        read_repository_csv("project,contributors\nx/y,many\n")
    with pytest.raises(RepositoryFileError, match="missing column"):
        read_repository_csv("name,contributors\nx/y,1\n")


def test_github_json_objects():
    objects = [
        {
            "html_url": "https://github.com/o/r",
            "fork": False,
            "stargazers_count": 5,
            "forks_count": 12,
            "open_issues_count": 0,
            "owner": {"login": "o"},
        },
        {
            "full_name": "o/s",
            "fork": True,
            "stargazers_count": 1,
            "forks_count": 1,
            "open_issues_count": 4,
            "contributors_count": 9,
            "commits_count": 300,
        },
    ]
    repos = read_repository_json(json.dumps(objects))
    assert [r.url for r in repos] == ["https://github.com/o/r", "https://github.com/o/s"]
    assert repos[0].open_issues == 0 and exclusion_reason(repos[0]) == RULE_OPEN_ISSUES
    assert repos[1].contributors == 9 and repos[1].commits == 300 and exclusion_reason(repos[1]) == RULE_FORK
    same, problems = read_repository_file("list.json", json.dumps(objects))
    assert len(same) == 2 and problems == []
    with pytest.raises(RepositoryFileError, match="item 1"):
        read_repository_json('[{"name": "nothing"}]')
