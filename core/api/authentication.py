"""Token authentication that also reads the requester's membership of the URL's project.

Every request under /api/projects/<slug>/ needs both the token's user and that user's membership
(the role permissions in labelling/permissions.py). Read apart they are two queries per request on
the labelling loop's hottest path; here one prepared read (labelling/prepared.py) returns the
user, the active membership and its project, and the membership is kept on the request for the
permission classes (`project_membership`), for this request only. When there is no such row (a bad
token, an inactive user, a non-member, a URL without a project) DRF's own token check decides, with
its usual errors, and the permission classes look the membership up themselves.
"""

from django.contrib.auth import get_user_model
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token

from core.models import Membership, Project
from core.permissions import remember_membership
from core.prepared import PreparedRead


def _build(n):
    User = get_user_model()
    return (
        [],
        f"FROM {n.table(Token)} t"
        f" INNER JOIN {n.table(User)} u ON u.{n.col(User, 'id')} = t.{n.col(Token, 'user')}"
        f" INNER JOIN {n.table(Membership)} m ON m.{n.col(Membership, 'user')} = u.{n.col(User, 'id')}"
        f" INNER JOIN {n.table(Project)} p ON p.{n.col(Project, 'id')} = m.{n.col(Membership, 'project')}"
        f" WHERE t.{n.col(Token, 'key')} = %(key)s AND p.{n.col(Project, 'slug')} = %(slug)s"
        f" AND m.{n.col(Membership, 'is_active')} AND u.{n.col(User, 'is_active')}",
    )


def _all(model) -> tuple[str, ...]:
    return tuple(f.attname for f in model._meta.concrete_fields)


_TOKEN_MEMBERSHIP = PreparedRead(
    "concord_token_membership",
    tables=(
        ("u", get_user_model(), _all(get_user_model())),
        ("m", Membership, _all(Membership)),
        ("p", Project, _all(Project)),
        ("t", Token, _all(Token)),
    ),
    params=(("key", "text"), ("slug", "text")),
    build=_build,
)


def authenticate_with_membership(request, slug: str | None) -> None:
    """Authenticate `Authorization: Token <key>` on a project URL together with the membership.

    Called before DRF's own authentication (ApiViewMixin.initial). When the token belongs to an
    active user with an active membership of the project, it sets `request.user` and `request.auth`
    as DRF's TokenAuthentication would, and keeps the membership for the permission classes; DRF's
    authentication then has nothing left to do. In every other case it does nothing, and DRF's
    authentication classes decide (401 for a bad token, 404 for a non-member, ...)."""
    if not slug:
        return
    parts = get_authorization_header(request).split()
    if len(parts) != 2 or parts[0].lower() != TokenAuthentication.keyword.lower().encode():
        return
    try:
        key = parts[1].decode()
    except UnicodeError:
        return
    found = _TOKEN_MEMBERSHIP.fetch(key=key, slug=slug)
    if found is None:
        return
    user, membership, project, token = found
    membership.user, membership.project, token.user = user, project, user
    remember_membership(request, slug, membership)
    request.user, request.auth = user, token
    request._authenticator = TokenAuthentication()  # what DRF records after a successful token check
