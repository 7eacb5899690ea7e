"""Projects and people from the browser and the API: creation, members, invitations, deactivation."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.test import APIClient

from core import services
from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from core.models import Invitation, Membership, Notification, Project
from labelling.models import Assignment, RoundItem
from tests.factories import PASSWORD, UserFactory, team_round


@pytest.fixture(autouse=True)
def _no_throttle_left():
    cache.clear()
    yield
    cache.clear()


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- projects ---------------------------------------------------------------------------------


def test_any_signed_in_user_creates_a_project_and_leads_it(db):
    alice = UserFactory(username="alice")
    response = api(alice).post(
        "/api/projects/", {"name": "DL faults", "slug": "dl-faults", "description": "Replication"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "dl-faults"
    assert response.json()["roles"] == ["lead"]
    assert Membership.objects.get(project__slug="dl-faults", user=alice).is_lead


def test_project_slug_and_name_checked(db):
    alice = UserFactory()
    bad = api(alice).post("/api/projects/", {"name": "X", "slug": "Not A Slug"}, format="json")
    assert bad.status_code == 400 and "slug" in bad.json()
    api(alice).post("/api/projects/", {"name": "X", "slug": "x"}, format="json")
    taken = api(alice).post("/api/projects/", {"name": "Y", "slug": "x"}, format="json")
    assert taken.status_code == 400 and "exists" in taken.json()["slug"][0]
    assert api().post("/api/projects/", {"name": "Z", "slug": "z"}, format="json").status_code in (401, 403)


def test_staff_only_creation(db, settings):
    settings.CONCORD_PROJECT_CREATORS = "staff"
    plain, staff = UserFactory(), UserFactory(is_staff=True)
    assert api(plain).post("/api/projects/", {"name": "A", "slug": "a"}, format="json").status_code == 403
    assert api(staff).post("/api/projects/", {"name": "A", "slug": "a"}, format="json").status_code == 201
    assert not Project.objects.filter(slug="a", memberships__user=plain).exists()


def test_new_project_page(client, db):
    alice = UserFactory()
    client.force_login(alice)
    home = client.get("/")
    assert b"New project" in home.content
    response = client.post("/projects/new/", {"name": "Study", "slug": "study", "description": ""})
    assert response.status_code == 302 and response["Location"] == "/p/study/members/"
    bad = client.post("/projects/new/", {"name": "Study", "slug": "study"})
    assert bad.status_code == 400 and b"exists already" in bad.content


# --- members --------------------------------------------------------------------------------


def test_members_api_add_change_and_list(team):
    newcomer = UserFactory(username="newcomer", email="new@example.org")
    client = api(team.lead)
    base = f"/api/projects/{team.project.slug}/members/"
    added = client.post(base, {"username": "new@example.org", "roles": ["evaluator", "moderator"]}, format="json")
    assert added.status_code == 201, added.content
    assert added.json()["roles"] == ["moderator", "evaluator"]
    again = client.post(base, {"username": "newcomer", "roles": ["evaluator"]}, format="json")
    assert again.status_code == 409
    unknown = client.post(base, {"username": "nobody", "roles": ["evaluator"]}, format="json")
    assert unknown.status_code == 400 and "invite" in unknown.json()["username"][0]
    bad_role = client.post(base, {"username": "newcomer", "roles": ["boss"]}, format="json")
    assert bad_role.status_code == 400
    membership_id = added.json()["id"]
    changed = client.patch(f"{base}{membership_id}/", {"roles": ["lead"]}, format="json")
    assert changed.status_code == 200 and changed.json()["member"]["roles"] == ["lead"]
    listed = client.get(base).json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert {r["user"]["username"] for r in rows} >= {"lead", "newcomer", "eva1"}
    assert Notification.objects.filter(user=newcomer, kind="membership").exists()


def test_project_keeps_one_active_lead(team):
    lead_membership = Membership.objects.get(project=team.project, user=team.lead)
    with pytest.raises(Conflict):
        services.member_change(project=team.project, by=team.lead, membership_id=lead_membership.id, active=False)
    with pytest.raises(Conflict):
        services.member_change(
            project=team.project, by=team.lead, membership_id=lead_membership.id, roles=["evaluator"]
        )
    assert Membership.objects.get(id=lead_membership.id).is_lead  # nothing written
    response = api(team.lead).delete(f"/api/projects/{team.project.slug}/members/{lead_membership.id}/")
    assert response.status_code == 409


def test_only_leads_change_members(team):
    eva_membership = Membership.objects.get(project=team.project, user=team.evaluators[0])
    with pytest.raises(NotAllowed):
        services.member_change(project=team.project, by=team.moderator, membership_id=eva_membership.id, active=False)
    with pytest.raises(NotFound):
        services.member_change(project=team.project, by=team.lead, membership_id=10**9, active=False)


def test_deactivation_moves_open_work_blind_and_never_twice(team):
    eva1, eva2, eva3 = team.evaluators
    rnd = team_round(team, n=3, evaluators=[eva1, eva2, eva3])
    leaving = eva1
    open_before = list(Assignment.objects.filter(evaluator=leaving, completed_at__isnull=True))
    assert open_before
    membership = Membership.objects.get(project=team.project, user=leaving)
    report = services.member_deactivate(project=team.project, by=team.lead, membership_id=membership.id)
    assert not Assignment.objects.filter(evaluator=leaving, completed_at__isnull=True).exists()
    assert len(report["moved"]) + len(report["to_moderators"]) == len(open_before)
    for item in rnd.items.all():
        evaluators = list(item.assignments.values_list("evaluator_id", flat=True))
        assert len(evaluators) == len(set(evaluators))  # never twice the same evaluator on an item
    for row in report["moved"]:
        assert row["to"] in {"eva2", "eva3"}


def test_deactivation_without_anyone_left_sends_to_moderators(team):
    eva1, eva2, _ = team.evaluators
    rnd = team_round(team, n=1, evaluators=[eva1, eva2])
    membership = Membership.objects.get(project=team.project, user=eva1)
    response = api(team.lead).delete(f"/api/projects/{team.project.slug}/members/{membership.id}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["member"]["is_active"] is False
    assert body["moved"] == []
    assert len(body["to_moderators"]) == 1 and "eva1 left the project" in body["to_moderators"][0]["reason"]
    item = rnd.items.get()
    assert item.status == RoundItem.Status.CONFLICT and item.is_conflict


def test_taking_the_evaluator_role_moves_work_too(team):
    eva1, eva2, eva3 = team.evaluators
    team_round(team, n=2, evaluators=[eva1, eva2, eva3])
    membership = Membership.objects.get(project=team.project, user=eva1)
    report = services.member_change(
        project=team.project, by=team.lead, membership_id=membership.id, roles=["moderator"]
    )
    assert report["membership"].is_active and not report["membership"].is_evaluator
    assert not Assignment.objects.filter(evaluator=eva1, completed_at__isnull=True).exists()


def test_members_page(client, team):
    client.force_login(team.lead)
    page = client.get(f"/p/{team.project.slug}/members/")
    assert page.status_code == 200 and b"eva1" in page.content
    UserFactory(username="zed")
    added = client.post(
        f"/p/{team.project.slug}/members/", {"action": "add", "username": "zed", "roles": ["moderator"]}
    )
    assert added.status_code == 302
    assert Membership.objects.get(project=team.project, user__username="zed").is_moderator
    client.force_login(team.evaluators[0])
    assert client.get(f"/p/{team.project.slug}/members/").status_code == 403


# --- invitations ----------------------------------------------------------------------------


def test_invitation_link_signs_up_once(client, team):
    invitation, token = services.invitation_create(project=team.project, by=team.lead, roles=["evaluator"])
    assert invitation.token_digest != token
    page = client.get(f"/invite/{token}/")
    assert page.status_code == 200 and b"Create your account" in page.content
    weak = client.post(
        f"/invite/{token}/", {"username": "newbie", "password": "12345678901", "password_again": "12345678901"}
    )
    assert weak.status_code == 400 and b"entirely numeric" in weak.content
    ok = client.post(
        f"/invite/{token}/",
        {"username": "newbie", "password": "a-long-passphrase", "password_again": "a-long-passphrase"},
    )
    assert ok.status_code == 302 and ok["Location"] == f"/p/{team.project.slug}/"
    newbie = Membership.objects.get(project=team.project, user__username="newbie")
    assert newbie.is_evaluator and not newbie.is_lead
    assert client.get(f"/invite/{token}/").status_code == 409  # single use
    assert Notification.objects.filter(user=team.lead, kind="invitation").exists()


def test_expired_revoked_and_unknown_links(client, team):
    invitation, token = services.invitation_create(project=team.project, by=team.lead, roles=["moderator"])
    Invitation.objects.filter(id=invitation.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(f"/invite/{token}/").status_code == 409
    other, other_token = services.invitation_create(project=team.project, by=team.lead, roles=["moderator"])
    services.invitation_revoke(project=team.project, by=team.lead, invitation_id=other.id)
    assert client.get(f"/invite/{other_token}/").status_code == 409
    assert client.get("/invite/not-a-token/").status_code == 404
    with pytest.raises(InvalidInput):
        services.invitation_create(project=team.project, by=team.lead, roles=[])


def test_signed_in_user_accepts_and_keeps_roles(client, team):
    _, token = services.invitation_create(project=team.project, by=team.lead, roles=["moderator"])
    eva = team.evaluators[0]
    client.force_login(eva)
    assert client.post(f"/invite/{token}/").status_code == 302
    m = Membership.objects.get(project=team.project, user=eva)
    assert m.is_moderator and m.is_evaluator


def test_invitation_api(team):
    client = api(team.lead)
    base = f"/api/projects/{team.project.slug}/invitations/"
    created = client.post(base, {"roles": ["evaluator"], "email": "x@example.org"}, format="json")
    assert created.status_code == 201
    link = created.json()["link"]
    assert "/invite/" in link
    listed = client.get(base).json()["results"]
    assert [r["email"] for r in listed] == ["x@example.org"] and "link" not in listed[0]
    assert client.delete(f"{base}{created.json()['id']}/").status_code == 204
    assert client.get(base).json()["results"] == []


def test_login_still_works_for_invited_user(client, team):
    _, token = services.invitation_create(project=team.project, by=team.lead, roles=["evaluator"])
    services.invitation_sign_up(token=token, username="pat", password="correct horse battery")
    # django-axes wants the request that signs in
    assert client.login(request=HttpRequest(), username="pat", password="correct horse battery")
    assert not client.login(request=HttpRequest(), username="pat", password=PASSWORD)
