"""E-mail settings from the environment: `EMAIL_URL` parsed by django-environ.

Unset means the console backend (mails printed on the server's stdout), so a
fresh checkout can reset passwords without a mail server. Examples:
`smtp+tls://user:password@mail.example.org:587`, `consolemail://`, `filemail:///var/mail`.
"""

from __future__ import annotations

from collections.abc import Mapping

import environ

CONSOLE = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM = "concord@localhost"


def email_settings(env: Mapping[str, str]) -> dict:
    """Django e-mail settings (EMAIL_BACKEND, EMAIL_HOST, …, DEFAULT_FROM_EMAIL) from `env`."""
    url = (env.get("EMAIL_URL") or "").strip()
    settings = environ.Env.email_url_config(url) if url else {"EMAIL_BACKEND": CONSOLE}
    settings["DEFAULT_FROM_EMAIL"] = (env.get("DEFAULT_FROM_EMAIL") or "").strip() or DEFAULT_FROM
    settings["SERVER_EMAIL"] = settings["DEFAULT_FROM_EMAIL"]
    return settings
