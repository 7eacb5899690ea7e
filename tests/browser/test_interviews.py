"""Interview coding in Debian's Chromium: an evaluator selects transcript text and tags it
(with the label autocomplete), both evaluators mark the interview done (blind until then),
and the moderator keeps a one-sided fragment with a moderator tag, then accepts it."""

import io
import os

import openpyxl
import pytest
from playwright.sync_api import expect

from core.models import Job
from interviews import services
from interviews.models import FinalTag, Fragment, Piece
from labelling.models import Label
from tests.factories import ProjectFactory, member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("CONCORD_SCREENSHOTS", "/tmp/concord-screenshots")


def shot(page, name):
    os.makedirs(SHOTS, exist_ok=True)
    page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=False)


@pytest.fixture
def as_user(new_context, login):
    def _as(user):
        page = new_context(viewport={"width": 1366, "height": 900}).new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        login(page, user)
        return page

    return _as


def sheet(rows) -> bytes:
    """A coding sheet in the study's layout (as the import reads it)."""
    wb = openpyxl.Workbook()
    wb.active.append(["Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", "Tag", "Status"])
    for row in rows:
        wb.active.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


SELECT = """([position, from, to]) => {
  const p = document.querySelector(`#p${position} .ptext`);
  const node = p.firstChild;
  const range = document.createRange();
  range.setStart(node, from);
  range.setEnd(node, Math.min(to, node.length));
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  p.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
  return range.toString();
}"""


def select_and_tag(page, position, start, end, tag_text):
    selected = page.evaluate(SELECT, [position, start, end])
    expect(page.locator("#tag-quote")).to_have_text(selected)
    expect(page.locator("#tag-submit")).to_be_enabled()
    page.fill("#tag-input", tag_text)
    page.click("#tag-submit")
    expect(page.locator("mark.frag.mine", has_text=selected.strip())).to_be_visible()
    return selected


def test_tag_a_selection_and_keep_a_one_sided_fragment(live_server, as_user, replication_dir):
    project = ProjectFactory(name="DL faults", slug="dl-faults")
    lead = member(project, lead=True, username="lead")
    moderator = member(project, moderator=True, username="moderator")
    eva1 = member(project, evaluator=True, username="eva1")
    eva2 = member(project, evaluator=True, username="eva2")
    Label.objects.create(project=project, name="suboptimal learning rate", in_catalogue=True)
    docx = replication_dir / "interviews" / "interview3.docx"
    interview = services.interview_create(project=project, user=lead, filename=docx.name, data=docx.read_bytes())
    services.interview_coders_set(
        interview_id=interview.id, user=lead, moderator_id=moderator.id, evaluator1_id=eva1.id, evaluator2_id=eva2.id
    )
    detail = f"{live_server.url}/interviews/{project.slug}/{interview.number}/"

    # Evaluator 1 selects words of an answer and tags them; the autocomplete offers catalogue labels.
    page = as_user(eva1)
    page.goto(detail)
    expect(page.locator("#p1 .speaker")).to_contain_text("Interviewee")
    page.fill("#tag-input", "subopt")
    expect(page.locator("#tag-options option[value='suboptimal learning rate']")).to_have_count(1)
    page.fill("#tag-input", "")
    selected = select_and_tag(page, 3, 0, 60, "background of the interviewee")
    fragment = Fragment.objects.get(coder__user=eva1)
    assert fragment.quote == selected.strip()
    assert interview.text[fragment.start : fragment.end] == fragment.quote
    expect(page.locator(f"#fragment-{fragment.id}")).to_contain_text("background of the interviewee")
    shot(page, "interviews-1-evaluator-tagged")

    # Evaluator 2 tags elsewhere and cannot see evaluator 1's fragment yet.
    page2 = as_user(eva2)
    page2.goto(detail)
    # the words eva1 tagged are on eva2's page (server-rendered, loaded), but not marked nor tagged
    expect(page2.locator("#p3 .ptext")).to_contain_text(selected.strip())
    expect(page2.locator("mark.frag")).to_have_count(0)
    expect(page2.locator("body")).not_to_contain_text("background of the interviewee")
    select_and_tag(page2, 5, 0, 40, "vocabulary size")
    page2.click("#mark-done")
    expect(page2.locator(".done-note")).to_contain_text("Waiting for the other evaluator")

    page.goto(detail)
    page.click("#mark-done")
    expect(page.locator(".done-note")).to_contain_text("Both evaluators are done")
    expect(page.locator("body")).to_contain_text("vocabulary size")  # blindness lifted after both are done
    assert Piece.objects.filter(interview=interview).count() == 2

    # The moderator keeps evaluator 1's one-sided fragment with a moderator tag.
    mod = as_user(moderator)
    mod.goto(f"{detail}moderate/")
    piece = Piece.objects.get(fragments__coder__user=eva1)
    card = mod.locator(f"#piece-{piece.id}")
    expect(card).to_contain_text("background of the interviewee")
    expect(card.locator(".badge.kind")).to_have_text("One-sided")
    card.locator("input[name=moderator_tag]").fill("interviewee background")
    card.locator("input[name=moderator_tag]").press("Enter")
    expect(card.locator(".badge.decision")).to_have_text("Kept")
    expect(card.locator("input[name=text]")).to_have_value("interviewee background")
    expect(mod.locator("#moderation-summary")).to_contain_text("kept 1")
    other = mod.locator("li.piece", has_text="vocabulary size")
    other.locator("button.discard").click()
    expect(other.locator(".badge.decision")).to_have_text("Not kept")
    expect(mod.locator("#moderation-summary")).to_contain_text("not kept 1")
    shot(mod, "interviews-2-moderator-kept")
    final = FinalTag.objects.get()
    assert final.text == "interviewee background" and final.piece.kind == "one_sided"

    # …and accepts it in the final review, with the keyboard.
    mod.goto(f"{live_server.url}/interviews/{project.slug}/review/")
    mod.locator(f"#final-{final.id}").focus()
    mod.keyboard.press("a")
    expect(mod.locator(f"#final-{final.id} .badge.review")).to_have_text("Accepted")
    expect(mod.locator("#review-counts")).to_contain_text("1 accepted")
    final.refresh_from_db()
    assert final.status == "accepted"
    shot(mod, "interviews-3-review")


