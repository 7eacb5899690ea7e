"""Issue 9's acceptance, in Debian's Chromium and with no command line: a fresh user signs up through
an invitation link, creates a project, invites two evaluators, a third and a moderator, imports a CSV,
writes guidelines, starts a round; both evaluators label with the codebook panel open; their
disagreement notifies the third evaluator; the moderator discusses and resolves; the lead sees it."""

import re

import pytest
from playwright.sync_api import expect

from core import services as core_services
from core.models import Membership, Notification
from labelling.models import Assignment, Round, RoundItem
from tests.factories import ProjectFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a sturdy passphrase"


@pytest.fixture
def new_page(browser):
    contexts = []

    def _new():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    yield _new
    for context in contexts:
        context.close()


def sign_up(page, link, username):
    page.goto(link)
    expect(page.locator("h1")).to_contain_text("Join")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_again", PASSWORD)
    page.get_by_role("button", name="Create account and join").click()
    expect(page.locator(".messages")).to_contain_text("Welcome")


def invite(page, role):
    page.locator("#invite-title + form").get_by_label(role.capitalize()).check()
    for other in {"lead", "moderator", "evaluator"} - {role}:
        page.locator("#invite-title + form").get_by_label(other.capitalize()).uncheck()
    page.get_by_role("button", name="Create invitation link").click()
    return page.locator("#new-link").input_value()


def label(page, base, slug, text):
    page.goto(f"{base}/p/{slug}/queue/")
    page.get_by_role("link", name="Continue labelling").click()
    expect(page.locator("#position")).to_contain_text("1 of 1 in Round 1")
    page.locator("#codebook summary").click()
    expect(page.locator("#codebook")).to_contain_text("root cause")
    expect(page.locator("#codebook-categories")).to_contain_text("No categories yet")
    box = page.locator("#id_label")
    expect(box).not_to_be_focused()
    page.keyboard.press("l")
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # the shortcut typed nothing
    box.fill(text)
    box.press("Control+Enter")
    expect(page.locator(".messages")).to_contain_text(text)


