"""Sign-in protection: lockout per account and per address (pages and the token endpoint), its expiry,
password rules, expiring and revocable API tokens, throttled anonymous survey writes."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.api.throttles import SurveyAddressThrottle, SurveyTokenThrottle
from core.security import client_ip
from tests.factories import PASSWORD, UserFactory
from tests.validation.factories import survey_with_categories

LIMIT = 5


def sign_in(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(response) -> bool:
    return response.status_code == 302


def age_attempts(minutes: int) -> None:
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=minutes))


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_an_account_is_locked_after_repeated_failures_from_any_address_until_the_cool_off(client):
    user = UserFactory()
    codes = [sign_in(client, user.username, "wrong", address=f"10.0.1.{i}").status_code for i in range(LIMIT)]
    assert codes == [200] * (LIMIT - 1) + [429]  # the failure that reaches the limit locks
    locked = sign_in(client, user.username, PASSWORD, address="10.0.2.1")
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    age_attempts(16)  # the cool-off is 15 minutes
    assert signed_in(sign_in(client, user.username, PASSWORD, address="10.0.2.1"))


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_an_address_is_locked_after_failures_on_many_accounts(client):
    victim = UserFactory()
    for i in range(LIMIT):
        sign_in(client, f"guess{i}", "wrong", address="10.9.9.9")
    assert sign_in(client, victim.username, PASSWORD, address="10.9.9.9").status_code == 429
    assert signed_in(sign_in(client, victim.username, PASSWORD, address="10.0.0.7"))


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_a_success_resets_the_count(client):
    user = UserFactory()
    for _ in range(LIMIT - 1):
        sign_in(client, user.username, "wrong")
    assert signed_in(sign_in(client, user.username, PASSWORD))
    client.logout()
    for _ in range(LIMIT - 1):
        sign_in(client, user.username, "wrong")
    assert signed_in(sign_in(client, user.username, PASSWORD))


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=LIMIT, CONCORD_BEHIND_PROXY=True)
def test_behind_the_proxy_the_forwarded_address_is_the_one_locked(client):
    user = UserFactory()
    for i in range(LIMIT):
        client.post(
            reverse("login"),
            {"username": f"guess{i}", "password": "x"},
            REMOTE_ADDR="172.18.0.5",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 10.1.1.1",
        )
    other_client = client.post(
        reverse("login"),
        {"username": user.username, "password": PASSWORD},
        REMOTE_ADDR="172.18.0.5",
        HTTP_X_FORWARDED_FOR="10.2.2.2",
    )
    assert signed_in(other_client)
    assert AccessAttempt.objects.filter(ip_address="10.1.1.1").exists()


# --- the API ---------------------------------------------------------------------------------


def token_request(client, username, password, address="10.0.0.1"):
    return client.post("/api/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=address)


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=LIMIT)
def test_the_token_endpoint_counts_failures_and_locks_too():
    client = APIClient()
    user = UserFactory()
    codes = [token_request(client, user.username, "wrong").status_code for _ in range(LIMIT)]
    assert codes == [400] * (LIMIT - 1) + [429]
    locked = token_request(client, user.username, PASSWORD)
    assert locked.status_code == 429
    assert not Token.objects.filter(user=user).exists()
    age_attempts(16)
    assert token_request(client, user.username, PASSWORD).status_code == 201


@pytest.mark.django_db
def test_a_token_is_issued_rotated_and_revoked():
    client = APIClient()
    user = UserFactory()
    first = token_request(client, user.username, PASSWORD)
    assert first.status_code == 201
    assert first.data["expires"] > timezone.now() + timedelta(days=6)
    second = token_request(client, user.username, PASSWORD).data["token"]
    assert second != first.data["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {first.data['token']}")
    assert client.get("/api/projects/").status_code == 401  # rotated away
    client.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert client.get("/api/projects/").status_code == 200
    assert client.delete("/api/token/").status_code == 204
    assert client.get("/api/projects/").status_code == 401


@pytest.mark.django_db
@override_settings(CONCORD_TOKEN_TTL=timedelta(hours=2))
def test_an_expired_token_is_refused_and_removed_on_every_path(team):
    token = Token.objects.create(user=team.evaluators[0])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    project_url = f"/api/projects/{team.project.slug}/assignments/"
    assert client.get(project_url).status_code == 200
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(hours=2, seconds=1))
    refused = client.get(project_url)  # the one-query project path
    assert refused.status_code == 401
    assert "expired" in refused.data["detail"]
    assert not Token.objects.filter(pk=token.pk).exists()
    assert client.get("/api/projects/").status_code == 401


# --- passwords -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password", "too common"),
        ("short1!", "too short"),
        ("3141592653589", "entirely numeric"),
        ("alice.lovelace", "too similar"),
    ],
)
def test_weak_passwords_are_refused(password, reason):
    user = UserFactory(username="alice.lovelace")
    with pytest.raises(ValidationError) as caught:
        validate_password(password, user)
    assert any(reason in message for message in caught.value.messages)


@pytest.mark.django_db
def test_a_long_uncommon_password_is_accepted():
    validate_password("violet-harbour-17-kites", UserFactory())


# --- anonymous survey writes -----------------------------------------------------------------


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setattr(SurveyAddressThrottle, "rate", "3/minute", raising=False)
    monkeypatch.setattr(SurveyTokenThrottle, "rate", "5/minute", raising=False)


@pytest.mark.django_db
def test_anonymous_survey_writes_are_throttled_per_address_and_per_token(low_rates):
    survey, _ = survey_with_categories(n=1)
    client = APIClient()
    url = f"/api/surveys/{survey.token}/responses/"
    assert [client.post(url, REMOTE_ADDR="10.0.0.1").status_code for _ in range(4)] == [201, 201, 201, 429]
    assert client.get(f"/api/surveys/{survey.token}/", REMOTE_ADDR="10.0.0.1").status_code == 200  # reads
    assert client.post(url, REMOTE_ADDR="10.0.0.2").status_code == 201  # another address
    assert client.post(url, REMOTE_ADDR="10.0.0.3").status_code == 429  # but the survey's token: 5 a minute
    assert survey.responses.count() == 4
    other, _ = survey_with_categories(n=1)
    assert client.post(f"/api/surveys/{other.token}/responses/", REMOTE_ADDR="10.0.0.4").status_code == 201


@pytest.mark.django_db
def test_the_survey_pages_are_throttled_too(low_rates, client):
    survey, _ = survey_with_categories(n=1)
    url = reverse("survey:take", args=[survey.token])
    codes = [client.post(url, REMOTE_ADDR="10.0.0.9").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    assert survey.responses.count() == 3


@pytest.mark.parametrize(
    ("meta", "behind_proxy", "expected"),
    [
        ({"REMOTE_ADDR": "10.0.0.1"}, False, "10.0.0.1"),
        ({"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "1.1.1.1"}, False, "10.0.0.1"),
        ({"REMOTE_ADDR": "172.18.0.2", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.1.1.1"}, True, "1.1.1.1"),
        ({"REMOTE_ADDR": "172.18.0.2", "HTTP_X_FORWARDED_FOR": "not-an-address"}, True, "172.18.0.2"),
        ({}, False, None),
        ({"REMOTE_ADDR": ""}, True, None),
    ],
)
def test_the_client_address_is_a_valid_address_or_none(meta, behind_proxy, expected, settings):
    settings.CONCORD_BEHIND_PROXY = behind_proxy
    assert client_ip(SimpleNamespace(META=meta)) == expected
