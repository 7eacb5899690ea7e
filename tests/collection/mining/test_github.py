import json

import pytest

from collection.mining.github import (
    KIND_COMMIT,
    KIND_ISSUE,
    KIND_PULL_REQUEST,
    GitHubMiner,
    github_client,
    is_fix_message,
    last_page,
    parse_link,
)
from collection.mining.http import HttpError
from tests.collection.mining.fakeapi import FakeApi, paged

REPO = "acme/net"


class Clock:
    def __init__(self):
        self.t = 1_000_000.0
        self.slept: list[float] = []

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.t += seconds


def _issue(number, *, pr=False, comments=0, labels=("bug",)):
    item = {
        "number": number,
        "html_url": f"https://github.com/{REPO}/{'pull' if pr else 'issues'}/{number}",
        "title": f"Title {number}",
        "body": f"Body {number}",
        "state": "closed",
        "comments": comments,
        "labels": [{"name": lab} for lab in labels],
        "created_at": "2019-01-01T00:00:00Z",
        "closed_at": None,
    }
    if pr:
        item["pull_request"] = {"url": "x"}
    return item


COMMITS = [
    ("a1", "Fix bug in loss"),
    ("a2", "Solve issue #3 with shapes"),
    ("a3", "fixed typo"),
    ("a4", "Add feature"),
    ("a5", "solved a Problem with the optimizer\n\nlong text"),
]


def github(api: FakeApi):
    by_label = {
        "bug": [_issue(1, comments=3), _issue(2, pr=True), _issue(3, labels=("bug", "defect")), _issue(4), _issue(5)],
        "defect": [_issue(3, labels=("bug", "defect")), _issue(6, pr=True, comments=1)],
        "error": [],
    }
    comments = {
        1: [{"user": {"login": f"u{i}"}, "body": f"comment {i}", "created_at": "2019"} for i in range(3)],
        6: [{"user": {"login": "v"}, "body": "pr comment", "created_at": "2019"}],
    }

    def repo(request):
        if request["headers"].get("if-none-match") == '"etag-1"':
            return 304, {"ETag": '"etag-1"'}, b""
        body = {
            "full_name": REPO,
            "html_url": f"https://github.com/{REPO}",
            "fork": False,
            "stargazers_count": 42,
            "forks_count": 3,
            "open_issues_count": 7,
            "owner": {"login": "acme"},
        }
        return 200, {"ETag": '"etag-1"'}, body

    def contributors(request):
        return paged([{"login": f"c{i}"} for i in range(7)], request, api.url, int(request["query"]["per_page"]))

    def commits(request):
        items = [
            {"sha": sha, "html_url": f"https://github.com/{REPO}/commit/{sha}", "commit": {"message": m}}
            for sha, m in COMMITS
        ]
        size = 1 if request["query"].get("per_page") == "1" else 2
        return paged(items, request, api.url, size)

    def issues(request):
        return paged(by_label[request["query"]["labels"]], request, api.url, 2)

    api.route(f"/repos/{REPO}", repo)
    api.route(f"/repos/{REPO}/contributors", contributors)
    api.route(f"/repos/{REPO}/commits", commits)
    api.route(f"/repos/{REPO}/issues", issues)
    for number, found in comments.items():
        api.route(f"/repos/{REPO}/issues/{number}/comments", lambda r, found=found: paged(found, r, api.url, 2))
    for sha, _ in COMMITS:
        detail = {"sha": sha, "stats": {"additions": 5, "deletions": 2, "total": 7}, "files": [{"f": 1}, {"f": 2}]}
        api.route(f"/repos/{REPO}/commits/{sha}", lambda r, detail=detail: (200, {}, detail))


@pytest.fixture
def api():
    with FakeApi() as server:
        github(server)
        yield server


def _client(api, clock, **kwargs):
    return github_client(
        env={"GITHUB_API_URL": api.url, "GITHUB_TOKEN": "tok"}, sleep=clock.sleep, now=clock.now, **kwargs
    )


def _mine(api, clock, state=None, sink=None, save=None):
    records = []
    miner = GitHubMiner(
        _client(api, clock),
        sink=sink or (lambda kind, record: records.append((kind, record))),
        state=state if state is not None else {},
        save_state=save or (lambda s: None),
    )
    miner.mine([f"https://github.com/{REPO}"])
    return records, miner


def test_message_pattern():
    assert is_fix_message("Fixes a BUG")
    assert is_fix_message("solved the problem")
    assert not is_fix_message("fix typo")
    assert not is_fix_message("bug report template")


def test_link_header():
    header = '<https://x/r?page=2&per_page=1>; rel="next", <https://x/r?page=34&per_page=1>; rel="last"'
    assert parse_link(header) == {"next": "https://x/r?page=2&per_page=1", "last": "https://x/r?page=34&per_page=1"}
    assert last_page(header) == 34
    assert last_page("") is None


