"""The whole labelling loop in Debian's Chromium: two evaluators disagree → the third finds
the artefact in their queue and disagrees too → a moderator resolves it → the lead sees the
round's progress. The escalation task runs (eagerly, on commit) inside the live server."""

import os
import re

import pytest
from playwright.sync_api import expect

from labelling import services
from labelling.models import Annotation, Assignment, Round, RoundItem
from tests.factories import ArtefactFactory, ProjectFactory, member
from tests.helpers import htmx_settled

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CONCORD_SCREENSHOTS", "/tmp/concord-screenshots")


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def as_user(new_context, login, live_server):
    """as_user(user) → a fresh logged-in page in its own browser context (own cookies)."""

    def _as(user):
        page = new_context(viewport={"width": 1280, "height": 900}).new_page()
        login(page, user)
        return page

    return _as


def test_disagree_escalate_conflict_resolve_progress(transactional_db, live_server, as_user):
    project = ProjectFactory(name="DL faults", slug="dl-faults", max_evaluators_per_artefact=3)
    lead = member(project, lead=True, username="lead")
    moderator = member(project, moderator=True, username="moderator")
    eva1, eva2, eva3 = (member(project, evaluator=True, username=f"eva{i}") for i in (1, 2, 3))
    artefact = ArtefactFactory(
        project=project,
        title="Model accuracy stuck at 10% after adding BatchNorm",
        body="<p>Training <b>never improves</b>.</p><pre><code>model.fit(x, y)</code></pre>"
        "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">",
    )
    ArtefactFactory.create_batch(3, project=project, framework="tensorflow")
    services.label_create(project=project, user=lead, name="Wrong tensor shape")
    base = live_server.url

    # --- the lead creates a round from an explicit selection on the artefact list
    page = as_user(lead)
    page.goto(f"{base}/p/{project.slug}/artefacts/?pool=pool")
    page.check(f"input[name=artefact_ids][value='{artefact.id}']")
    page.uncheck(f"#selection-form input[name=evaluators][value='{eva3.id}']")
    page.get_by_role("button", name="Create round from selection").click()
    expect(page).to_have_url(re.compile(r"/rounds/1/$"))
    expect(page.locator("h1")).to_contain_text("Round 1")
    rnd = Round.objects.get(project=project)
    assert set(rnd.assignments.values_list("evaluator__username", flat=True)) == {"eva1", "eva2"}

    # --- eva1 labels with the autocomplete and Ctrl+Enter
    page = as_user(eva1)
    page.goto(f"{base}/p/{project.slug}/queue/")
    page.click(f"text={artefact.title}")
    expect(page.locator(".artefact-title")).to_have_text(artefact.title)
    expect(page.locator(".artefact .body code")).to_have_text("model.fit(x, y)")
    page.wait_for_load_state()  # "load": the broken image has errored, its onerror would have run
    assert page.title() != "pwned" and page.locator(".artefact .body script").count() == 0
    box = page.locator("#id_label")
    box.fill("")
    box.press_sequentially("tens", delay=30)
    suggestion = page.locator("#label-suggestions button.suggestion", has_text="Wrong tensor shape")
    expect(suggestion).to_be_visible()
    shot(page, "01-label-box-suggestions")
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("Wrong tensor shape")
    page.fill("#id_note", "BatchNorm before reshape")
    box.press("Control+Enter")
    expect(page).to_have_url(re.compile(r"/queue/$"))
    expect(page.locator(".messages")).to_contain_text("Wrong tensor shape")

    # --- eva2 does not see it, and disagrees
    page = as_user(eva2)
    page.goto(f"{base}/p/{project.slug}/queue/")
    page.click(f"text={artefact.title}")
    expect(page.locator("#annotation-form")).to_be_visible()
    page.wait_for_load_state()
    assert "BatchNorm before reshape" not in page.content()
    box = page.locator("#id_label")
    with htmx_settled(page, "#label-suggestions", label="Wrong"):  # the suggestions for "Wrong" are in
        box.press_sequentially("Wrong", delay=30)
    # eva1's undecided label must not be among them: the catalogue's label once, without eva1's use
    assert page.locator("#label-suggestions").inner_text().count("Wrong tensor shape") == 1
    assert "BatchNorm" not in page.locator("#label-suggestions").inner_text()
    box.fill("Missing softmax activation")
    page.click("#submit-label")
    expect(page.locator(".messages")).to_contain_text("Missing softmax activation")

    # the escalation task ran on commit inside the live server: eva3 is the third evaluator
    item = RoundItem.objects.get(round=rnd)
    assert item.had_disagreement and item.status == RoundItem.Status.LABELLING
    third = Assignment.objects.get(item=item, order=3)
    assert third.evaluator == eva3

    # --- eva3 finds it in the queue, sees no label, and answers with a verdict by keyboard
    page = as_user(eva3)
    page.goto(f"{base}/p/{project.slug}/")
    page.get_by_role("link", name=re.compile("Continue labelling")).click()
    expect(page.locator(".artefact-title")).to_have_text(artefact.title)
    page.wait_for_load_state()
    content = page.content()
    assert "Missing softmax" not in content and "BatchNorm before reshape" not in content
    # nothing has the focus on load (a shortcut types nothing); `l` focuses the label box with its list
    # closed, ↓ opens the suggestions (the catalogue); Esc closes the list, Esc again leaves the box
    expect(page.locator("#id_label")).not_to_be_focused()
    page.keyboard.press("l")
    expect(page.locator("#id_label")).to_be_focused()
    expect(page.locator("#id_label")).to_have_value("")
    expect(page.locator("#id_label")).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#label-suggestions")).to_contain_text("Wrong tensor shape")
    expect(page.locator("#label-suggestions")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#label-suggestions")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(page.locator("#id_label")).not_to_be_focused()
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    expect(page.locator("#shortcut-help")).to_contain_text("Verdict: Unclear")
    shot(page, "02-shortcut-help")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-help")).to_be_hidden()
    page.keyboard.press("u")
    expect(page).to_have_url(re.compile(r"/queue/$"))
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and item.is_conflict

    # --- the moderator first sends it back to eva2 with a reason…
    page = as_user(moderator)
    page.goto(f"{base}/p/{project.slug}/conflicts/{item.id}/")
    page.locator("#send-back summary").click()
    page.check(f"#send-back-form input[name=evaluator_ids][value='{eva2.id}']")
    page.fill("#id_reason", "Is the softmax really missing? Check the last layer.")
    page.get_by_role("button", name="Send back", exact=True).click()
    expect(page.locator("#conflict-list")).to_contain_text("No open conflicts")  # out of the queue meanwhile
    # …eva2 finds it first in their queue with a badge and the reason, and confirms their label
    page = as_user(eva2)
    page.goto(f"{base}/p/{project.slug}/queue/")
    first = page.locator("#queue-list tbody tr").first
    expect(first).to_contain_text(artefact.title)
    expect(first.locator(".badge.sent-back")).to_have_text("Sent back")
    expect(first).to_contain_text("Check the last layer")
    first.get_by_role("link", name=artefact.title).click()
    expect(page.locator("#sent-back")).to_contain_text("Check the last layer")
    expect(page.locator("#id_label")).to_have_value("Missing softmax activation")
    assert "BatchNorm before reshape" not in page.content()  # still never another evaluator's answer
    page.click("#submit-label")
    expect(page.locator(".messages")).to_contain_text("Missing softmax activation")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT and not item.sent_back  # still no majority: back

    # --- the moderator resolves it, picking eva1's annotation
    page = as_user(moderator)
    page.goto(f"{base}/p/{project.slug}/conflicts/")
    page.click(f"text={artefact.title}")
    choices = page.locator(".annotation-choice")
    expect(choices).to_have_count(3)
    for text in ("Wrong tensor shape", "eva1", "BatchNorm before reshape", "Missing softmax activation", "eva2"):
        expect(page.locator(".side-by-side")).to_contain_text(text)
    expect(page.locator(".side-by-side")).to_contain_text("Unclear")
    shot(page, "03-conflict")
    picked = Annotation.objects.get(assignment__item=item, assignment__evaluator=eva1)
    page.check(f"input[name=annotation_id][value='{picked.id}']")
    page.fill("#id_note", "Discussed in the meeting: the reshape is the fault")
    page.get_by_role("button", name="Resolve", exact=True).click()
    expect(page.locator("#conflict-list")).to_contain_text("No open conflicts")
    page.get_by_role("link", name="Resolved", exact=True).click()
    page.click(f"text={artefact.title}")
    expect(page.locator(".resolution")).to_contain_text("Resolved by moderator")
    expect(page.locator(".resolution")).to_contain_text("Discussed in the meeting")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.RESOLVED and item.final_label.name == "Wrong tensor shape"
    assert item.resolved_by == moderator

    # --- the lead sees the round's progress
    page = as_user(lead)
    page.goto(f"{base}/p/{project.slug}/rounds/1/")
    stats = page.locator("ul.stats")
    expect(stats).to_contain_text("1 decided")
    expect(stats).to_contain_text("1 disagreement")
    expect(stats).to_contain_text("1 conflict")
    expect(page.locator("#agreement")).to_contain_text("0.0%")
    rows = page.locator("#evaluator-progress tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#evaluator-progress")).to_contain_text("eva3")
    expect(page.locator("#evaluator-progress tr", has_text="eva3").locator(".num").last).to_have_text("1")
    shot(page, "04-round-progress")

    # and the evaluators now see the decision with every annotation
    page = as_user(eva2)
    page.goto(f"{base}/p/{project.slug}/mine/")
    expect(page.locator("#my-annotations")).to_contain_text("Wrong tensor shape")
    page.click(f"text={artefact.title}")
    expect(page.locator(".labelbox")).to_contain_text("BatchNorm before reshape")
