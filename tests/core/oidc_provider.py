"""A tiny OpenID Connect provider for tests (a test double of an outside identity service), on 127.0.0.1.

Authorization code flow only: /authorize redirects back with a code, /token answers an HS256 ID token
(signed with the client secret, carrying the nonce) and an access token, /userinfo answers the claims."""

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt


class Provider:
    def __init__(self, *, client_id: str, client_secret: str, claims: dict):
        self.client_id, self.client_secret, self.claims = client_id, client_secret, claims
        self.codes: dict[str, str] = {}  # code → nonce
        self.tokens: set[str] = set()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/authorize":
                    if query.get("client_id") != provider.client_id or query.get("response_type") != "code":
                        return self._json(400, {"error": "invalid_request"})
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = query.get("nonce", "")
                    target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                if url.path == "/userinfo":
                    token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    if token not in provider.tokens:
                        return self._json(401, {"error": "invalid_token"})
                    return self._json(200, provider.claims)
                return self._json(404, {"error": "not_found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                if urlparse(self.path).path != "/token":
                    return self._json(404, {"error": "not_found"})
                if form.get("client_secret") != provider.client_secret or form.get("code") not in provider.codes:
                    return self._json(400, {"error": "invalid_grant"})
                nonce = provider.codes.pop(form["code"])
                now = int(time.time())
                id_token = jwt.encode(
                    {
                        "iss": provider.url,
                        "sub": provider.claims["sub"],
                        "aud": provider.client_id,
                        "iat": now,
                        "exp": now + 300,
                        "nonce": nonce,
                    },
                    provider.client_secret,
                    algorithm="HS256",
                )
                access = secrets.token_urlsafe(16)
                provider.tokens.add(access)
                return self._json(200, {"access_token": access, "id_token": id_token, "token_type": "Bearer"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
