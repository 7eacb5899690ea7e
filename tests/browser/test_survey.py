"""The validation survey in Debian's Chromium: a lead creates a survey from the taxonomy (level-1
categories via the preset, the study's scales), opens it and copies the link; two anonymous respondents
answer through it (one saves, comes back and submits without rating effort; the other skips a category
and still submits); the lead sees Table 2 in the paper's layout with that category's base reduced."""

import json
import os
from pathlib import Path

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

    # --- respondent 1, no account: saves, comes back, submits without rating effort
    anon = new_context()
    r1 = anon.new_page()
    r1.goto(link)
    expect(r1.locator("#survey-intro")).to_contain_text("2 categories")
    r1.click("#survey-start")
    model = question(r1, "Model")
    expect(model.locator(".ratings")).to_have_count(1)  # the form is there…
    expect(model.locator(".ratings")).to_be_hidden()  # …with the ratings hidden until "Yes"
    model.get_by_label("Yes", exact=True).check()
    expect(model.locator(".ratings")).to_be_visible()
    model.get_by_label("Major", exact=True).check()  # the study's severity scale, by its labels
    expect(r1.locator("#answered-count")).to_have_text("1")
    r1.click("#survey-save")
    expect(r1.locator(".messages")).to_contain_text("Your answers are saved")
    own = r1.url
    r1.goto(link)
    r1.click("#survey-resume")  # the session remembers the response
    expect(r1).to_have_url(own)
    expect(question(r1, "Model").get_by_label("Major", exact=True)).to_be_checked()
    question(r1, "Training").get_by_label("No", exact=True).check()
    r1.locator("input[name=role][value=developer]").check()
    r1.fill("#experience_years", "3")
    r1.locator("input[name=frameworks][value=Keras]").check()
    r1.fill("#missing_faults", "Silent <NaN> in custom loss")
    r1.click("#survey-submit")  # no effort rated: submitting is the respondent's choice
    expect(r1.locator("#survey-thanks")).to_contain_text("2 of 2 categories answered")
    r1.screenshot(path=f"{SHOTS}/survey-respondent-thanks.png", full_page=True)
    anon.close()

    # --- respondent 2: Model no, skips Training, submits all the same
    anon2 = new_context()
    r2 = anon2.new_page()
    r2.goto(link)
    r2.click("#survey-start")
    question(r2, "Model").get_by_label("No", exact=True).check()
    r2.screenshot(path=f"{SHOTS}/survey-respondent-form.png", full_page=True)
    r2.click("#survey-submit")
    expect(r2.locator("#survey-thanks")).to_contain_text("1 of 2 categories answered")
    anon2.close()
    assert Response.objects.filter(submitted_at__isnull=False).count() == 2

    # --- the lead sees Table 2: Training's base is the one respondent who answered it
    page.click("#survey-results a:has-text('Refresh')")  # htmx reloads the results
    table = page.locator("#table2")
    expect(page.locator("#survey-respondents")).to_have_text("2")
    model_row = table.locator("tr", has_text="Model")
    expect(model_row.locator("[data-column=encountered-yes]")).to_have_text("50%")
    expect(model_row.locator("[data-column=encountered-no]")).to_have_text("50%")
    expect(model_row.locator("[data-column=n-encountered]")).to_have_text("2")
    expect(model_row.locator("[data-column=severity-major]")).to_have_text("100%")
    expect(model_row.locator("[data-column=n-severity]")).to_have_text("1")
    expect(model_row.locator("[data-column=n-effort]")).to_have_text("0")
    expect(model_row.locator("[data-column=effort-low]")).to_have_text("–")
    training_row = table.locator("tr", has_text="Training")
    expect(training_row.locator("[data-column=n-encountered]")).to_have_text("1")
    expect(training_row.locator("[data-column=encountered-no]")).to_have_text("100%")
    expect(page.locator("#survey-chart svg g.bar")).to_have_count(2)
    # the results card was swapped (2 respondents, above) and has no delete button any more:
    expect(page.locator("#survey-delete")).to_have_count(0)  # people answered: close it instead
    expect(page.locator("#survey-missing")).to_contain_text("Silent <NaN> in custom loss")
    page.screenshot(path=f"{SHOTS}/survey-results.png", full_page=True)
    with page.expect_download() as download:
        page.locator("#survey-downloads").get_by_role("link", name="JSON").click()
    rows = {r["category"]: r for r in json.loads(Path(download.value.path()).read_text(encoding="utf-8"))["rows"]}
    assert (rows["Training"]["n_encountered"], rows["Training"]["no"], rows["Model"]["major"]) == (1, 100, 100)

    # --- closing refuses further answers with a clear message
    page.click("#survey-close")
    expect(page.locator("#survey-status-badge")).to_have_text("Closed")
    anon3 = new_context()
    r3 = anon3.new_page()
    r3.goto(link)
    expect(r3.locator("#survey-closed")).to_have_text("This survey is closed; it no longer accepts answers.")
    anon3.close()
