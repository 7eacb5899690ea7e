"""Production settings from the environment: start-up refusal, `check --deploy`, CSP, no inline scripts.

The subprocesses run as an operator would start Concord (not as a test: no CONCORD_TESTING, no pytest).
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def operator_env(**extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "CONCORD_TESTING", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env.pop("CONCORD_HTTPS", None)
    env.update(DJANGO_SETTINGS_MODULE="concord.settings", **extra)
    return env


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


SETUP = ["-c", "import django; django.setup(); print('started')"]


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"DEBUG": "false"}, "SECRET_KEY is not set"),
        ({}, "SECRET_KEY is not set"),  # DEBUG is off by default
        ({"DEBUG": "false", "SECRET_KEY": "change-me-in-production"}, "development key"),
        ({"DEBUG": "false", "SECRET_KEY": "concord-insecure-development-key-change-me"}, "development key"),
        ({"DEBUG": "false", "SECRET_KEY": "tiny"}, "too weak"),
    ],
)
def test_debug_off_without_a_real_key_stops_start_up_with_a_clear_message(env, reason):
    proc = run(SETUP, operator_env(**env))
    assert proc.returncode != 0
    assert "started" not in proc.stdout
    assert "Concord will not start with DEBUG off" in proc.stderr
    assert reason in proc.stderr
    assert "token_urlsafe" in proc.stderr


def test_debug_on_starts_on_the_development_key():
    proc = run(SETUP, operator_env(DEBUG="true"))
    assert proc.returncode == 0, proc.stderr
    assert "started" in proc.stdout


def test_check_deploy_is_clean_in_a_production_like_configuration():
    env = operator_env(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), CONCORD_HTTPS="true")
    proc = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert proc.returncode == 0, proc.stderr
    assert "no issues" in proc.stdout


def test_check_deploy_names_what_is_missing_without_https():
    env = operator_env(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50))
    proc = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert proc.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in proc.stderr


def test_production_uses_hashed_static_files_and_https_settings():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.STORAGES['staticfiles']['BACKEND'], s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER)"
    )
    env = operator_env(DEBUG="false", SECRET_KEY=secrets.token_urlsafe(50), CONCORD_HTTPS="true")
    proc = run(["-c", code], env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split(" ", 1) == [
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "True True True 31536000 ('HTTP_X_FORWARDED_PROTO', 'https')\n",
    ]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"""\son[a-z]+\s*=\s*["']""", re.I)


def test_no_template_has_an_inline_script_or_handler():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        if INLINE_SCRIPT.search(text) or INLINE_HANDLER.search(text) or "javascript:" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_without_inline_scripts(client):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in policy
    assert not INLINE_SCRIPT.search(response.content.decode())


@pytest.mark.django_db
def test_healthz_answers_without_a_session(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
