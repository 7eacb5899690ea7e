"""Single-use, expiring invitation links (pure helpers, no database).

The link carries a random token; only its SHA-256 digest is stored, so a leaked
database does not leak usable links. An invitation is usable while it is neither
used nor expired.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

DEFAULT_TTL = timedelta(days=7)
TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh URL-safe random token (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """What is stored for `token`: its SHA-256, hex."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def token_matches(token: str, digest: str) -> bool:
    return hmac.compare_digest(token_digest(token), digest or "")


def expiry(created: datetime, ttl: timedelta = DEFAULT_TTL) -> datetime:
    return created + ttl


def invitation_state(*, expires_at: datetime, used_at: datetime | None, revoked: bool = False, now: datetime) -> str:
    """'used', 'revoked', 'expired' or 'open'."""
    if used_at is not None:
        return "used"
    if revoked:
        return "revoked"
    if now >= expires_at:
        return "expired"
    return "open"
