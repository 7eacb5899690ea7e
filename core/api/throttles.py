"""Rate limits for anonymous writes (DRF throttles): per client address and per token in the URL.

Counts live in the default cache (shared by every web process when CACHE_URL is set); rates are
settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]. Reads (GET, HEAD, OPTIONS) are not counted.
"""

from types import SimpleNamespace

from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from core.security import client_ip


class _WritesOnly(SimpleRateThrottle):
    def allow_request(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().allow_request(request, view)


class AddressRateThrottle(_WritesOnly):
    """Writes per client address (the proxy's X-Forwarded-For when behind nginx)."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class UrlTokenRateThrottle(_WritesOnly):
    """Writes per token in the URL (`token` keyword): one survey's link, or one response."""

    def get_cache_key(self, request, view):
        token = (getattr(view, "kwargs", None) or {}).get("token")
        if not token:
            return None
        return self.cache_format % {"scope": self.scope, "ident": str(token)[:100]}


class SurveyAddressThrottle(AddressRateThrottle):
    scope = "survey_address"


class SurveyTokenThrottle(UrlTokenRateThrottle):
    scope = "survey_token"


SURVEY_THROTTLES = (SurveyAddressThrottle, SurveyTokenThrottle)


def survey_write_wait(request, token: str) -> float | None:
    """For the survey pages (no DRF view): None when this anonymous write may go on, else seconds to wait."""
    view = SimpleNamespace(kwargs={"token": token})
    waits = []
    for throttle_class in SURVEY_THROTTLES:
        throttle = throttle_class()
        if not throttle.allow_request(request, view):
            waits.append(throttle.wait() or 1)
    return max(waits) if waits else None
