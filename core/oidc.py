"""Single sign-on with OpenID Connect (mozilla-django-oidc), on when OIDC_RP_CLIENT_ID is set
(settings: core/sso.py).

A new user is named by the provider's `preferred_username` (else the e-mail's local part), made
unique; a returning user is found by e-mail. Project roles still come from invitations or a lead."""

from django.contrib.auth import get_user_model
from mozilla_django_oidc.auth import OIDCAuthenticationBackend


class ConcordOIDCBackend(OIDCAuthenticationBackend):
    def create_user(self, claims):
        User = get_user_model()
        email = claims.get("email", "")
        base = (claims.get("preferred_username") or email.split("@")[0] or "user").strip()[:140] or "user"
        username, n = base, 1
        while User.objects.filter(username__iexact=username).exists():
            n += 1
            username = f"{base}-{n}"
        return User.objects.create_user(username=username, email=email)
