"""A small HTTP client on the standard library for the miners: retries, rate limits, ETags.

The clock and the waiting are injected (`now`, `sleep`) so tests never sleep: they pass a
fake that records how long the client would have waited.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

RETRIED_STATUSES = frozenset({500, 502, 503, 504})
USER_AGENT = "Concord-miner/1.0 (+https://github.com/)"


class HttpError(RuntimeError):
    def __init__(self, status: int, url: str, message: str = ""):
        self.status = status
        self.url = url
        super().__init__(f"HTTP {status} for {url}{': ' + message if message else ''}")


@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    url: str

    def json(self):
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


def urllib_transport(url: str, headers: dict[str, str], timeout: float = 60.0) -> Response:
    """GET `url`: every status comes back as a Response (urllib's HTTPError is not an exception here)."""
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 — http(s) URLs from settings
            return Response(reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read(), url)
    except urllib.error.HTTPError as exc:
        body = exc.read() if exc.fp else b""
        return Response(exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, body, url)


def with_query(url: str, params: dict | None) -> str:
    if not params:
        return url
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


@dataclass
class HttpClient:
    """GETs with retries of 5xx, waits on rate limits, conditional requests by ETag.

    `rate_limit_wait(response)` returns how many seconds to wait before retrying a refused
    request (or None when the response is not a rate-limit refusal); `after(response)` how
    long to wait before the next request (e.g. GitHub's remaining quota reached 0).
    """

    headers: dict[str, str] = field(default_factory=dict)
    transport: Callable[..., Response] = urllib_transport
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.time
    max_retries: int = 5
    max_wait: float = 3600.0
    rate_limit_wait: Callable[[Response, float], float | None] = lambda response, now: None
    after: Callable[[Response, float], float] = lambda response, now: 0.0
    etags: dict[str, list] = field(default_factory=dict)  # url -> [etag, body text]
    requests_made: int = 0
    waited: float = 0.0

    def _wait(self, seconds: float) -> None:
        seconds = max(0.0, min(float(seconds), self.max_wait))
        if seconds:
            self.waited += seconds
            self.sleep(seconds)

    def get(self, url: str, params: dict | None = None, *, conditional: bool = False) -> Response:
        url = with_query(url, params)
        headers = {"User-Agent": USER_AGENT, **self.headers}
        cached = self.etags.get(url) if conditional else None
        if cached:
            headers["If-None-Match"] = cached[0]
        failures = 0
        while True:
            self.requests_made += 1
            response = self.transport(url, headers)
            wait = self.rate_limit_wait(response, self.now())
            if wait is not None:
                failures += 1
                if failures > self.max_retries:
                    raise HttpError(response.status, url, "rate limited too many times")
                self._wait(wait)
                continue
            if response.status in RETRIED_STATUSES:
                failures += 1
                if failures > self.max_retries:
                    raise HttpError(response.status, url, "server error, retries exhausted")
                self._wait(min(2**failures, 60))
                continue
            break
        self._wait(self.after(response, self.now()))
        if response.status == 304 and cached:
            return Response(200, response.headers, cached[1].encode("utf-8"), url)
        if response.status >= 400:
            raise HttpError(response.status, url, _message(response))
        etag = response.header("etag")
        if conditional and etag:
            self.etags[url] = [etag, response.body.decode("utf-8")]
        return response


def _message(response: Response) -> str:
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return response.body[:200].decode("utf-8", "replace")
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error_message") or "")[:200]
    return ""
