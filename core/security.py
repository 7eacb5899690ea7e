"""Who is asking: the client's address for sign-in lockouts, throttles and the audit log.

Behind the provided nginx (CONCORD_BEHIND_PROXY, or CONCORD_HTTPS), REMOTE_ADDR is the proxy's: the
client is the last address in X-Forwarded-For (nginx overwrites the header; earlier entries, from a
client, could be forged). Otherwise REMOTE_ADDR. None when there is no valid address (the test client's
force_login, a unix socket): the address columns are IP address columns.
"""

import ipaddress

from django.conf import settings


def _valid(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    meta = request.META
    if getattr(settings, "CONCORD_BEHIND_PROXY", False):
        forwarded = [part for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded and (address := _valid(forwarded[-1])):
            return address
    return _valid(meta.get("REMOTE_ADDR") or "")
