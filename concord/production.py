"""Production settings from the environment, and the checks that stop an unsafe start-up.

Pure functions over a mapping of environment variables (os.environ in settings.py, a dict in tests):
- `secret_key_problem(debug=..., secret_key=...)`: with DEBUG off, a missing, known development,
  short or low-variety key is refused (the same rule as Django's security.W009, so `check --deploy`
  agrees);
- `validate_startup(...)` raises `StartupError` (an ImproperlyConfigured) with a message naming the
  variable to set;
- `https_settings(env)`: what CONCORD_HTTPS=true turns on (HSTS, SSL redirect, secure cookies,
  the proxy's X-Forwarded-Proto header), each overridable by its own variable.
"""

from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured

DEVELOPMENT_SECRET_KEY = "concord-insecure-development-key-change-me"
# Keys that were ever written in this repository (settings, docker-compose, Dockerfile): public, never secret.
KNOWN_DEVELOPMENT_KEYS = frozenset(
    {
        DEVELOPMENT_SECRET_KEY,
        "change-me-in-production",
        "change-me",
        "build",
        "secret",
        "dev",
    }
)
MIN_SECRET_KEY_LENGTH = 50  # Django's check --deploy (security.W009)
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5
DEFAULT_HSTS_SECONDS = 31_536_000  # one year

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}


class StartupError(ImproperlyConfigured):
    """Concord refuses to start with this configuration."""


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise StartupError(f"{name} must be true or false (it is {env.get(name)!r}).")


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise StartupError(f"{name} must be a whole number (it is {value!r}).") from None


def env_list(env: Mapping[str, str], name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env.get(name) or default).split(",") if item.strip()]


def secret_key_problem(*, debug: bool, secret_key: str | None) -> str | None:
    """Why this SECRET_KEY may not be used, or None. Any key is fine with DEBUG on."""
    if debug:
        return None
    key = secret_key or ""
    if not key.strip():
        return "SECRET_KEY is not set."
    if key in KNOWN_DEVELOPMENT_KEYS or key.startswith("django-insecure-"):
        return "SECRET_KEY is a development key written in Concord's source, known to anyone."
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS:
        return (
            f"SECRET_KEY is too weak: it needs at least {MIN_SECRET_KEY_LENGTH} characters "
            f"and {MIN_SECRET_KEY_UNIQUE_CHARACTERS} different ones."
        )
    return None


HOW_TO_FIX = (
    "Set SECRET_KEY to a long random value, for example the output of\n"
    '  python -c "import secrets; print(secrets.token_urlsafe(50))"\n'
    "or run with DEBUG=true on a development machine."
)


def startup_problems(*, debug: bool, secret_key: str | None) -> list[str]:
    problems = []
    key_problem = secret_key_problem(debug=debug, secret_key=secret_key)
    if key_problem:
        problems.append(f"{key_problem}\n{HOW_TO_FIX}")
    return problems


def validate_startup(*, debug: bool, secret_key: str | None) -> None:
    """Raise StartupError, naming every problem, if Concord must not start with these settings."""
    problems = startup_problems(debug=debug, secret_key=secret_key)
    if problems:
        raise StartupError("Concord will not start with DEBUG off:\n- " + "\n- ".join(problems))


def https_settings(env: Mapping[str, str]) -> dict:
    """Settings for serving over HTTPS (CONCORD_HTTPS=true), each overridable by its own variable.

    Behind a proxy that terminates TLS, SECURE_PROXY_SSL_HEADER trusts its X-Forwarded-Proto header:
    the proxy must set (overwrite) that header.
    """
    https = env_bool(env, "CONCORD_HTTPS", False)
    hsts_seconds = env_int(env, "SECURE_HSTS_SECONDS", DEFAULT_HSTS_SECONDS if https else 0)
    settings = {
        "SECURE_SSL_REDIRECT": env_bool(env, "SECURE_SSL_REDIRECT", https),
        "SESSION_COOKIE_SECURE": env_bool(env, "SESSION_COOKIE_SECURE", https),
        "CSRF_COOKIE_SECURE": env_bool(env, "CSRF_COOKIE_SECURE", https),
        "SECURE_HSTS_SECONDS": hsts_seconds,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": env_bool(env, "SECURE_HSTS_INCLUDE_SUBDOMAINS", hsts_seconds > 0),
        "SECURE_HSTS_PRELOAD": env_bool(env, "SECURE_HSTS_PRELOAD", hsts_seconds > 0),
        "SECURE_PROXY_SSL_HEADER": None,
    }
    if env_bool(env, "CONCORD_BEHIND_PROXY", https):
        settings["SECURE_PROXY_SSL_HEADER"] = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings
