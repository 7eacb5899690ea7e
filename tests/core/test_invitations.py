from datetime import UTC, datetime, timedelta

from core.invitations import DEFAULT_TTL, expiry, invitation_state, new_token, token_digest, token_matches

NOW = datetime(2026, 1, 10, 12, tzinfo=UTC)


def test_tokens_are_random_urlsafe_and_stored_as_digest():
    a, b = new_token(), new_token()
    assert a != b and len(a) >= 40
    assert set(a) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert token_digest(a) != a and len(token_digest(a)) == 64
    assert token_matches(a, token_digest(a))
    assert not token_matches(b, token_digest(a))
    assert not token_matches("", token_digest(a))


def test_expiry_default_one_week():
    assert expiry(NOW) - NOW == DEFAULT_TTL == timedelta(days=7)


def test_states():
    later = NOW + timedelta(days=1)
    assert invitation_state(expires_at=later, used_at=None, now=NOW) == "open"
    assert invitation_state(expires_at=NOW, used_at=None, now=NOW) == "expired"
    assert invitation_state(expires_at=later, used_at=NOW, now=NOW) == "used"
    assert invitation_state(expires_at=NOW - timedelta(days=9), used_at=NOW, now=NOW) == "used"
    assert invitation_state(expires_at=later, used_at=None, revoked=True, now=NOW) == "revoked"
