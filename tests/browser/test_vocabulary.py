"""The vocabulary page in Debian's Chromium: the lead builds the index with the button, then
flags words from the keyboard (j/k move, r relevant, i irrelevant, c clear), each flag an
htmx row swap that moves the selection on; the matching count follows after a reload."""

import os
import re

import pytest
from playwright.sync_api import expect

from collection.models import TermFlag, VocabularyTerm
from core.models import Job
from tests.factories import ArtefactFactory, ProjectFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CONCORD_SCREENSHOTS", "/tmp/concord-screenshots")


def test_build_and_flag_word_by_word(live_server, new_context, login):
    project = ProjectFactory(name="DL faults", slug="dl-faults")
    lead = member(project, lead=True, evaluator=True, username="lead")
    # "train" in three artefacts, "nan" in two, "gpu" in one: the table's order by frequency.
    ArtefactFactory(project=project, title="Training loss is NaN", body="<p>nan after training</p>")
    ArtefactFactory(project=project, title="Model trains, loss NaN", body="")
    ArtefactFactory(project=project, title="Trained on GPU", body="<script>document.title='pwned'</script>")
    base = f"{live_server.url}/p/{project.slug}/vocabulary/"

    context = new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, lead)
        page.goto(base)
        expect(page.locator("#vocab-terms")).to_contain_text("No terms yet")
        page.get_by_role("button", name="Build the index").click()  # eager Celery: done on commit
        expect(page.locator(".messages")).to_contain_text("Indexed 3 artefacts")
        assert Job.objects.get(project=project).status == Job.Status.DONE
        rows = page.locator("#vocab-terms tr.term-row")
        expect(rows.first).to_contain_text("train")
        page.wait_for_load_state()  # any script that slipped into the page has run
        assert page.title() != "pwned"
        stems = [t.stem for t in VocabularyTerm.objects.filter(project=project).order_by("-artefact_count", "stem")]
        assert stems[0] == "train"

        page.keyboard.press("j")  # select the first word
        expect(rows.nth(0)).to_have_class(re.compile(r"\bselected\b"))
        page.keyboard.press("r")  # relevant, and on to the next word
        expect(rows.nth(0).locator("button[value=relevant]")).to_have_attribute("aria-pressed", "true")
        expect(rows.nth(1)).to_have_class(re.compile(r"\bselected\b"))
        page.keyboard.press("i")
        expect(rows.nth(1).locator("button[value=irrelevant]")).to_have_attribute("aria-pressed", "true")
        expect(rows.nth(2)).to_have_class(re.compile(r"\bselected\b"))
        page.keyboard.press("k")
        page.keyboard.press("c")  # clear my flag on the second word
        expect(rows.nth(1).locator("button[value=irrelevant]")).to_have_attribute("aria-pressed", "false")
        expect(rows.nth(1)).to_have_class(re.compile(r"\bselected\b"))

        flags = dict(TermFlag.objects.filter(user=lead).values_list("term__stem", "verdict"))
        assert flags == {stems[0]: "relevant"}
        page.reload()
        expect(page.locator("#vocab-matching-count")).to_have_text("3")  # every artefact holds "train"
        expect(page.locator("#vocab-matching")).to_contain_text("Trained on GPU")

        page.fill("#vocab-q", "nan")  # search: htmx swaps the table
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("nan")
        page.keyboard.press("Escape")
        page.keyboard.press("?")
        expect(page.locator("#shortcut-help")).to_contain_text("Flag the selected word relevant")
        os.makedirs(SHOTS, exist_ok=True)
        page.screenshot(path=os.path.join(SHOTS, "vocabulary.png"), full_page=True)
    finally:
        context.close()
