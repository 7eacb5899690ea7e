"""Token authentication that also reads the requester's membership of the URL's project.

Every request under /api/projects/<slug>/ needs both the token's user and that user's membership
(the role permissions in core/permissions.py). Read apart they are two queries per request on
the labelling loop's hottest path; here one prepared read (core.prepared) returns the
user, the active membership and its project, and the membership is kept on the request for the
permission classes (`project_membership`), for this request only. When there is no such row (a bad
token, an inactive user, a non-member, a URL without a project) DRF's own token check decides, with
its usual errors, and the permission classes look the membership up themselves.

Two kinds of token are accepted under the same `Authorization: Token <key>` header: the named
tokens users create on their tokens page (core.ApiToken, keys starting `cc_`, several per user,
each recording when it was last used, revoked on that page) and the session token of
`POST /api/token/` (DRF's token, one per user, expiring after CONCORD_TOKEN_TTL, revoked by DELETE).
The key's prefix says which table to read, so either costs one read.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

from core import selectors, services
from core.models import ApiToken, Membership, Project
from core.permissions import PROJECT_KWARG, remember_membership
from core.prepared import PreparedRead

API_TOKEN_PREFIX = ApiToken.PREFIX
# last_used_at is written at most this often per token (not on every request of the labelling loop).
LAST_USED_GRANULARITY = timedelta(minutes=5)


def _build_with(token_model):
    def build(n):
        User = get_user_model()
        T = token_model
        return (
            [],
            f"FROM {n.table(T)} t"
            f" INNER JOIN {n.table(User)} u ON u.{n.col(User, 'id')} = t.{n.col(T, 'user')}"
            f" INNER JOIN {n.table(Membership)} m ON m.{n.col(Membership, 'user')} = u.{n.col(User, 'id')}"
            f" INNER JOIN {n.table(Project)} p ON p.{n.col(Project, 'id')} = m.{n.col(Membership, 'project')}"
            f" WHERE t.{n.col(T, 'key')} = %(key)s AND p.{n.col(Project, 'slug')} = %(slug)s"
            f" AND m.{n.col(Membership, 'is_active')} AND u.{n.col(User, 'is_active')}",
        )

    return build


_build = _build_with(Token)


def _token_membership_orm(*, key, slug):
    """The ORM equivalent of the statement below: [(user, membership, project, token)] or []."""
    membership = (
        Membership.objects.filter(user__auth_token__key=key, project__slug=slug, is_active=True, user__is_active=True)
        .select_related("user__auth_token", "project")
        .order_by()
        .first()
    )
    if membership is None:
        return []
    return [(membership.user, membership, membership.project, membership.user.auth_token)]


def _all(model) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


TOKEN_MEMBERSHIP = PreparedRead(
    "concord_token_membership",
    orm=_token_membership_orm,
    tables=(
        ("u", get_user_model(), _all(get_user_model())),
        ("m", Membership, _all(Membership)),
        ("p", Project, _all(Project)),
        ("t", Token, _all(Token)),
    ),
    params=(("key", "text"), ("slug", "text")),
    build=_build,
)


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing (and removing) a token older than settings.CONCORD_TOKEN_TTL."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if selectors.token_is_expired(token=token):
            services.token_expire(token=token)
            raise AuthenticationFailed("The token has expired; ask for a new one (POST /api/token/).")
        return user, token


def _api_token_membership_orm(*, key, slug):
    """The ORM equivalent of API_TOKEN_MEMBERSHIP: [(user, membership, project, token)] or []."""
    token = ApiToken.objects.filter(key=key, user__is_active=True).select_related("user").first()
    if token is None:
        return []
    membership = (
        Membership.objects.filter(user=token.user, project__slug=slug, is_active=True)
        .select_related("project")
        .order_by()
        .first()
    )
    if membership is None:
        return []
    return [(token.user, membership, membership.project, token)]


API_TOKEN_MEMBERSHIP = PreparedRead(
    "concord_api_token_membership",
    orm=_api_token_membership_orm,
    tables=(
        ("u", get_user_model(), _all(get_user_model())),
        ("m", Membership, _all(Membership)),
        ("p", Project, _all(Project)),
        ("t", ApiToken, _all(ApiToken)),
    ),
    params=(("key", "text"), ("slug", "text")),
    build=_build_with(ApiToken),
)


def api_token_touch(token: ApiToken) -> None:
    """Record that `token` was used now (at most once per LAST_USED_GRANULARITY)."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_GRANULARITY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token cc_…`: a named token of the tokens page. Other keys are left to the
    authentication classes listed after this one (DRF's TokenAuthentication)."""

    model = ApiToken

    def authenticate_credentials(self, key):
        if not key.startswith(API_TOKEN_PREFIX):
            return None
        token = ApiToken.objects.select_related("user").filter(key=key).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid token.")
        api_token_touch(token)
        return token.user, token


class ProjectTokenAuthentication(ExpiringTokenAuthentication):
    """`Authorization: Token <key>`; on a project URL the user, the token and the active membership are
    read in one query, and the membership is kept for this request's permission checks.

    When there is no such row (a bad token, an inactive user, a non-member) DRF's own token check
    decides, with its usual answers (401 for a bad token; the permission classes then give 404 to a
    non-member)."""

    def authenticate(self, request):
        slug = ((request.parser_context or {}).get("kwargs") or {}).get(PROJECT_KWARG)
        parts = get_authorization_header(request).split()
        if not slug or len(parts) != 2 or parts[0].lower() != self.keyword.lower().encode():
            return super().authenticate(request)
        try:
            key = parts[1].decode()
        except UnicodeError:
            return super().authenticate(request)
        named = key.startswith(API_TOKEN_PREFIX)
        found = (API_TOKEN_MEMBERSHIP if named else TOKEN_MEMBERSHIP).fetch(key=key, slug=slug)
        if found is None:
            return super().authenticate(request)
        user, membership, project, token = found
        if not named and selectors.token_is_expired(token=token):
            return super().authenticate(request)  # 401, and the token is removed
        membership.user, membership.project, token.user = user, project, user
        remember_membership(request, slug, membership)
        if named:
            api_token_touch(token)
        return user, token

    def authenticate_credentials(self, key):
        if key.startswith(API_TOKEN_PREFIX):
            return ApiTokenAuthentication().authenticate_credentials(key)
        return super().authenticate_credentials(key)
