"""The validation survey in Debian's Chromium: a lead creates a survey from the taxonomy (level-1
categories via the preset), opens it and copies the link; two anonymous respondents answer through
it (one saves, comes back, fixes a refused submit, then submits); the lead sees Table 2's percentages."""

import os

import pytest
from playwright.sync_api import expect

from tests.factories import ProjectFactory, member
from tests.validation.factories import small_taxonomy
from validation.models import Response, Survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CONCORD_SCREENSHOTS", "/tmp/concord-screenshots")


def question(page, category_name):
    return page.locator("fieldset.question", has=page.locator("legend", has_text=category_name))


def test_lead_creates_respondents_answer_lead_sees_table2(transactional_db, live_server, page, new_context, login):
    os.makedirs(SHOTS, exist_ok=True)
    project = ProjectFactory(name="DL faults", slug="dl-faults")
    lead = member(project, lead=True, username="lead")
    small_taxonomy(project)  # Model (1) › Layers, Hyperparameters; Training (2)

    # --- the lead creates and opens the survey
    login(page, lead)
    page.goto(f"{live_server.url}/p/dl-faults/")
    page.get_by_role("link", name="Survey", exact=True).click()
    expect(page.locator("h1")).to_have_text("Validation surveys")
    expect(page.locator("#survey-table")).to_contain_text("No surveys yet")
    page.get_by_role("link", name="New survey").click()
    page.fill("#id_title", "Faults you met")
    picker = page.locator("#category-picker")
    expect(picker).to_contain_text("4 ticked")
    picker.get_by_role("link", name="1", exact=True).click()  # htmx: inner categories at level 1 only
    expect(picker).to_contain_text("2 ticked")  # the picker was swapped…
    expect(picker.locator("label", has_text="Layers").locator("input")).not_to_be_checked()  # …so this is the new one
    expect(picker.locator("label", has_text="Training").locator("input")).to_be_checked()
    picker.locator("label", has_text="Hyperparameters").locator("input").check()
    expect(picker).to_contain_text("3 ticked")
    picker.locator("label", has_text="Hyperparameters").locator("input").uncheck()
    expect(picker).to_contain_text("2 ticked")
    page.uncheck("#id_ask_comment")
    page.screenshot(path=f"{SHOTS}/survey-create.png", full_page=True)
    page.click("#survey-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Faults you met")
    expect(page.locator("#survey-empty")).to_contain_text("No submitted responses yet")
    page.click("#survey-open")  # htmx swaps the status card
    expect(page.locator("#survey-status-badge")).to_have_text("Open")
    link = page.locator("#share-link").input_value()
    assert link == f"{live_server.url}/survey/t/{Survey.objects.get().token}/"

    # --- respondent 1, no account: saves, comes back, is told what is missing, then submits
    anon = new_context()
    r1 = anon.new_page()
    r1.goto(link)
    expect(r1.locator("#survey-intro")).to_contain_text("2 categories")
    r1.click("#survey-start")
    model = question(r1, "Model")
    expect(model.locator(".ratings")).to_have_count(1)  # the form is there…
    expect(model.locator(".ratings")).to_be_hidden()  # …with the ratings hidden until "Yes"
    model.get_by_label("Yes").check()
    expect(model.locator(".ratings")).to_be_visible()
    model.locator("input[name$='-severity'][value='4']").check()
    expect(r1.locator("#answered-count")).to_have_text("1")
    r1.click("#survey-save")
    expect(r1.locator(".messages")).to_contain_text("Your answers are saved")
    own = r1.url
    r1.goto(link)
    r1.click("#survey-resume")  # the session remembers the response
    expect(r1).to_have_url(own)
    expect(question(r1, "Model").locator("input[name$='-severity'][value='4']")).to_be_checked()
    question(r1, "Training").get_by_label("No").check()
    r1.locator("input[name=role][value=developer]").check()
    r1.fill("#experience_years", "3")
    r1.locator("input[name=frameworks][value=Keras]").check()
    r1.fill("#missing_faults", "Silent <NaN> in custom loss")
    r1.click("#survey-submit")
    expect(r1.locator("#survey-problems")).to_contain_text("rate the effort to diagnose and fix it")
    expect(r1.locator("#missing_faults")).to_have_value("Silent <NaN> in custom loss")  # nothing lost
    question(r1, "Model").locator("input[name$='-effort'][value='2']").check()
    r1.click("#survey-submit")
    expect(r1.locator("#survey-thanks")).to_contain_text("2 of 2 categories answered")
    r1.screenshot(path=f"{SHOTS}/survey-respondent-thanks.png", full_page=True)
    anon.close()

    # --- respondent 2: Model no, Training no
    anon2 = new_context()
    r2 = anon2.new_page()
    r2.goto(link)
    r2.click("#survey-start")
    question(r2, "Model").get_by_label("No").check()
    question(r2, "Training").get_by_label("No").check()
    r2.screenshot(path=f"{SHOTS}/survey-respondent-form.png", full_page=True)
    r2.click("#survey-submit")
    expect(r2.locator("#survey-thanks")).to_be_visible()
    anon2.close()
    assert Response.objects.filter(submitted_at__isnull=False).count() == 2

    # --- the lead sees Table 2
    page.click("#survey-results a:has-text('Refresh')")  # htmx reloads the results
    table = page.locator("#table2")
    expect(page.locator("#survey-respondents")).to_have_text("2")
    model_row = table.locator("tr", has_text="Model")
    expect(model_row.locator("td.pct")).to_have_text("50.0%")
    expect(model_row).to_contain_text("4.00")  # mean severity
    expect(model_row).to_contain_text("2.00")  # mean effort
    expect(table.locator("tr", has_text="Training").locator("td.pct")).to_have_text("0.0%")
    expect(page.locator("#survey-chart svg g.bar")).to_have_count(2)
    # the results card was swapped (2 respondents, above) and has no delete button any more:
    expect(page.locator("#survey-delete")).to_have_count(0)  # people answered: close it instead
    expect(page.locator("#survey-missing")).to_contain_text("Silent <NaN> in custom loss")
    page.screenshot(path=f"{SHOTS}/survey-results.png", full_page=True)

    # --- closing refuses further answers with a clear message
    page.click("#survey-close")
    expect(page.locator("#survey-status-badge")).to_have_text("Closed")
    anon3 = new_context()
    r3 = anon3.new_page()
    r3.goto(link)
    expect(r3.locator("#survey-closed")).to_have_text("This survey is closed; it no longer accepts answers.")
    anon3.close()
