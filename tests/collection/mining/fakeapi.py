"""A small HTTP server on 127.0.0.1 answering like GitHub's and Stack Exchange's REST APIs.

Routes are plain functions of the request; `script` queues one-off responses for a path
(a 502, a rate-limit refusal) served before the route answers. Every request is logged.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeApi:
    def __init__(self):
        self.routes = []  # (path prefix or exact, function(request) -> (status, headers, body))
        self.scripted = defaultdict(deque)
        self.log: list[dict] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                parts = urllib.parse.urlsplit(self.path)
                request = {
                    "path": parts.path,
                    "query": dict(urllib.parse.parse_qsl(parts.query)),
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "url": self.path,
                }
                api.log.append(request)
                status, headers, body = api.answer(request)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, str(value))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def route(self, path: str, function) -> None:
        self.routes.append((path, function))

    def script(self, path: str, status: int, headers: dict | None = None, body=b"") -> None:
        self.scripted[path].append((status, headers or {}, body))

    def answer(self, request):
        queued = self.scripted.get(request["path"])
        if queued:
            return queued.popleft()
        for path, function in self.routes:
            if request["path"] == path:
                return function(request)
        return 404, {}, {"message": "Not Found"}

    def requests_to(self, path: str) -> list[dict]:
        return [r for r in self.log if r["path"] == path]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def paged(items: list, request: dict, base_url: str, size: int) -> tuple[int, dict, list]:
    """One page of `items` with GitHub's Link header (next/last) for the request's `page`."""
    page = int(request["query"].get("page", 1))
    pages = max(1, -(-len(items) // size))
    chunk = items[(page - 1) * size : page * size]
    query = {k: v for k, v in request["query"].items() if k != "page"}
    links = []

    def link(n, rel):
        return f'<{base_url}{request["path"]}?{urllib.parse.urlencode({**query, "page": n})}>; rel="{rel}"'

    if page < pages:
        links.append(link(page + 1, "next"))
        links.append(link(pages, "last"))
    if page > 1:
        links.append(link(1, "first"))
        links.append(link(page - 1, "prev"))
    return 200, ({"Link": ", ".join(links)} if links else {}), chunk
