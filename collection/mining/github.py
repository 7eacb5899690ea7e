"""GitHub REST mining the study's way, resumable.

Per repository: its attributes (`/repos/{owner}/{repo}`; contributors and commits counted
from the `Link` header's last page with `per_page=1`), the issues and pull requests labelled
bug/defect/error (one query per label, `state=all`, deduplicated; a PR is an item with a
`pull_request` member), their comments, and the commits whose message matches
("fix" or "solve") and ("bug" or "issue" or "problem" or "defect" or "error")
(case-insensitive substrings, as the study matched), with their diff stats.

The miner hands each record to a `sink(kind, record)` and keeps its place in a plain,
JSON-serialisable `state` (the next page URL of each query, the items already delivered,
the ETags) that it passes to `save_state` after every step: a run killed midway resumes
from its last page without fetching again what it already delivered. Sinks must be
idempotent by URL (a page interrupted midway is read again, its delivered items skipped).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from collection.mining.http import HttpClient, Response, with_query
from collection.mining.repository_files import full_name as repo_full_name

DEFAULT_API_URL = "https://api.github.com"
LABELS = ("bug", "defect", "error")
DONE = "done"
PER_PAGE = 100
_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="([^"]+)"')
_PAGE = re.compile(r"[?&]page=(\d+)")
_FIX = ("fix", "solve")
_PROBLEM = ("bug", "issue", "problem", "defect", "error")

KIND_ISSUE = "issue"
KIND_PULL_REQUEST = "pull request"
KIND_COMMIT = "commit"
KIND_REPOSITORY = "repository"


def parse_link(header: str) -> dict[str, str]:
    """rel -> URL of a `Link` header."""
    return {rel: url for url, rel in _LINK.findall(header or "")}


def last_page(header: str) -> int | None:
    match = _PAGE.search(parse_link(header).get("last", ""))
    return int(match.group(1)) if match else None


def is_fix_message(message: str) -> bool:
    text = (message or "").lower()
    return any(w in text for w in _FIX) and any(w in text for w in _PROBLEM)


def github_rate_limit_wait(response: Response, now: float) -> float | None:
    """Seconds to wait before retrying a request GitHub refused for its rate limits, else None."""
    if response.status not in (403, 429):
        return None
    retry_after = response.header("retry-after")
    if retry_after.strip().isdigit():
        return float(retry_after)
    if response.header("x-ratelimit-remaining") == "0":
        reset = response.header("x-ratelimit-reset")
        return max(0.0, float(reset) - now) + 1 if reset.strip().isdigit() else 60.0
    if response.status == 429:
        return 60.0
    return None  # a plain 403: forbidden, not a rate limit


def github_after(response: Response, now: float) -> float:
    """Seconds to wait before the next request: none until the remaining quota reaches 0, then until the reset."""
    if response.status < 400 and response.header("x-ratelimit-remaining") == "0":
        reset = response.header("x-ratelimit-reset")
        if reset.strip().isdigit():
            return max(0.0, float(reset) - now) + 1
    return 0.0


def github_client(
    *,
    base_url: str | None = None,
    token: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
    env: dict | None = None,
    **kwargs,
) -> GitHubClient:
    env = os.environ if env is None else env
    base = (base_url or env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
    token = token if token is not None else env.get("GITHUB_TOKEN", "")
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    http = HttpClient(
        headers=headers,
        sleep=sleep,
        now=now,
        rate_limit_wait=github_rate_limit_wait,
        after=github_after,
        **kwargs,
    )
    return GitHubClient(base, http)


@dataclass
class GitHubClient:
    base_url: str
    http: HttpClient

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def get_json(self, path_or_url: str, params: dict | None = None, *, conditional: bool = False):
        url = path_or_url if "://" in path_or_url else self.url(path_or_url)
        return self.http.get(url, params, conditional=conditional).json()

    def repository(self, name: str) -> dict:
        return self.get_json(f"/repos/{name}", conditional=True)

    def count(self, name: str, what: str, params: dict | None = None) -> int:
        """How many contributors/commits/... a repository has, from one request with per_page=1."""
        response = self.http.get(self.url(f"/repos/{name}/{what}"), {"per_page": 1, **(params or {})}, conditional=True)
        pages = last_page(response.header("link"))
        if pages is not None:
            return pages
        items = response.json() or []
        return len(items) if isinstance(items, list) else 0

    def page(self, url: str) -> tuple[list, str | None]:
        """The items of one page and the next page's URL (None on the last page)."""
        response = self.http.get(url)
        items = response.json() or []
        return (items if isinstance(items, list) else []), parse_link(response.header("link")).get("next")

    def pages(self, path: str, params: dict | None = None) -> Iterator[list]:
        url: str | None = self.http_url(path, params)
        while url:
            items, url = self.page(url)
            yield items

    def http_url(self, path: str, params: dict | None = None) -> str:
        return with_query(self.url(path), params)

    def issue(self, name: str, number: int) -> dict:
        return self.get_json(f"/repos/{name}/issues/{number}")

    def commit(self, name: str, sha: str) -> dict:
        return self.get_json(f"/repos/{name}/commits/{sha}")

    def comments(self, name: str, number: int) -> list[dict]:
        found = []
        for items in self.pages(f"/repos/{name}/issues/{number}/comments", {"per_page": PER_PAGE}):
            found.extend(items)
        return found


