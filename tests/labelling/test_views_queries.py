"""Page query counts stay flat as data grows: every page is measured on a small project,
the data grows tenfold, and the same page must not need more queries (nor more than a fixed cap)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labelling import services
from labelling.models import Assignment, RoundItem
from tests.factories import ArtefactFactory
from tests.labelling.test_views import first_two, make_conflict, url


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def populate(team, groups: int):
    """A round over the three evaluators with `groups` artefacts in each state: agreed,
    open disagreement, open conflict, resolved conflict, untouched; plus catalogue labels."""
    artefacts = ArtefactFactory.create_batch(5 * groups, project=team.project)
    rnd = services.round_create(
        project=team.project,
        user=team.lead,
        evaluator_ids=[e.id for e in team.evaluators],
        artefact_ids=[a.id for a in artefacts],
    )
    items = list(rnd.items.order_by("id"))
    for g in range(groups):
        agreed, disagreed, conflict, resolved, _untouched = items[5 * g : 5 * g + 5]
        for a in first_two(agreed):
            services.annotation_submit(assignment_id=a.id, user=a.evaluator, label=f"agreed {g % 3}")
        a1, a2 = first_two(disagreed)
        services.annotation_submit(assignment_id=a1.id, user=a1.evaluator, label=f"left {g}")
        services.annotation_submit(assignment_id=a2.id, user=a2.evaluator, label=f"right {g}")
        services.item_escalate(item_id=disagreed.id)
        make_conflict(conflict, labels=("x", "y", "z"))
        make_conflict(resolved, labels=("p", "q", "r"))
        services.conflict_resolve(item_id=resolved.id, user=team.moderator, label=f"final {g}", note="met")
    for g in range(groups):
        services.label_create(project=team.project, user=team.lead, name=f"catalogue {rnd.number} {g}")
    return rnd


def pages(team):
    """(name, user, path) of every page, pointing at the newest data."""
    eva = team.evaluators[0]
    project = team.project
    latest = project.rounds.order_by("-number").first()
    open_assignment = (
        Assignment.objects.filter(evaluator=eva, completed_at__isnull=True, item__status="labelling")
        .order_by("-id")
        .first()
    )
    done_assignment = (
        Assignment.objects.filter(evaluator=eva, item__status__in=RoundItem.DECIDED).order_by("-id").first()
    )
    conflict = RoundItem.objects.filter(round=latest, status=RoundItem.Status.CONFLICT).order_by("-id").first()
    resolved = RoundItem.objects.filter(round=latest, status=RoundItem.Status.RESOLVED).order_by("-id").first()
    return [
        ("home", eva, url("home")),
        ("dashboard evaluator", eva, url("project", project)),
        ("dashboard lead", team.lead, url("project", project)),
        ("dashboard moderator", team.moderator, url("project", project)),
        ("queue", eva, url("queue", project)),
        ("assignment open", eva, url("assignment", project, assignment_id=open_assignment.id)),
        ("assignment decided", eva, url("assignment", project, assignment_id=done_assignment.id)),
        ("suggestions", eva, url("label_suggestions", project) + "?q=a"),
        ("my annotations", eva, url("my_annotations", project)),
        ("rounds", team.lead, url("rounds", project)),
        ("round", team.lead, url("round", project, number=latest.number)),
        ("conflicts", team.moderator, url("conflicts", project)),
        ("conflicts resolved", team.moderator, url("conflicts", project) + "?show=resolved"),
        ("conflict open", team.moderator, url("conflict", project, item_id=conflict.id)),
        ("conflict resolved", team.moderator, url("conflict", project, item_id=resolved.id)),
        ("labels", team.lead, url("labels", project)),
        ("artefacts", team.lead, url("artefacts", project)),
    ]


# A fixed ceiling per page as a guard against regressions (session and user lookups included).
CAP = 16


def measure(client, user, path):
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(ctx.captured_queries)


def test_page_query_counts_are_flat_as_data_grows(team, client, django_assert_max_num_queries):
    populate(team, 1)
    small = {name: measure(client, user, path) for name, user, path in pages(team)}
    populate(team, 10)
    populate(team, 2)  # the newest round is not the biggest: per-round pages are compared on like data
    for name, user, path in pages(team):
        client.force_login(user)
        with django_assert_max_num_queries(min(small[name], CAP), info=name):
            response = client.get(path)
        assert response.status_code == 200
    assert max(small.values()) <= CAP, small


def test_pages_hold_the_grown_data(team, client):
    """The measured pages really list the grown data (so the flat counts above mean something)."""
    populate(team, 1)
    populate(team, 10)
    client.force_login(team.moderator)
    response = client.get(url("conflicts", team.project))
    assert response.context["page"].paginator.count == 11
    client.force_login(team.lead)
    response = client.get(url("labels", team.project))
    assert response.context["page"].paginator.count > 50
    response = client.get(url("rounds", team.project))
    assert [r.items_total for r in response.context["page"].object_list] == [50, 5]