def test_a_lead_uploads_a_transcript_and_a_coding_sheet_through_their_jobs(
    live_server, as_user, replication_dir, settings
):
    """Eager Celery (no worker): the upload's job runs at once and its page shows the result, or the error
    naming the file; a file over the limit is refused on the form before any job."""
    project = ProjectFactory(name="DL faults", slug="dl-faults")
    lead = member(project, lead=True, username="lead")
    page = as_user(lead)
    interviews = f"{live_server.url}/p/{project.slug}/interviews/"
    upload_form = page.locator("form[action$='/interviews/upload/']")
    sheet_form = page.locator("form[action$='/interviews/import/']")

    page.goto(interviews)
    upload_form.locator("input[name=file]").set_input_files(str(replication_dir / "interviews" / "interview3.docx"))
    upload_form.locator("button[type=submit]").click()
    expect(page.locator("#job-status")).to_have_text("Done")
    expect(page.locator("#transcript-summary")).to_contain_text("interview3.docx: interview 3")
    page.click("#open-interview")
    expect(page.locator("#p1 .speaker")).to_contain_text("Interviewee")

    page.goto(interviews)
    upload_form.locator("input[name=file]").set_input_files(
        files=[{"name": "interview4.docx", "mimeType": "application/octet-stream", "buffer": b"not a docx"}]
    )
    upload_form.locator("button[type=submit]").click()
    expect(page.locator("#job-status")).to_have_text("Failed")
    expect(page.locator("#job-error")).to_contain_text("interview4.docx: not a readable .docx file")

    page.goto(interviews)
    sheet = replication_dir / "interviews" / "interview_open_coding_1-3.xlsx"
    sheet_form.locator("input[name=file]").set_input_files(str(sheet))
    sheet_form.locator("button[type=submit]").click()
    expect(page.locator("#job-status")).to_have_text("Done")
    expect(page.locator("#import-report")).to_contain_text("Tagged pieces")
    assert Piece.objects.filter(interview__project=project).exists()
    shot(page, "interviews-0-sheet-imported")

    settings.CONCORD_UPLOAD_LIMITS = {"interview": 2048}
    page.goto(interviews)
    upload_form.locator("input[name=file]").set_input_files(
        files=[{"name": "interview5.txt", "mimeType": "text/plain", "buffer": b"Interviewer: hello\n" * 200}]
    )
    upload_form.locator("button[type=submit]").click()
    expect(page.locator("#field-file .error")).to_contain_text("the limit is 2048 bytes")
    assert not Job.objects.filter(input_name="interview5.txt").exists()


def test_review_keys_act_on_the_current_row(team, live_server, page, login):
    """j/k move between the final review's rows; a and r act on the row the user is on, not the first."""
    rows = [(1, "a", "b", "m", text, "") for text in ("first tag", "second tag", "third tag")]
    services.coding_sheet_import(project=team.project, user=team.lead, filename="s.xlsx", data=sheet(rows))
    first, second, third = FinalTag.objects.order_by("piece__position")
    login(page, team.moderator)
    page.goto(f"{live_server.url}/p/{team.project.slug}/interviews/review/")
    row = {tag.id: page.locator(f"#final-{tag.id}") for tag in (first, second, third)}

    page.keyboard.press("j")
    expect(row[first.id]).to_be_focused()
    page.keyboard.press("j")
    expect(row[second.id]).to_be_focused()
    page.keyboard.press("a")
    expect(row[second.id].locator(".badge.review")).to_have_text("Accepted")
    expect(page.locator("#review-counts")).to_contain_text("1 accepted")
    expect(row[first.id].locator(".badge.review")).to_have_text("Awaiting review")
    expect(row[second.id]).to_be_focused()  # the replaced row keeps the focus

    page.keyboard.press("j")
    expect(row[third.id]).to_be_focused()
    page.keyboard.press("r")
    expect(row[third.id].locator(".badge.review")).to_have_text("Removed")
    page.keyboard.press("k")
    page.keyboard.press("k")
    expect(row[first.id]).to_be_focused()

    # focus on a control inside a row (the third row's interview link): that row is the current one
    row[third.id].locator("td.num a").focus()
    page.keyboard.press("a")
    expect(row[third.id].locator(".badge.review")).to_have_text("Accepted")
    expect(page.locator("#review-counts")).to_contain_text("2 accepted")
    expect(row[third.id]).to_be_focused()  # the replaced row holds the focus before the next key

    # the focus leaves the table (a click on the heading): the highlighted row stays the current one
    page.keyboard.press("k")
    expect(row[second.id]).to_be_focused()
    page.locator("h1").click()
    expect(row[second.id]).not_to_be_focused()
    expect(row[second.id]).to_have_attribute("aria-current", "true")
    page.keyboard.press("r")
    expect(row[second.id].locator(".badge.review")).to_have_text("Removed")
    expect(page.locator("#review-counts")).to_contain_text("1 accepted, 1 removed")
    for tag, status in ((first, "pending"), (second, "removed"), (third, "accepted")):
        tag.refresh_from_db()
        assert tag.status == status, tag.text