def issue_record(item: dict, repository: str, comments: list[dict]) -> dict:
    return {
        "kind": KIND_PULL_REQUEST if item.get("pull_request") else KIND_ISSUE,
        "url": item.get("html_url") or "",
        "number": item.get("number"),
        "title": item.get("title") or "",
        "body": item.get("body") or "",
        "state": item.get("state") or "",
        "labels": sorted({(lab.get("name") or "") for lab in item.get("labels") or [] if isinstance(lab, dict)}),
        "created_at": item.get("created_at") or "",
        "closed_at": item.get("closed_at") or "",
        "comments": [
            {
                "author": (c.get("user") or {}).get("login", ""),
                "body": c.get("body") or "",
                "created_at": c.get("created_at") or "",
            }
            for c in comments
        ],
        "repository": repository,
    }


def commit_record(item: dict, detail: dict | None, repository: str) -> dict:
    message = (item.get("commit") or {}).get("message") or ""
    stats = (detail or {}).get("stats") or {}
    return {
        "kind": KIND_COMMIT,
        "url": item.get("html_url") or f"{repository}/commit/{item.get('sha')}",
        "sha": item.get("sha") or "",
        "title": message.split("\n", 1)[0],
        "message": message,
        "additions": stats.get("additions", 0),
        "deletions": stats.get("deletions", 0),
        "files_changed": len((detail or {}).get("files") or []),
        "created_at": ((item.get("commit") or {}).get("author") or {}).get("date", ""),
        "repository": repository,
    }


@dataclass
class GitHubMiner:
    client: GitHubClient
    sink: Callable[[str, dict], None]
    state: dict = field(default_factory=dict)
    save_state: Callable[[dict], None] = lambda state: None
    labels: tuple[str, ...] = LABELS
    with_comments: bool = True
    with_diff_stats: bool = True
    progress: Callable[[int, int, str], None] = lambda done, total, message: None

    def __post_init__(self):
        self.state.setdefault("repos", {})
        self.client.http.etags = self.state.setdefault("etags", {})

    def _save(self) -> None:
        self.save_state(self.state)

    def mine(self, repositories: list[str]) -> dict:
        """Mine each repository (URLs or owner/name); returns the state (with per-repository counts)."""
        names = [repo_full_name(r) for r in repositories]
        for i, name in enumerate(names):
            self.progress(i, len(names), name)
            self.mine_repository(name)
        self.progress(len(names), len(names), "")
        return self.state

    def _repo_state(self, name: str) -> dict:
        return self.state["repos"].setdefault(
            name,
            {
                "attributes": None,
                "labels": {},
                "seen": [],
                "relevant_issues": 0,
                "commits": None,
                "seen_commits": [],
                "relevant_commits": 0,
                "done": False,
            },
        )

    def mine_repository(self, name: str) -> dict:
        repo = self._repo_state(name)
        if repo["done"]:
            return repo
        url = f"https://github.com/{name}"
        if repo["attributes"] is None:
            data = self.client.repository(name)
            data["contributors_count"] = self.client.count(name, "contributors", {"anon": "true"})
            data["commits_count"] = self.client.count(name, "commits")
            repo["attributes"] = data
            self.sink(KIND_REPOSITORY, data)
            self._save()
        for label in self.labels:
            self._mine_label(name, url, repo, label)
        self._mine_commits(name, url, repo)
        repo["done"] = True
        self._save()
        self.sink(
            "counts",
            {"url": url, "relevant_issues": repo["relevant_issues"], "relevant_commits": repo["relevant_commits"]},
        )
        return repo

    def _mine_label(self, name: str, url: str, repo: dict, label: str) -> None:
        cursor = repo["labels"].get(label)
        if cursor == DONE:
            return
        if cursor is None:
            cursor = self.client.http_url(
                f"/repos/{name}/issues", {"labels": label, "state": "all", "per_page": PER_PAGE}
            )
        seen = set(repo["seen"])
        while cursor:
            items, next_url = self.client.page(cursor)
            for item in items:
                number = item.get("number")
                if number in seen:
                    continue
                comments = self.client.comments(name, number) if self.with_comments and item.get("comments") else []
                self.sink(
                    KIND_PULL_REQUEST if item.get("pull_request") else KIND_ISSUE, issue_record(item, url, comments)
                )
                seen.add(number)
                repo["seen"].append(number)
                repo["relevant_issues"] += 1
                self._save()
            cursor = next_url
            repo["labels"][label] = cursor or DONE
            self._save()

    def _mine_commits(self, name: str, url: str, repo: dict) -> None:
        cursor = repo["commits"]
        if cursor == DONE:
            return
        if cursor is None:
            cursor = self.client.http_url(f"/repos/{name}/commits", {"per_page": PER_PAGE})
        seen = set(repo["seen_commits"])
        while cursor:
            items, next_url = self.client.page(cursor)
            for item in items:
                sha = item.get("sha")
                message = (item.get("commit") or {}).get("message") or ""
                if sha in seen or not is_fix_message(message):
                    continue
                detail = self.client.commit(name, sha) if self.with_diff_stats else None
                self.sink(KIND_COMMIT, commit_record(item, detail, url))
                seen.add(sha)
                repo["seen_commits"].append(sha)
                repo["relevant_commits"] += 1
                self._save()
            cursor = next_url
            repo["commits"] = cursor or DONE
            self._save()
