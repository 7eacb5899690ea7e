"""axe-core (from the npm registry, `make axe`) injected into Chromium: no serious or critical violation
on the pages a team uses. The suite fails, not skips, when axe-core is missing."""

from pathlib import Path

import pytest
from django.test import TestCase
from playwright.sync_api import expect

from core import services as core_services
from labelling import services
from labelling.models import RoundItem
from taxonomy.models import Leaf, Node
from tests.factories import AnnotationFactory, ArtefactFactory, AssignmentFactory, ProjectFactory, member, team_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """axe-core is injected as a script of the test's own; the pages' Content-Security-Policy (scripts
    from Concord's files only) would refuse it, so these contexts bypass it."""
    return {**browser_context_args, "bypass_csp": True}


def violations(page) -> list[str]:
    assert AXE.exists(), f"{AXE} is missing: run `make axe` (npm install) first"
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in results["violations"]:
        if violation["impact"] in SERIOUS:
            targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


@pytest.fixture
def study(transactional_db):
    class Team:
        pass

    t = Team()
    t.project = ProjectFactory(name="DL faults", slug="dl-faults")
    t.lead = member(t.project, lead=True, moderator=True, evaluator=True, username="all-roles")
    t.moderator = t.lead
    t.evaluators = [t.lead, member(t.project, evaluator=True, username="eva2")]
    core_services.project_guidelines_set(project=t.project, user=t.lead, guidelines="Label the **cause**.")
    wrong_loss = services.label_create(
        project=t.project, user=t.lead, name="wrong loss", description="The loss is wrong"
    )
    rnd = team_round(t, n=2)
    conflict = RoundItem.objects.create(
        round=rnd, artefact=ArtefactFactory(project=t.project), status=RoundItem.Status.CONFLICT, is_conflict=True
    )
    eva3 = member(t.project, evaluator=True, username="eva3")
    for order, evaluator in enumerate([t.evaluators[1], eva3], start=1):
        AnnotationFactory(assignment=AssignmentFactory(item=conflict, evaluator=evaluator, order=order))
    model = Node.objects.create(project=t.project, code="1", name="Model")
    layers = Node.objects.create(project=t.project, parent=model, code="1.1", name="Layers")  # the tree has depth
    Node.objects.create(project=t.project, parent=layers, code="1.1.1", name="Activation")
    Leaf.objects.create(node=layers, label=wrong_loss)
    t.round, t.conflict = rnd, conflict
    t.assignment = rnd.assignments.filter(evaluator=t.lead).first()
    with TestCase.captureOnCommitCallbacks(execute=True):
        core_services.api_token_create(user=t.lead, name="script")
    return t


def test_no_serious_violations_on_the_main_pages(study, live_server, page, login):
    page.set_default_timeout(15_000)
    base, slug = live_server.url, study.project.slug
    page.goto(f"{base}/accounts/login/")
    problems = {"login": violations(page)}
    login(page, study.lead)
    pages = {
        "project list": "/",
        "dashboard": f"/p/{slug}/",
        "queue": f"/p/{slug}/queue/",
        "labelling page": f"/p/{slug}/a/{study.assignment.id}/",
        "conflicts": f"/p/{slug}/conflicts/",
        "conflict detail": f"/p/{slug}/conflicts/{study.conflict.id}/",
        "Table 1": f"/p/{slug}/stats/",
        "interviews": f"/p/{slug}/interviews/",
        "survey": f"/p/{slug}/survey/",
        "members": f"/p/{slug}/members/",
        "tokens": "/accounts/tokens/",
        "account": "/accounts/settings/",
        "notifications": "/notifications/",
    }
    for name, path in pages.items():
        response = page.goto(base + path)
        assert response.status == 200, (name, response.status)
        if name == "labelling page":
            page.locator("#codebook summary").click()
            page.locator("#codebook-categories").get_by_text("Model").wait_for()
        problems[name] = violations(page)
    assert {name: found for name, found in problems.items() if found} == {}


def test_no_serious_violations_on_the_taxonomy_tree(study, live_server, page, login):
    page.set_default_timeout(15_000)
    login(page, study.lead)
    page.goto(f"{live_server.url}/p/{study.project.slug}/taxonomy/")
    expect(page.locator("#tx-tree button.tx-toggle")).to_have_count(2)  # Model and Layers have contents
    assert violations(page) == []
    page.locator("#tx-tree button.tx-toggle").first.click()  # and collapsed
    expect(page.locator("#tx-tree a.tx-name", has_text="Layers")).to_be_hidden()
    assert violations(page) == []
