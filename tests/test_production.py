"""concord.production: the start-up refusal and the HTTPS settings, from environment mappings."""

import pytest

from concord import production
from concord.production import StartupError

STRONG = "k3y-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMN"


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_key_with_debug_off_is_refused(key):
    with pytest.raises(StartupError) as caught:
        production.validate_startup(debug=False, secret_key=key)
    message = str(caught.value)
    assert "SECRET_KEY is not set" in message
    assert "secrets.token_urlsafe" in message and "DEBUG=true" in message


@pytest.mark.parametrize("key", sorted(production.KNOWN_DEVELOPMENT_KEYS) + ["django-insecure-" + "x" * 60])
def test_known_development_keys_are_refused(key):
    assert "development key" in production.secret_key_problem(debug=False, secret_key=key)


@pytest.mark.parametrize("key", ["short-but-random-Q7x", "a" * 80, "ab" * 40])
def test_weak_keys_are_refused_as_djangos_deploy_check_would(key):
    assert "too weak" in production.secret_key_problem(debug=False, secret_key=key)


def test_a_strong_key_starts_and_debug_accepts_anything():
    production.validate_startup(debug=False, secret_key=STRONG)
    assert production.secret_key_problem(debug=True, secret_key=None) is None
    assert production.secret_key_problem(debug=True, secret_key=production.DEVELOPMENT_SECRET_KEY) is None


def test_without_https_nothing_is_forced():
    settings = production.https_settings({})
    assert settings == {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_concord_https_turns_everything_on():
    settings = production.https_settings({"CONCORD_HTTPS": "true"})
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] == 31_536_000
    assert settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert settings["SECURE_HSTS_PRELOAD"] is True
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_each_https_setting_has_its_own_variable():
    settings = production.https_settings(
        {
            "CONCORD_HTTPS": "yes",
            "SECURE_HSTS_SECONDS": "600",
            "SECURE_HSTS_PRELOAD": "false",
            "SECURE_SSL_REDIRECT": "0",
        }
    )
    assert settings["SECURE_HSTS_SECONDS"] == 600
    assert settings["SECURE_HSTS_PRELOAD"] is False
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(("name", "value"), [("CONCORD_HTTPS", "maybe"), ("SECURE_HSTS_SECONDS", "a year")])
def test_unreadable_values_stop_start_up_naming_the_variable(name, value):
    with pytest.raises(StartupError, match=name):
        production.https_settings({name: value})


def test_env_list():
    assert production.env_list({"X": " a, b ,,c"}, "X") == ["a", "b", "c"]
    assert production.env_list({}, "X", "d,e") == ["d", "e"]
