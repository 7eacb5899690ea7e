"""Stack Exchange API mining with the study's rules, resumable.

`/search/advanced?tagged=T&accepted=True` pages through the tag's questions (`has_more`),
honouring the API's `backoff` (seconds to wait before the next call of the method), its
throttle refusal (HTTP 429, or 400 with error_id 502 "throttle_violation"), and its daily
quota (`quota_remaining`: at 0 the run stops with `QuotaExhausted`, its state ready to
resume tomorrow). The API cannot sort by views, so the title rule and the ordering are
applied here and only the best N are kept. Titles come HTML-escaped and are decoded.
"""

from __future__ import annotations

import html
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from collection.mining.http import HttpClient, Response
from collection.mining.posts import ORDERS, PostRules, Question, title_word_pattern

DEFAULT_API_URL = "https://api.stackexchange.com/2.3"
PAGE_SIZE = 100
_SECONDS = re.compile(r"(\d+)\s*second")


class QuotaExhausted(RuntimeError):
    pass


def stackexchange_rate_limit_wait(response: Response, now: float) -> float | None:
    if response.status == 429:
        retry_after = response.header("retry-after")
        return float(retry_after) if retry_after.strip().isdigit() else 60.0
    if response.status == 400:
        try:
            data = response.json() or {}
        except ValueError:
            return None
        if isinstance(data, dict) and data.get("error_id") == 502:
            match = _SECONDS.search(str(data.get("error_message", "")))
            return float(match.group(1)) if match else 60.0
    return None


def stackexchange_after(response: Response, now: float) -> float:
    """The `backoff` the API asked for (seconds before the next call)."""
    try:
        data = response.json()
    except ValueError:
        return 0.0
    if isinstance(data, dict) and isinstance(data.get("backoff"), int | float):
        return float(data["backoff"])
    return 0.0


def question_from_api(item: dict) -> Question:
    return Question(
        id=int(item.get("question_id") or 0),
        title=html.unescape(item.get("title") or ""),
        body=item.get("body") or "",
        tags=[t.lower() for t in item.get("tags") or []],
        view_count=int(item.get("view_count") or 0),
        score=int(item.get("score") or 0),
        accepted_answer_id=item.get("accepted_answer_id"),
        creation_date=str(item.get("creation_date") or ""),
        extra={"link": item.get("link", "")},
    )


@dataclass
class StackExchangeClient:
    base_url: str
    http: HttpClient
    site: str = "stackoverflow"
    key: str = ""
    quota_remaining: int | None = None

    def call(self, path: str, params: dict) -> dict:
        params = {"site": self.site, **params}
        if self.key:
            params["key"] = self.key
        data = self.http.get(f"{self.base_url}/{path.lstrip('/')}", params).json() or {}
        if isinstance(data.get("quota_remaining"), int):
            self.quota_remaining = data["quota_remaining"]
        return data

    def search_page(self, tag: str, page: int, *, accepted: bool) -> dict:
        params = {"tagged": tag, "page": page, "pagesize": PAGE_SIZE, "sort": "votes", "order": "desc"}
        params["filter"] = "withbody"
        if accepted:
            params["accepted"] = "True"
        return self.call("/search/advanced", params)

    def _by_ids(self, what: str, ids: Iterable[int]) -> list[dict]:
        ids = [str(i) for i in ids]
        found = []
        for start in range(0, len(ids), PAGE_SIZE):
            batch = ";".join(ids[start : start + PAGE_SIZE])
            page = 1
            while True:
                data = self.call(f"/{what}/{batch}", {"filter": "withbody", "pagesize": PAGE_SIZE, "page": page})
                found.extend(data.get("items") or [])
                if not data.get("has_more"):
                    break
                page += 1
        return found

    def questions(self, ids: Iterable[int]) -> list[dict]:
        return self._by_ids("questions", ids)

    def answers(self, ids: Iterable[int]) -> list[dict]:
        return self._by_ids("answers", ids)


def stackexchange_client(
    *,
    base_url: str | None = None,
    key: str | None = None,
    site: str = "stackoverflow",
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
    env: dict | None = None,
    **kwargs,
) -> StackExchangeClient:
    env = os.environ if env is None else env
    base = (base_url or env.get("STACKEXCHANGE_API_URL") or DEFAULT_API_URL).rstrip("/")
    http = HttpClient(
        sleep=sleep, now=now, rate_limit_wait=stackexchange_rate_limit_wait, after=stackexchange_after, **kwargs
    )
    return StackExchangeClient(base, http, site=site, key=key if key is not None else env.get("STACKEXCHANGE_KEY", ""))


@dataclass
class StackOverflowMiner:
    client: StackExchangeClient
    rules: PostRules
    state: dict = field(default_factory=dict)
    save_state: Callable[[dict], None] = lambda state: None
    progress: Callable[[int, str], None] = lambda page, message: None
    max_pages: int | None = None

    def __post_init__(self):
        self.state.setdefault("next_page", 1)
        self.state.setdefault("done", False)
        self.state.setdefault("kept", [])
        self.state.setdefault("answers", False)
        self._title = title_word_pattern(self.rules.excluded_title_words)
        self._key = ORDERS[self.rules.order]

    def _keep(self, question: Question) -> bool:
        if self.rules.tag.lower() not in question.tags:
            return False
        if self._title is not None and self._title.search(question.title):
            return False
        return not (self.rules.accepted_answer and not question.accepted_answer_id)

    def run(self) -> list[Question]:
        kept = [Question(**q) for q in self.state["kept"]]
        pages = 0
        while not self.state["done"]:
            if self.client.quota_remaining == 0:
                raise QuotaExhausted(f"Stack Exchange quota used up; resume from page {self.state['next_page']}")
            page = self.state["next_page"]
            data = self.client.search_page(self.rules.tag, page, accepted=self.rules.accepted_answer)
            batch = [q for q in map(question_from_api, data.get("items") or []) if self._keep(q)]
            kept = sorted(kept + batch, key=lambda q: (self._key(q), q.id), reverse=True)[: self.rules.top]
            self.state.update(next_page=page + 1, done=not data.get("has_more"), kept=[asdict(q) for q in kept])
            self.save_state(self.state)
            self.progress(page, f"{len(kept)} questions kept")
            pages += 1
            if self.max_pages is not None and pages >= self.max_pages and not self.state["done"]:
                return kept
        if not self.state["answers"]:
            wanted = {q.accepted_answer_id: q for q in kept if q.accepted_answer_id}
            for answer in self.client.answers(wanted):
                question = wanted.get(answer.get("answer_id"))
                if question is not None:
                    question.answer_body = answer.get("body") or ""
            self.state.update(answers=True, kept=[asdict(q) for q in kept])
            self.save_state(self.state)
        return kept
