"""Accounts: password change and reset by e-mail, named API tokens, POST /api/auth/token/."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from core import services
from core.models import ApiToken
from tests.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def test_token_endpoint_returns_a_working_named_token(team):
    response = APIClient().post("/api/auth/token/", {"username": "eva1", "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    key = response.json()["token"]
    assert key.startswith("cc_")
    token = ApiToken.objects.get(key=key)
    assert token.user == team.evaluators[0] and token.last_used_at is None
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/projects/").status_code == 200
    assert client.get(f"/api/projects/{team.project.slug}/assignments/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_token_endpoint_refuses_wrong_passwords_and_is_throttled(team):
    client = APIClient()
    answers = [
        client.post("/api/auth/token/", {"username": "eva1", "password": "wrong"}, format="json").status_code
        for _ in range(12)
    ]
    assert answers[0] == 400
    assert 429 in answers
    assert not ApiToken.objects.exists()


def test_revoked_named_token_is_401(team):
    token = services.api_token_create(user=team.lead, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(f"/api/projects/{team.project.slug}/members/").status_code == 200
    services.api_token_revoke(user=team.lead, token_id=token.id)
    assert client.get(f"/api/projects/{team.project.slug}/members/").status_code == 401
    assert client.get("/api/projects/").status_code == 401


def test_last_used_written_at_most_every_few_minutes(team):
    token = services.api_token_create(user=team.lead, name="script")
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(id=token.id).update(last_used_at=recent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.get("/api/projects/")
    token.refresh_from_db()
    assert token.last_used_at == recent
    ApiToken.objects.filter(id=token.id).update(last_used_at=timezone.now() - timedelta(hours=1))
    client.get(f"/api/projects/{team.project.slug}/members/")
    token.refresh_from_db()
    assert timezone.now() - token.last_used_at < timedelta(minutes=1)


def test_tokens_page_create_list_revoke(client, db):
    user = UserFactory(username="tess")
    other = services.api_token_create(user=UserFactory(), name="not mine")
    client.force_login(user)
    created = client.post("/accounts/tokens/", {"action": "create", "name": "laptop"})
    assert created.status_code == 200
    token = ApiToken.objects.get(user=user)
    assert token.name == "laptop" and token.key.encode() in created.content
    listing = client.get("/accounts/tokens/")
    assert b"laptop" in listing.content and token.key.encode() not in listing.content  # shown once
    assert b"not mine" not in listing.content
    assert client.post("/accounts/tokens/", {"action": "revoke", "token": other.id}).status_code == 404
    assert ApiToken.objects.filter(id=other.id).exists()
    assert client.post("/accounts/tokens/", {"action": "revoke", "token": token.id}).status_code == 302
    assert not ApiToken.objects.filter(user=user).exists()
    assert client.post("/accounts/tokens/", {"action": "create", "name": ""}).status_code == 400


def test_password_change(client, db):
    user = UserFactory(username="pat")
    client.force_login(user)
    form = {"old_password": PASSWORD, "new_password1": "pat12345", "new_password2": "pat12345"}
    weak = client.post("/accounts/password_change/", form)
    assert weak.status_code == 200 and b"too short" in weak.content
    good = "a sturdy passphrase"
    form = {"old_password": PASSWORD, "new_password1": good, "new_password2": good}
    assert client.post("/accounts/password_change/", form).status_code == 302
    user.refresh_from_db()
    assert user.check_password(good)


def test_password_reset_by_email(client, db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    user = UserFactory(username="rita", email="rita@example.org")
    assert client.post("/accounts/password_reset/", {"email": "rita@example.org"}).status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert b"Choose a new password" in form_page.content
    new = "another sturdy passphrase"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
    assert b"not valid any more" in client.get(link, follow=True).content


def test_named_token_statement_matches_its_orm_equivalent(team):
    from core.api.authentication import API_TOKEN_MEMBERSHIP

    token = services.api_token_create(user=team.evaluators[0], name="script")
    outsider_token = services.api_token_create(user=UserFactory(), name="other")
    for key, slug in [
        (token.key, team.project.slug),
        (token.key, "no-such-project"),
        (outsider_token.key, team.project.slug),
        ("cc_unknown", team.project.slug),
    ]:
        fetched = API_TOKEN_MEMBERSHIP.fetch_all(key=key, slug=slug)
        expected = API_TOKEN_MEMBERSHIP.orm(key=key, slug=slug)
        assert [[obj.pk for obj in row] for row in fetched] == [[obj.pk for obj in row] for row in expected]
    assert len(API_TOKEN_MEMBERSHIP.fetch_all(key=token.key, slug=team.project.slug)) == 1


def test_named_token_on_a_project_url_is_one_read(team, django_assert_num_queries):
    token = services.api_token_create(user=team.evaluators[0], name="script")
    ApiToken.objects.filter(id=token.id).update(last_used_at=timezone.now())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    with django_assert_num_queries(2):  # the token with the membership, then the next assignment
        assert client.get(f"/api/projects/{team.project.slug}/assignments/next/").status_code in (200, 204)
