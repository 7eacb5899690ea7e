"""Who is asking: the client's address for sign-in lockouts and throttles (django-axes, DRF).

Behind the provided nginx (CONCORD_BEHIND_PROXY, or CONCORD_HTTPS), REMOTE_ADDR is the proxy's: the
client is the last address nginx appended to X-Forwarded-For (earlier entries come from the client and
can be forged). Otherwise REMOTE_ADDR.
"""

from django.conf import settings


def client_ip(request) -> str:
    meta = request.META
    if getattr(settings, "CONCORD_BEHIND_PROXY", False):
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-1]
    return meta.get("REMOTE_ADDR") or "unknown"
