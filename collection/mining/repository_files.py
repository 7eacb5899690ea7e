"""The study's repository lists (CSV) and GitHub repository JSON objects, read as `RepositoryFacts`.

CSV layout (the study's `*_init.csv`, `*_after_init_removal.csv`, `*_top_100.csv`):
`project,is_a_fork,has_issues,contributors,commits,stars,forks,top-contributor,to_select[,comment][,relevant_issues,relevant_commits]`.
`has_issues` stands for "has open issues" (the files carry no open-issue count).
"""

from __future__ import annotations

import json
from datetime import datetime

from collection.mining.csvlines import read_csv
from collection.mining.rules import RepositoryFacts

REQUIRED_COLUMNS = ("project",)
KNOWN_COLUMNS = (
    "project",
    "is_a_fork",
    "has_issues",
    "open_issues",
    "contributors",
    "commits",
    "stars",
    "forks",
    "top-contributor",
    "to_select",
    "comment",
    "relevant_issues",
    "relevant_commits",
)
_TRUE = {"true", "1", "yes", "y", "t", "x"}
_FALSE = {"false", "0", "no", "n", "f", ""}


class RepositoryFileError(ValueError):
    pass


def repository_url(value: str) -> str:
    """The canonical https://github.com/owner/name of a URL, an API URL, `owner/name` or a git URL."""
    text = (value or "").strip()
    for prefix in ("https://api.github.com/repos/", "git@github.com:", "git://github.com/"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    for prefix in ("https://", "http://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    if text.lower().startswith("www."):
        text = text[4:]
    if text.lower().startswith("github.com/"):
        text = text[len("github.com/") :]
    text = text.split("?")[0].split("#")[0].strip("/")
    if text.endswith(".git"):
        text = text[:-4]
    parts = text.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1] or " " in parts[0] or " " in parts[1]:
        raise RepositoryFileError(f"not a GitHub repository: {value!r}")
    return f"https://github.com/{parts[0]}/{parts[1]}"


def full_name(url: str) -> str:
    """owner/name of a repository URL."""
    return repository_url(url).removeprefix("https://github.com/")


def _flag(value: str, column: str, line: int) -> bool | None:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False if text else None
    raise RepositoryFileError(f"line {line}: {column} must be true or false, not {value!r}")


def _count(value: str, column: str, line: int) -> int | None:
    text = (value or "").strip().replace(",", "").replace("_", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise RepositoryFileError(f"line {line}: {column} must be a number, not {value!r}") from None
    if number < 0 or number != int(number):
        raise RepositoryFileError(f"line {line}: {column} must be a whole number >= 0, not {value!r}")
    return int(number)


def _from_row(line: int, row: dict[str, str]) -> RepositoryFacts:
    try:
        url = repository_url(row.get("project", ""))
    except RepositoryFileError as exc:
        raise RepositoryFileError(f"line {line}: {exc}") from None
    return RepositoryFacts(
        url=url,
        is_fork=bool(_flag(row.get("is_a_fork", ""), "is_a_fork", line)),
        has_open_issues=_flag(row.get("has_issues", ""), "has_issues", line),
        open_issues=_count(row.get("open_issues", ""), "open_issues", line),
        contributors=_count(row.get("contributors", ""), "contributors", line),
        commits=_count(row.get("commits", ""), "commits", line),
        stars=_count(row.get("stars", ""), "stars", line),
        forks=_count(row.get("forks", ""), "forks", line),
        top_contributor=(row.get("top-contributor") or row.get("top_contributor") or "").strip(),
        to_select=_flag(row.get("to_select", ""), "to_select", line),
        comment=(row.get("comment") or "").strip(),
        relevant_issues=_count(row.get("relevant_issues", ""), "relevant_issues", line),
        relevant_commits=_count(row.get("relevant_commits", ""), "relevant_commits", line),
    )


def read_repository_csv(text: str, *, on_malformed: str = "error") -> tuple[list[RepositoryFacts], list]:
    """(repositories, CSV problems) of a study repository list. A repeated URL keeps its last line."""
    table = read_csv(text, on_malformed=on_malformed)
    header = [h.lower() for h in table.header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RepositoryFileError(f"missing column(s): {', '.join(missing)}")
    by_url: dict[str, RepositoryFacts] = {}
    for line, row in table.rows:
        lowered = {k.lower(): v for k, v in row.items()}
        repo = _from_row(line, lowered)
        by_url[repo.url] = repo
    return list(by_url.values()), table.problems


def _parse_time(value) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def from_github_object(obj: dict) -> RepositoryFacts:
    """A GitHub REST repository object (GET /repos/{owner}/{repo}), optionally with counts added
    by the miner (`contributors_count`, `commits_count`, `relevant_issues`, `relevant_commits`)."""
    if not isinstance(obj, dict):
        raise RepositoryFileError("a repository must be a JSON object")
    source = obj.get("html_url") or obj.get("full_name") or obj.get("url") or ""
    url = repository_url(source)
    open_issues = obj.get("open_issues_count", obj.get("open_issues"))
    owner = obj.get("owner") or {}
    return RepositoryFacts(
        url=url,
        is_fork=bool(obj.get("fork", False)),
        has_open_issues=(open_issues > 0) if isinstance(open_issues, int) else obj.get("has_issues"),
        open_issues=open_issues if isinstance(open_issues, int) else None,
        contributors=obj.get("contributors_count", obj.get("contributors")),
        commits=obj.get("commits_count", obj.get("commits")),
        stars=obj.get("stargazers_count", obj.get("stars")),
        forks=obj.get("forks_count", obj.get("forks")),
        top_contributor=str(obj.get("top_contributor") or ""),
        relevant_issues=obj.get("relevant_issues"),
        relevant_commits=obj.get("relevant_commits"),
        fetched_at=_parse_time(obj.get("fetched_at")),
        extra={"owner": owner.get("login", "") if isinstance(owner, dict) else ""},
    )


def read_repository_json(text: str) -> list[RepositoryFacts]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RepositoryFileError(f"not JSON: {exc}") from None
    if isinstance(data, dict):
        data = data.get("repositories", data.get("items", [data]))
    if not isinstance(data, list):
        raise RepositoryFileError("expected a JSON list of repository objects")
    by_url: dict[str, RepositoryFacts] = {}
    for i, obj in enumerate(data, start=1):
        try:
            repo = from_github_object(obj)
        except RepositoryFileError as exc:
            raise RepositoryFileError(f"item {i}: {exc}") from None
        by_url[repo.url] = repo
    return list(by_url.values())


def read_repository_file(name: str, text: str, *, on_malformed: str = "error") -> tuple[list[RepositoryFacts], list]:
    """A CSV or JSON repository list by its name (or, without a telling suffix, by its first character)."""
    lowered = name.lower()
    if lowered.endswith(".json") or (not lowered.endswith(".csv") and text.lstrip()[:1] in "[{"):
        return read_repository_json(text), []
    return read_repository_csv(text, on_malformed=on_malformed)