def test_a_team_starts_and_runs_a_study_without_a_terminal(live_server, new_page, tmp_path):
    base = live_server.url
    host = ProjectFactory(name="Host", slug="host")
    host_lead = member(host, lead=True, username="host-lead")
    _, token = core_services.invitation_create(project=host, by=host_lead, roles=["evaluator"])

    # --- a fresh user signs up through an invitation link and creates a project
    lead = new_page()
    sign_up(lead, f"{base}/invite/{token}/", "maria")
    lead.goto(f"{base}/")
    lead.get_by_role("link", name="New project").click()
    lead.fill("#id_name", "DL faults study")
    lead.fill("#id_slug", "dl-study")
    lead.get_by_role("button", name="Create project").click()
    expect(lead).to_have_url(re.compile(r"/p/dl-study/members/$"))
    slug = "dl-study"

    # --- invites two evaluators, a third one and a moderator; each signs up in their own browser
    pages = {}
    for username, role in [
        ("eva-a", "evaluator"),
        ("eva-b", "evaluator"),
        ("eva-c", "evaluator"),
        ("mod", "moderator"),
    ]:
        link = invite(lead, role)
        pages[username] = new_page()
        sign_up(pages[username], link, username)
    roles = {m.user.username: m for m in Membership.objects.filter(project__slug=slug).select_related("user")}
    assert roles["maria"].is_lead and roles["mod"].is_moderator and roles["eva-c"].is_evaluator
    lead.goto(f"{base}/p/{slug}/members/")
    lead.fill("#id_guidelines", "Label the **root cause**, not the symptom.")
    lead.get_by_role("button", name="Save guidelines").click()
    expect(lead.locator(".messages")).to_contain_text("Guidelines saved")

    # --- imports a CSV
    csv = tmp_path / "artefacts.csv"
    csv.write_text(
        "url,title,body\nhttps://stackoverflow.com/questions/1,Loss is NaN after a few epochs,<p>nan</p>\n"
        "https://stackoverflow.com/questions/2,Accuracy stuck at 10%,<p>stuck</p>\n",
        encoding="utf-8",
    )
    lead.goto(f"{base}/p/{slug}/import/artefacts/")
    lead.set_input_files("input[type=file]", str(csv))
    lead.get_by_role("button", name="Upload and preview").click()
    lead.locator("#mapping-form button[type=submit]").click()
    expect(lead.locator("#job-status")).to_have_text("Done", timeout=60_000)

    # --- starts a round of one artefact for eva-a and eva-b
    lead.goto(f"{base}/p/{slug}/artefacts/?pool=pool")
    lead.locator("tr", has_text="Loss is NaN").locator("input[name=artefact_ids]").check()
    lead.locator("#selection-form label", has_text="eva-c").locator("input").uncheck()
    lead.get_by_role("button", name="Create round from selection").click()
    expect(lead).to_have_url(re.compile(r"/rounds/1/$"))
    rnd = Round.objects.get(project__slug=slug)
    assert set(rnd.assignments.values_list("evaluator__username", flat=True)) == {"eva-a", "eva-b"}

    # --- both evaluators label with the codebook panel open, and disagree
    label(pages["eva-a"], base, slug, "NaN loss")
    label(pages["eva-b"], base, slug, "Learning rate too high")
    item = RoundItem.objects.get(round=rnd)
    third = Assignment.objects.get(item=item, order=3)
    assert third.evaluator.username == "eva-c"

    # --- the third evaluator is notified (the bell), follows it, and disagrees too
    eva_c = pages["eva-c"]
    eva_c.goto(f"{base}/")
    bell = eva_c.locator("a.bell")
    expect(bell).to_have_attribute("aria-label", re.compile(r"Notifications: [1-9]"))
    bell.click()
    eva_c.get_by_role("link", name=re.compile("breaks the tie")).click()
    expect(eva_c.locator(".badge.tie-break")).to_be_visible()
    assert "NaN loss" not in eva_c.content() and "Learning rate too high" not in eva_c.content()  # blind
    eva_c.locator("#id_label").fill("Missing normalisation")
    eva_c.locator("#id_label").press("Control+Enter")
    expect(eva_c.locator(".messages")).to_contain_text("Missing normalisation")
    item.refresh_from_db()
    assert item.status == RoundItem.Status.CONFLICT
    assert Notification.objects.filter(user__username="mod", kind=Notification.Kind.CONFLICT).exists()

    # --- the moderator discusses and resolves
    mod = pages["mod"]
    mod.goto(f"{base}/notifications/")
    mod.get_by_role("link", name=re.compile("conflict in Round 1")).click()
    mod.locator("#discussion-link").click()
    mod.fill("#id_body", "eva-a: is the NaN the cause or the symptom?")
    mod.get_by_role("button", name="Post").click()
    expect(mod.locator("#comments")).to_contain_text("cause or the symptom")
    eva_a = pages["eva-a"]
    eva_a.goto(f"{base}/notifications/")
    eva_a.get_by_role("link", name=re.compile("discussion of a conflict")).click()
    eva_a.fill("#id_body", "The symptom: the learning rate is the cause.")
    eva_a.get_by_role("button", name="Post").click()
    expect(eva_a.locator("#comments")).to_contain_text("learning rate is the cause")
    mod.goto(f"{base}/p/{slug}/conflicts/{item.id}/")
    picked = item.assignments.get(evaluator__username="eva-b").annotation
    mod.check(f"input[name=annotation_id][value='{picked.id}']")
    mod.fill("#id_note", "Agreed in the discussion")
    mod.get_by_role("button", name="Resolve", exact=True).click()
    item.refresh_from_db()
    assert item.status == RoundItem.Status.RESOLVED and item.final_label.name == "Learning rate too high"

    # --- the lead sees it
    lead.goto(f"{base}/p/{slug}/rounds/1/")
    expect(lead.locator("ul.stats")).to_contain_text("1 decided")
    expect(lead.locator("ul.stats")).to_contain_text("1 conflict")
