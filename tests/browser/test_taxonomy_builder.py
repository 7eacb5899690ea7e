"""The taxonomy builder in Debian's Chromium: a lead builds a three-level tree from the unmapped
labels of decided artefacts (new category, attach to a new sub-category, "move to…" by keyboard,
a sub-sub-category), sees the NN+MM counts add up the tree and in the SVG figure, meets a clear
error for an impossible move, and undoes the last change."""

import os

import pytest
from playwright.sync_api import expect

from labelling.models import RoundItem
from taxonomy.models import Leaf, Node
from tests.factories import ArtefactFactory, LabelFactory, ProjectFactory, RoundFactory, RoundItemFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CONCORD_SCREENSHOTS", "/tmp/concord-screenshots")


def decided(project, rnd, label, n):
    for _ in range(n):
        RoundItemFactory(
            round=rnd,
            artefact=ArtefactFactory(project=project),
            status=RoundItem.Status.AGREED,
            final_label=label,
            taxonomy_label=label,
        )


def test_build_three_level_tree_from_labels(transactional_db, live_server, page, login):
    project = ProjectFactory(name="DL faults", slug="dl-faults")
    lead = member(project, lead=True, username="lead")
    evaluator = member(project, evaluator=True, username="eva")
    r1 = RoundFactory(project=project, number=1, status="closed")
    r2 = RoundFactory(project=project, number=2, status="open")
    labels = {
        name: LabelFactory(project=project, name=name)
        for name in ("wrong layer type", "missing flatten", "wrong activation <relu> & co", "missing softmax")
    }
    decided(project, r1, labels["wrong layer type"], 3)
    decided(project, r1, labels["missing flatten"], 2)
    decided(project, r2, labels["wrong activation <relu> & co"], 4)
    decided(project, r2, labels["missing softmax"], 1)
    login(page, lead)
    page.goto(f"{live_server.url}/taxonomy/{project.slug}/")
    expect(page.locator("#tx-unmapped-card")).to_contain_text("wrong activation <relu> & co")

    # 1. a top-level category
    page.fill("#tx-new-name", "Model")
    page.click("#tx-new button[type=submit]")
    expect(page.locator("#tx-tree")).to_contain_text("Model")

    # 2. two labels to a new category created on the way (at the top level, moved later)
    page.locator("#tx-attach label", has_text="wrong layer type").locator("input").check()
    page.locator("#tx-attach label", has_text="missing flatten").locator("input").check()
    page.fill("#tx-attach-new", "Layers")
    page.click("#tx-attach button.primary")
    expect(page.locator("#tx-notice")).to_contain_text('Attached 2 labels to "Layers"')
    assert Node.objects.get(name="Layers").parent is None

    # 3. "move to…" with the keyboard: the panel shows Layers (just created); m focuses the menu
    expect(page.locator("#tx-panel h2")).to_contain_text("Layers")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("m")
    expect(page.locator("#tx-move-target")).to_be_focused()
    page.locator("#tx-move-target").select_option(label="Model")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#tx-notice")).to_contain_text('Moved "Layers" to "Model"')
    assert Node.objects.get(name="Layers").parent.name == "Model"

    # 4. a third level under Layers, from the panel, and a label attached to it
    page.fill("#tx-child-name", "Activation Function")
    page.click("#tx-panel form:has(#tx-child-name) button[type=submit]")
    expect(page.locator("#tx-panel h2")).to_contain_text("Activation Function")
    page.locator("#tx-attach label", has_text="wrong activation").locator("input").check()
    page.locator("#tx-attach-node").select_option(label="\u00a0" * 6 + "Activation Function")
    page.click("#tx-attach button.primary")
    # the workspace was swapped (the notice says so) before the label can be missing from the unmapped ones
    expect(page.locator("#tx-notice")).to_contain_text('Attached 1 label to "Activation Function"')
    expect(page.locator("#tx-unmapped-card")).not_to_contain_text("wrong activation")
    expect(page.locator("#tx-unmapped-card")).to_contain_text("missing softmax")

    # 5. the counts add up the tree: 4 (activation) + 3 + 2 = 9 under Model
    row = page.locator("#tx-tree .tx-row", has_text="Activation Function")
    expect(row.locator(".tx-count")).to_have_text("4+0")
    expect(page.locator("#tx-tree .tx-row", has_text="Layers").locator(".tx-count").first).to_have_text("9+0")
    expect(page.locator("#tx-tree .tx-row", has_text="Model").locator(".tx-count").first).to_have_text("9+0")
    expect(page.locator("#tx-tree .tx-leaf", has_text="wrong activation <relu> & co")).to_contain_text("4+0")

    # 6. the figure: an SVG box per category with its NN+MM; names escaped
    figure = page.locator("#tx-figure svg")
    expect(figure).to_be_visible()
    expect(figure.locator("text", has_text="Activation Function")).to_have_count(1)
    expect(figure.locator("text", has_text="wrong activation <relu> & co")).to_have_count(1)
    expect(figure.locator("g.node.top > text").nth(1)).to_have_text("9+0")

    # 7. filter by round: round 1 only has the two Layers labels
    page.select_option("#tx-round", label="Round 1")
    expect(page.locator("#tx-tree .tx-row", has_text="Model").locator(".tx-count").first).to_have_text("5+0")
    page.select_option("#tx-round", label="All rounds")
    expect(page.locator("#tx-tree .tx-row", has_text="Model").locator(".tx-count").first).to_have_text("9+0")

    # 8. an impossible move is refused with a clear message, nothing changes
    page.locator("#tx-tree a.tx-name", has_text="Model").first.click()
    expect(page.locator("#tx-panel h2")).to_contain_text("Model")
    expect(page.locator("#tx-move-target option").first).to_have_text("(top level)")  # the menu is there
    options = page.locator("#tx-move-target option").all_inner_texts()
    assert not any("Layers" in o or "Activation" in o for o in options)  # descendants are not offered
    page.fill("#tx-child-name", "layers")  # Model has a "Layers" already
    page.click("#tx-panel form:has(#tx-child-name) button[type=submit]")
    expect(page.locator("#errors")).to_contain_text('"Model" already has a category named "Layers"')
    assert Node.objects.filter(name__iexact="layers").count() == 1
    shots = os.path.join(SHOTS, "taxonomy-builder.png")
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=shots, full_page=True)
    page.screenshot(path="/tmp/taxonomy-builder.png", full_page=True)

    # 9. undo the last change (the attach): the label is unmapped again
    page.click("#tx-undo")
    expect(page.locator("#tx-unmapped-card")).to_contain_text("wrong activation <relu> & co")
    assert not Leaf.objects.filter(label=labels["wrong activation <relu> & co"]).exists()
    expect(page.locator("#tx-history")).to_contain_text("undone by lead")

    # 10. drag and drop works too: Activation Function onto Model
    page.locator("#tx-tree .tx-row", has_text="Activation Function").drag_to(
        page.locator("#tx-tree .tx-row[data-node-id]", has_text="Model").first
    )
    expect(page.locator("#tx-notice")).to_contain_text('Moved "Activation Function" to "Model"')
    assert Node.objects.get(name="Activation Function").parent.name == "Model"

    # 11. by keyboard alone: Tab reaches a category's toggle, then its link (no control inside another);
    # Enter on the toggle hides its contents (remembered on reload), Enter on the link opens it in the editor
    toggle = page.locator("#tx-tree .tx-row", has_text="Model").first.locator("button.tx-toggle")
    link = page.locator("#tx-tree .tx-row", has_text="Model").first.locator("a.tx-name")
    page.locator("#tx-q").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if toggle.evaluate("el => el === document.activeElement"):
            break
    expect(toggle).to_be_focused()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#tx-tree a.tx-name", has_text="Activation Function")).to_be_hidden()
    page.reload()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#tx-tree a.tx-name", has_text="Activation Function")).to_be_hidden()
    toggle.focus()
    page.keyboard.press(" ")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#tx-tree a.tx-name", has_text="Activation Function")).to_be_visible()
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#tx-panel h2")).to_contain_text("Model")
    page.keyboard.press("[")  # collapse all, then expand all: the toolbar's shortcuts drive the toggles
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("]")
    expect(toggle).to_have_attribute("aria-expanded", "true")

    # 12. an evaluator reads the tree but gets no editing controls
    page.context.clear_cookies()
    login(page, evaluator)
    page.goto(f"{live_server.url}/taxonomy/{project.slug}/")
    expect(page.locator("#tx-tree")).to_contain_text("Activation Function")
    # the workspace (tree, forms, history) is one server-rendered piece: with the tree came everything else
    expect(page.locator("#tx-new")).to_have_count(0)
    expect(page.locator("#tx-undo")).to_have_count(0)
