"""The study's repository selection: exclusion rules and the top-N ranking.

The study kept a repository when it had at least 5 contributors, open issues, at least
100 commits, was not tiny (fewer than 10 stars *and* fewer than 10 forks) and was not a
fork. The rules are data (`RepositoryRules`) so a project can edit them; each excluded
repository records the first rule it broke, in the order above.

Ranking (`select_repositories`): the kept repositories by relevant issues/PRs (descending);
when fewer than N have at least one, the rest are filled by relevant commits (descending);
ties by stars (descending) then URL.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime

RULE_FORK = "fork"
RULE_CONTRIBUTORS = "contributors"
RULE_OPEN_ISSUES = "open_issues"
RULE_COMMITS = "commits"
RULE_POPULARITY = "popularity"
RULE_MANUAL = "manual"


@dataclass
class RepositoryFacts:
    """What the rules and the ranking read of a repository (from a CSV line, a JSON object or the API)."""

    url: str
    is_fork: bool = False
    has_open_issues: bool | None = None
    open_issues: int | None = None
    contributors: int | None = None
    commits: int | None = None
    stars: int | None = None
    forks: int | None = None
    top_contributor: str = ""
    to_select: bool | None = None
    comment: str = ""
    relevant_issues: int | None = None
    relevant_commits: int | None = None
    fetched_at: datetime | None = None
    extra: dict = field(default_factory=dict)

    def opens_issues(self) -> bool | None:
        """Has open issues: the count when known, else the CSV's has_issues flag."""
        if self.open_issues is not None:
            return self.open_issues > 0
        return self.has_open_issues

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class RepositoryRules:
    """The study's defaults; every threshold can be edited per project (0 / False switches a rule off)."""

    min_contributors: int = 5
    require_open_issues: bool = True
    min_commits: int = 100
    min_stars: int = 10
    min_forks: int = 10
    exclude_forks: bool = True

    @classmethod
    def from_dict(cls, data: dict | None) -> RepositoryRules:
        data = data or {}
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown repository rule(s): {', '.join(sorted(unknown))}")
        values = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.type == "bool":
                if not isinstance(value, bool):
                    raise ValueError(f"{f.name} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{f.name} must be a whole number >= 0")
            values[f.name] = value
        return cls(**values)

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def describe(self) -> list[tuple[str, str]]:
        """(rule code, human description) of each active rule, in evaluation order."""
        rules = []
        if self.exclude_forks:
            rules.append((RULE_FORK, "not a fork"))
        if self.min_contributors:
            rules.append((RULE_CONTRIBUTORS, f"at least {self.min_contributors} contributors"))
        if self.require_open_issues:
            rules.append((RULE_OPEN_ISSUES, "has open issues"))
        if self.min_commits:
            rules.append((RULE_COMMITS, f"at least {self.min_commits} commits"))
        if self.min_stars or self.min_forks:
            rules.append(
                (RULE_POPULARITY, f"not (fewer than {self.min_stars} stars and fewer than {self.min_forks} forks)")
            )
        return rules


def _below(value: int | None, minimum: int) -> bool:
    return value is not None and value < minimum


def exclusion_reason(repo: RepositoryFacts, rules: RepositoryRules | None = None) -> str:
    """The code of the first rule `repo` breaks, or "" when it is kept. Unknown values break no rule."""
    rules = rules or RepositoryRules()
    if rules.exclude_forks and repo.is_fork:
        return RULE_FORK
    if rules.min_contributors and _below(repo.contributors, rules.min_contributors):
        return RULE_CONTRIBUTORS
    if rules.require_open_issues and repo.opens_issues() is False:
        return RULE_OPEN_ISSUES
    if rules.min_commits and _below(repo.commits, rules.min_commits):
        return RULE_COMMITS
    if (rules.min_stars or rules.min_forks) and (
        _below(repo.stars, rules.min_stars) and _below(repo.forks, rules.min_forks)
    ):
        return RULE_POPULARITY
    return ""


def rule_report(repos: list[RepositoryFacts], rules: RepositoryRules | None = None) -> dict:
    """How many repositories each rule excluded (first broken rule only) and how many are kept."""
    rules = rules or RepositoryRules()
    counts = {code: 0 for code, _ in rules.describe()}
    kept = 0
    for repo in repos:
        reason = exclusion_reason(repo, rules)
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
        else:
            kept += 1
    return {"total": len(repos), "kept": kept, "excluded": counts, "rules": rules.describe()}


@dataclass(frozen=True)
class Ranked:
    rank: int
    url: str
    relevant_issues: int
    relevant_commits: int

    def as_dict(self) -> dict:
        return {
            "rank": self.rank,
            "url": self.url,
            "relevant_issues": self.relevant_issues,
            "relevant_commits": self.relevant_commits,
        }


def _stars_then_url(repo: RepositoryFacts) -> tuple:
    return (-(repo.stars or 0), repo.url)


def select_repositories(repos: list[RepositoryFacts], top: int = 100) -> list[Ranked]:
    """The top `top` of `repos` (already filtered by the rules) the study's way.

    First those with at least one relevant issue/PR, by that count (descending); when fewer
    than `top` have any, the rest by relevant commits (descending). Ties by stars, then URL.
    A repository with neither relevant issues nor relevant commits still fills the list last.
    """
    if top <= 0:
        return []
    with_issues = [r for r in repos if (r.relevant_issues or 0) > 0]
    with_issues.sort(key=lambda r: (-(r.relevant_issues or 0), *_stars_then_url(r)))
    chosen = with_issues[:top]
    if len(chosen) < top:
        rest = [r for r in repos if (r.relevant_issues or 0) <= 0]
        rest.sort(key=lambda r: (-(r.relevant_commits or 0), *_stars_then_url(r)))
        chosen += rest[: top - len(chosen)]
    return [
        Ranked(rank=i, url=r.url, relevant_issues=r.relevant_issues or 0, relevant_commits=r.relevant_commits or 0)
        for i, r in enumerate(chosen, start=1)
    ]
