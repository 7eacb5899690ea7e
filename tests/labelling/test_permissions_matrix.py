"""Every role × every API endpoint, with the exact status code.

Roles are single-role users: lead, moderator, evaluator; a user who is not a member
(404: others' projects do not exist for them); an anonymous request (401)."""

import pytest
from django.core.cache import cache
from django.test import TestCase
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import services as core_services
from core.models import Membership
from core.permissions import IsEvaluator, IsLead, IsModerator, IsProjectMember
from labelling import services
from labelling.models import Label, RoundItem
from tests.factories import (
    PASSWORD,
    AnnotationFactory,
    ArtefactFactory,
    AssignmentFactory,
    LabelFactory,
    UserFactory,
)

ROLES = ["lead", "moderator", "evaluator", "stranger", "anonymous"]


def codes(lead, moderator, evaluator, stranger=404, anonymous=401):
    return dict(zip(ROLES, [lead, moderator, evaluator, stranger, anonymous], strict=True))


MEMBERS = codes(200, 200, 200)
LEADS = codes(200, 403, 403)
EVALUATORS = codes(403, 403, 200)
MODERATORS = codes(403, 200, 403)

# (method, path under /api/projects/<slug>/ or absolute, body, expected codes)
MATRIX = [
    ("get", "/api/projects/", None, codes(200, 200, 200, stranger=200)),
    ("get", "", None, MEMBERS),
    ("get", "members/", None, LEADS),
    ("get", "artefacts/", None, MEMBERS),
    ("get", "artefacts/{artefact}/", None, MEMBERS),
    ("get", "rounds/", None, MEMBERS),
    ("get", "rounds/1/", None, MEMBERS),
    ("post", "rounds/", {"sample_size": 1, "evaluator_ids": "{evaluator_ids}"}, codes(201, 403, 403)),
    ("post", "rounds/1/close/", None, LEADS),
    ("get", "rounds/1/progress/", None, codes(200, 200, 403)),
    ("get", "assignments/", None, EVALUATORS),
    ("get", "assignments/next/", None, EVALUATORS),
    ("get", "assignments/{assignment}/", None, EVALUATORS),
    ("get", "assignments/{done}/annotation/", None, EVALUATORS),
    ("post", "assignments/{assignment}/annotation/", {"label": "x"}, codes(403, 403, 201)),
    ("put", "assignments/{done}/annotation/", {"verdict": "generic"}, EVALUATORS),
    ("get", "labels/", None, LEADS),
    ("post", "labels/", {"name": "catalogued"}, codes(201, 403, 403)),
    ("get", "labels/{label}/", None, LEADS),
    ("patch", "labels/{label}/", {"name": "renamed"}, LEADS),
    ("post", "labels/{label}/merge/", {"target_id": "{other_label}"}, LEADS),
    ("get", "labels/suggest/", None, MEMBERS),
    ("get", "conflicts/", None, MODERATORS),
    ("get", "conflicts/{conflict}/", None, MODERATORS),
    ("post", "conflicts/{conflict}/resolve/", {"label": "final"}, MODERATORS),
    (
        "post",
        "conflicts/{conflict}/send-back/",
        {"evaluator_ids": "{conflict_evaluators}", "reason": "Look at the stack trace again."},
        MODERATORS,
    ),
    # relevance vocabulary (flagging a term: tests/labelling/test_vocabulary_api.py)
    ("get", "vocabulary/", None, MEMBERS),
    ("get", "vocabulary/summary/", None, MEMBERS),
    ("post", "vocabulary/index/", None, codes(202, 403, 403)),
    # projects and people (issue 9)
    ("post", "/api/projects/", {"name": "New", "slug": "brand-new"}, codes(201, 201, 201, stranger=201)),
    ("post", "members/", {"username": "newbie", "roles": ["evaluator"]}, codes(201, 403, 403)),
    ("patch", "members/{eva3_membership}/", {"roles": ["evaluator", "moderator"]}, LEADS),
    ("delete", "members/{eva3_membership}/", None, LEADS),
    ("get", "invitations/", None, LEADS),
    ("post", "invitations/", {"roles": ["evaluator"]}, codes(201, 403, 403)),
    ("delete", "invitations/{invitation}/", None, codes(204, 403, 403)),
    ("get", "/api/notifications/", None, codes(200, 200, 200, stranger=200)),
    ("post", "/api/notifications/read/", None, codes(200, 200, 200, stranger=200)),
    ("get", "codebook/", None, MEMBERS),
    # the conflict's discussion: moderators, leads and the evaluators of the item (eva1 is not on it)
    ("get", "conflicts/{conflict}/discussion/", None, codes(200, 200, 403)),
    ("post", "conflicts/{conflict}/discussion/", {"body": "why?"}, codes(201, 201, 403)),
    # anyone may ask for a token with a username and password (here: the lead's)
    ("post", "/api/auth/token/", {"username": "lead", "password": PASSWORD}, codes(200, 200, 200, 200, 200)),
]


