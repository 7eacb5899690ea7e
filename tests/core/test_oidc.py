"""Single sign-on with OpenID Connect against a tiny provider started on 127.0.0.1 (tests/core/oidc_provider.py)."""

from urllib.parse import urlparse

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import clear_url_caches, include, path

from concord import urls as concord_urls
from core.sso import oidc_settings
from tests.core.oidc_provider import Provider

CLIENT_ID, SECRET = "concord", "a-shared-secret-of-enough-length-for-hs256"

urlpatterns = [path("oidc/", include("mozilla_django_oidc.urls")), *concord_urls.urlpatterns]


def test_off_unless_configured():
    assert oidc_settings({}) == {}
    on = oidc_settings({"OIDC_RP_CLIENT_ID": "x", "OIDC_OP_JWKS_ENDPOINT": "https://idp/jwks"})
    assert on["OIDC_RP_SIGN_ALGO"] == "RS256" and on["OIDC_OP_JWKS_ENDPOINT"] == "https://idp/jwks"
    assert oidc_settings({"OIDC_RP_CLIENT_ID": "x"})["OIDC_RP_SIGN_ALGO"] == "HS256"


@pytest.fixture
def provider(settings):
    claims = {"sub": "u-42", "email": "ada@example.org", "preferred_username": "ada"}
    with Provider(client_id=CLIENT_ID, client_secret=SECRET, claims=claims) as idp:
        env = {
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": SECRET,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{idp.url}/authorize",
            "OIDC_OP_TOKEN_ENDPOINT": f"{idp.url}/token",
            "OIDC_OP_USER_ENDPOINT": f"{idp.url}/userinfo",
        }
        for name, value in oidc_settings(env).items():
            setattr(settings, name, value)
        settings.OIDC_ENABLED = True
        settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "mozilla_django_oidc"]
        settings.AUTHENTICATION_BACKENDS = [
            "django.contrib.auth.backends.ModelBackend",
            "core.oidc.ConcordOIDCBackend",
        ]
        settings.ROOT_URLCONF = __name__
        clear_url_caches()
        yield idp
    clear_url_caches()


def _sign_in(client):
    start = client.get("/oidc/authenticate/")
    assert start.status_code == 302 and start["Location"].startswith(f"{urlparse(start['Location']).scheme}://")
    back = requests.get(start["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlparse(back.headers["Location"])
    assert callback.path == "/oidc/callback/"
    return client.get(f"{callback.path}?{callback.query}")


def test_sign_in_creates_the_user_and_logs_in(client, db, provider):
    done = _sign_in(client)
    assert done.status_code == 302 and done["Location"] == "/"
    user = get_user_model().objects.get(email="ada@example.org")
    assert user.username == "ada"
    assert b"ada" in client.get("/").content
    client.logout()
    assert _sign_in(client).status_code == 302  # the same user comes back
    assert get_user_model().objects.filter(email="ada@example.org").count() == 1


def test_a_tampered_state_is_refused(client, db, provider):
    start = client.get("/oidc/authenticate/")
    back = requests.get(start["Location"], allow_redirects=False, timeout=10)
    callback = urlparse(back.headers["Location"])
    query = callback.query.replace("state=", "state=x")
    response = client.get(f"{callback.path}?{query}")
    assert response.status_code in (302, 400)
    assert not get_user_model().objects.filter(email="ada@example.org").exists()