def test_mines_a_repository_across_pages(api):
    clock = Clock()
    records, miner = _mine(api, clock)
    kinds = [k for k, _ in records]
    repo_record = dict(records)["repository"]
    assert repo_record["contributors_count"] == 7
    assert repo_record["commits_count"] == 5
    issues = {r["number"]: r for k, r in records if k in (KIND_ISSUE, KIND_PULL_REQUEST)}
    assert sorted(issues) == [1, 2, 3, 4, 5, 6]  # #3 carries bug and defect: once
    assert kinds.count(KIND_ISSUE) + kinds.count(KIND_PULL_REQUEST) == 6
    assert issues[2]["kind"] == KIND_PULL_REQUEST and issues[6]["kind"] == KIND_PULL_REQUEST
    assert issues[1]["kind"] == KIND_ISSUE
    assert [c["body"] for c in issues[1]["comments"]] == ["comment 0", "comment 1", "comment 2"]  # two comment pages
    assert issues[6]["comments"][0]["author"] == "v"
    assert not api.requests_to(f"/repos/{REPO}/issues/2/comments")  # no comments: no request
    commits = [r for k, r in records if k == KIND_COMMIT]
    assert [c["sha"] for c in commits] == ["a1", "a2", "a5"]
    assert commits[2]["title"] == "solved a Problem with the optimizer"
    assert (commits[0]["additions"], commits[0]["deletions"], commits[0]["files_changed"]) == (5, 2, 2)
    assert records[-1] == (
        "counts",
        {"url": f"https://github.com/{REPO}", "relevant_issues": 6, "relevant_commits": 3},
    )
    assert all(r["headers"].get("authorization") == "Bearer tok" for r in api.log)
    bug_pages = [
        r["query"].get("page", "1") for r in api.requests_to(f"/repos/{REPO}/issues") if r["query"]["labels"] == "bug"
    ]
    assert bug_pages == ["1", "2", "3"]
    assert all(r["query"]["state"] == "all" for r in api.requests_to(f"/repos/{REPO}/issues"))
    assert clock.slept == []


def test_waits_for_the_rate_limit_reset_then_continues(api):
    clock = Clock()
    reset = int(clock.now()) + 120
    api.script(
        f"/repos/{REPO}/issues",
        403,
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        {"message": "API rate limit exceeded"},
    )
    api.script(f"/repos/{REPO}/commits/a1", 429, {"Retry-After": "7"}, {"message": "secondary rate limit"})
    records, _ = _mine(api, clock)
    assert clock.slept == [121.0, 7.0]
    assert len([r for k, r in records if k == KIND_COMMIT]) == 3


def test_waits_when_the_quota_reaches_zero_on_a_success(api):
    clock = Clock()

    def repo_exhausted(request):
        return (
            200,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(clock.now()) + 30)},
            {"full_name": REPO, "html_url": f"https://github.com/{REPO}"},
        )

    api.routes.insert(0, (f"/repos/{REPO}", repo_exhausted))
    _mine(api, clock)
    assert clock.slept == [31.0]


def test_retries_a_502(api):
    clock = Clock()
    api.script(f"/repos/{REPO}/commits", 502, {}, b"<html>Bad Gateway</html>")
    records, _ = _mine(api, clock)
    assert clock.slept == [2]
    assert dict(records)["repository"]["commits_count"] == 5


def test_gives_up_after_repeated_502s_and_on_a_plain_403(api):
    clock = Clock()
    for _ in range(3):
        api.script(f"/repos/{REPO}", 502)
    client = _client(api, clock, max_retries=2)
    with pytest.raises(HttpError) as exc:
        client.repository(REPO)
    assert exc.value.status == 502
    api.script(f"/repos/{REPO}", 403, {}, {"message": "Resource not accessible"})
    with pytest.raises(HttpError, match="Resource not accessible"):
        _client(api, clock).repository(REPO)


class Killed(Exception):
    pass


def test_resumes_after_an_interruption_without_refetching(api):
    clock = Clock()
    saved = {}
    delivered = []

    def save(state):
        saved["state"] = json.loads(json.dumps(state))  # what a job would persist

    def dying_sink(kind, record):
        if kind == KIND_ISSUE and record["number"] == 4:
            raise Killed
        delivered.append((kind, record))

    with pytest.raises(Killed):
        _mine(api, clock, sink=dying_sink, save=save)
    before = len(api.log)
    first_run = {r["url"] for r in api.log}
    resumed, _ = _mine(api, clock, state=saved["state"], save=save)
    second_run = api.log[before:]
    urls = [(k, r.get("url") or r.get("number")) for k, r in delivered + resumed]
    assert len(urls) == len(set(urls))  # nothing delivered twice
    numbers = sorted(r["number"] for k, r in delivered + resumed if k in (KIND_ISSUE, KIND_PULL_REQUEST))
    assert numbers == [1, 2, 3, 4, 5, 6]
    paths = [r["path"] for r in second_run]
    assert f"/repos/{REPO}" not in paths and f"/repos/{REPO}/contributors" not in paths
    assert f"/repos/{REPO}/issues/1/comments" not in paths
    bug_pages = [
        r["query"].get("page", "1")
        for r in second_run
        if r["path"] == f"/repos/{REPO}/issues" and r["query"]["labels"] == "bug"
    ]
    assert bug_pages == ["2", "3"]  # page 1 was finished before the kill; page 2 was interrupted
    assert any("page=2" in u for u in first_run)
    assert saved["state"]["repos"][REPO]["done"] is True
    assert saved["state"]["repos"][REPO]["relevant_issues"] == 6


def test_conditional_request_by_etag(api):
    clock = Clock()
    _, miner = _mine(api, clock)
    etags = miner.state["etags"]
    again, _ = _mine(api, clock, state={"etags": etags})
    repo_requests = api.requests_to(f"/repos/{REPO}")
    assert repo_requests[-1]["headers"].get("if-none-match") == '"etag-1"'
    assert dict(again)["repository"]["stargazers_count"] == 42  # the 304 answered from the stored body