@pytest.fixture
def world(team):
    """A round of two artefacts for eva1 and eva2 (eva1 annotated one), a conflict, two labels, a pool."""
    eva1, eva2, eva3 = team.evaluators
    ArtefactFactory.create_batch(2, project=team.project)  # the pool for a new round
    in_round = ArtefactFactory.create_batch(2, project=team.project)
    rnd = services.round_create(
        project=team.project, user=team.lead, evaluator_ids=[eva1.id, eva2.id], artefact_ids=[a.id for a in in_round]
    )
    first, second = (item.assignments.get(evaluator=eva1) for item in rnd.items.order_by("id"))
    services.annotation_submit(assignment_id=first.id, user=eva1, label="seen")
    conflict = RoundItem.objects.create(
        round=rnd,
        artefact=ArtefactFactory(project=team.project),
        status=RoundItem.Status.CONFLICT,
        is_conflict=True,
        had_disagreement=True,
    )
    for order, evaluator in enumerate([eva2, eva3], start=1):
        AnnotationFactory(assignment=AssignmentFactory(item=conflict, evaluator=evaluator, order=order))
    UserFactory(username="newbie")
    invitation, _ = core_services.invitation_create(project=team.project, by=team.lead, roles=["moderator"])
    cache.clear()  # the token endpoint's throttle
    return {
        "users": {
            "lead": team.lead,
            "moderator": team.moderator,
            "evaluator": eva1,
            "stranger": UserFactory(username="stranger"),
            "anonymous": None,
        },
        "ids": {
            "artefact": in_round[0].id,
            "assignment": second.id,
            "done": first.id,
            "label": LabelFactory(project=team.project).id,
            "other_label": Label.objects.get(project=team.project, normalised="seen").id,
            "conflict": conflict.id,
            "eva3_membership": Membership.objects.get(project=team.project, user=eva3).id,
            "invitation": invitation.id,
            "evaluator_ids": [eva1.id, eva2.id],
            "conflict_evaluators": [eva2.id, eva3.id],
        },
        "slug": team.project.slug,
    }


def fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "method, path, body, expected", MATRIX, ids=[f"{m.upper()} {p or 'project'}" for m, p, _, _ in MATRIX]
)
def test_permission_matrix(world, role, method, path, body, expected):
    client = APIClient()
    user = world["users"][role]
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    url = (
        fill(path, world["ids"])
        if path.startswith("/")
        else f"/api/projects/{world['slug']}/{fill(path, world['ids'])}"
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = getattr(client, method)(url, fill(body, world["ids"]), format="json")
    assert response.status_code == expected[role], response.content


def test_every_api_route_is_in_the_matrix():
    """A new endpoint must be added to the matrix above."""
    from django.urls import get_resolver

    from concord import api_urls as urls

    covered = {p.split("{")[0].split("/")[0] for _, p, _, _ in MATRIX if not p.startswith("/")}
    registered = {prefix for prefix, _, _ in urls.project.registry}
    assert registered <= covered
    actions = {(p.rstrip("/").split("/")[-1]) for _, p, _, _ in MATRIX}
    for name in [
        "next",
        "annotation",
        "close",
        "progress",
        "merge",
        "suggest",
        "resolve",
        "send-back",
        "read",
        "token",
        "discussion",
    ]:
        assert name in actions
    assert get_resolver()  # the URLconf imports


def test_role_permissions_compose_with_or_and_and(rf, team):
    """Doccano-style composition: (IsLead | IsModerator), (IsEvaluator & IsModerator)."""
    from core.models import Membership

    both = UserFactory(username="both")
    Membership.objects.create(project=team.project, user=both, is_moderator=True, is_evaluator=True)

    class View:
        kwargs = {"project_slug": team.project.slug}

    def allowed(permission, user):
        request = rf.get("/")
        request.user = user
        return permission().has_permission(request, View())

    assert allowed(IsLead | IsModerator, team.lead) and allowed(IsLead | IsModerator, team.moderator)
    assert not allowed(IsLead | IsModerator, team.evaluators[0])
    assert allowed(IsEvaluator & IsModerator, both) and not allowed(IsEvaluator & IsModerator, team.moderator)
    assert allowed(IsProjectMember, team.evaluators[0])
    from rest_framework.exceptions import NotFound

    with pytest.raises(NotFound):
        allowed(IsLead | IsModerator, UserFactory())
    team.project.memberships.filter(user=team.lead).update(is_active=False)
    with pytest.raises(NotFound):  # an inactive member is no member
        allowed(IsLead, team.lead)
