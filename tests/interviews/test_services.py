from types import SimpleNamespace

import pytest
from django.db import connection

from core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from interviews import alignment, selectors, services
from interviews.models import FinalTag, Fragment, Interview, InterviewCoder, Piece
from tests.factories import member
from tests.helpers import in_threads
from tests.interviews.factories import PARAGRAPHS, span, tag, upload

pytestmark = pytest.mark.django_db


# --- transcripts --------------------------------------------------------------------------------


def test_upload_keeps_paragraphs_and_speakers_with_offsets_into_the_text(team):
    interview = upload(team.project, team.lead, number=4, interviewee_profile="ML engineer, 5 years", duration="45 min")
    assert interview.number == 4 and interview.has_transcript
    rows = selectors.paragraphs(interview=interview)
    assert [(r["speaker"], r["text"]) for r in rows] == PARAGRAPHS
    for row in rows:
        assert interview.text[row["start"] : row["end"]] == row["text"]
    assert interview.duration.total_seconds() == 45 * 60
    assert interview.stage == Interview.Stage.NEW


def test_upload_number_comes_from_the_file_name_and_attaches_to_an_imported_record(team):
    record = Interview.objects.create(project=team.project, number=7, coding_source=Interview.Source.IMPORT)
    interview = services.interview_create(
        project=team.project, user=team.lead, filename="Interview7.txt", data=b"A: hello there\n\nB: hi"
    )
    assert interview.id == record.id and interview.has_transcript


def test_second_upload_needs_replace_and_is_refused_after_tagging(coding):
    with pytest.raises(Conflict) as error:
        upload(coding.project, coding.lead, number=1)
    assert error.value.field == "number"
    tag(coding.interview, coding.eva1, "learning rate was too high", "suboptimal learning rate")
    with pytest.raises(Conflict) as error:
        upload(coding.project, coding.lead, number=1, replace=True)
    assert "fragments" in error.value.message
    assert Fragment.objects.count() == 1


def test_only_leads_upload_and_non_members_get_404(team):
    with pytest.raises(NotAllowed):
        upload(team.project, team.evaluators[0])
    outsider = member(team.project.__class__.objects.create(name="Other", slug="other"), lead=True)
    with pytest.raises(NotFound):
        upload(team.project, outsider)
    assert not Interview.objects.exists()


def test_empty_or_unreadable_file_is_a_clear_error_and_nothing_is_written(team):
    with pytest.raises(InvalidInput) as error:
        services.interview_create(project=team.project, user=team.lead, filename="interview1.txt", data=b"")
    assert "empty" in error.value.message and error.value.field == "file"
    with pytest.raises(InvalidInput) as error:
        services.interview_create(project=team.project, user=team.lead, filename="i1.docx", data=b"not a zip")
    assert "i1.docx" in error.value.message
    assert not Interview.objects.exists()


# --- coders ----------------------------------------------------------------------------------------


def test_moderator_cannot_be_an_evaluator_of_the_same_interview(team):
    interview = upload(team.project, team.lead)
    eva1, eva2, _ = team.evaluators
    both = member(team.project, moderator=True, evaluator=True, username="both")
    with pytest.raises(InvalidInput) as error:
        services.interview_coders_set(
            interview_id=interview.id,
            user=team.lead,
            moderator_id=both.id,
            evaluator1_id=both.id,
            evaluator2_id=eva2.id,
        )
    assert error.value.field == "moderator"
    with pytest.raises(InvalidInput) as error:
        services.interview_coders_set(
            interview_id=interview.id,
            user=team.lead,
            moderator_id=both.id,
            evaluator1_id=eva1.id,
            evaluator2_id=eva1.id,
        )
    assert error.value.field == "evaluator2"
    with pytest.raises(InvalidInput) as error:  # the moderator role is needed
        services.interview_coders_set(
            interview_id=interview.id,
            user=team.lead,
            moderator_id=eva1.id,
            evaluator1_id=both.id,
            evaluator2_id=eva2.id,
        )
    assert error.value.field == "moderator"
    assert not InterviewCoder.objects.exists()


def test_the_database_refuses_a_moderator_who_evaluates_too(coding):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        InterviewCoder.objects.create(interview=coding.interview, user=coding.moderator, role="evaluator", slot=2)


def test_an_evaluator_with_fragments_cannot_be_replaced(coding):
    tag(coding.interview, coding.eva1, "learning rate", "suboptimal learning rate")
    with pytest.raises(Conflict) as error:
        services.interview_coders_set(
            interview_id=coding.interview.id,
            user=coding.lead,
            moderator_id=coding.moderator.id,
            evaluator1_id=coding.eva3.id,
            evaluator2_id=coding.eva2.id,
        )
    assert error.value.field == "evaluator1"
    # Replacing the other (who has no fragments) is fine and keeps evaluator 1.
    services.interview_coders_set(
        interview_id=coding.interview.id,
        user=coding.lead,
        moderator_id=coding.moderator.id,
        evaluator1_id=coding.eva1.id,
        evaluator2_id=coding.eva3.id,
    )
    coders = selectors.interview_coders(interview=coding.interview)
    assert coders["evaluators"][1].user == coding.eva1 and coders["evaluators"][2].user == coding.eva3
    assert Fragment.objects.get().coder.user == coding.eva1


# --- fragments -------------------------------------------------------------------------------------


def test_fragment_is_trimmed_and_quotes_the_text(coding):
    start, end = span(coding.interview, "learning rate")
    fragment = services.fragment_create(
        interview_id=coding.interview.id,
        user=coding.eva1,
        start=start - 1,
        end=end + 1,
        tag="  Suboptimal  learning rate ",
    )
    assert (fragment.start, fragment.end, fragment.quote) == (start, end, "learning rate")
    assert fragment.tag == "Suboptimal learning rate" and fragment.normalised == "suboptimal learning rate"


@pytest.mark.parametrize("start,end", [(-1, 5), (0, 10_000), (30, 30), (40, 20)])
def test_fragment_outside_the_text_is_refused(coding, start, end):
    with pytest.raises(InvalidInput) as error:
        services.fragment_create(interview_id=coding.interview.id, user=coding.eva1, start=start, end=end, tag="x")
    assert error.value.field in ("start", "end")
    assert "outside the transcript" in error.value.message
    assert not Fragment.objects.exists()


def test_overlapping_fragments_with_the_same_tag_by_one_evaluator_are_refused_naming_the_other(coding):
    first = tag(coding.interview, coding.eva1, "learning rate was too high", "suboptimal learning rate")
    with pytest.raises(InvalidInput) as error:
        tag(coding.interview, coding.eva1, "too high, so the loss", "Suboptimal learning rate.")
    assert f"#{first.id}" in error.value.message and error.value.code == "overlap_same_tag"
    # A different tag on overlapping text is fine, and so is the same tag by the other evaluator.
    tag(coding.interview, coding.eva1, "too high, so the loss", "exploding loss")
    tag(coding.interview, coding.eva2, "too high, so the loss", "suboptimal learning rate")
    # Editing into an overlap is refused too, and the fragment is unchanged.
    other = tag(coding.interview, coding.eva1, "after a few epochs", "suboptimal learning rate")
    with pytest.raises(InvalidInput):
        services.fragment_update(fragment_id=other.id, user=coding.eva1, start=first.start)
    other.refresh_from_db()
    assert other.quote == "after a few epochs"
    assert Fragment.objects.count() == 4


def test_only_the_author_edits_or_removes_a_fragment(coding):
    fragment = tag(coding.interview, coding.eva1, "learning rate", "suboptimal learning rate")
    with pytest.raises(NotAllowed):
        services.fragment_update(fragment_id=fragment.id, user=coding.eva2, tag="x")
    with pytest.raises(NotAllowed):
        services.fragment_delete(fragment_id=fragment.id, user=coding.moderator)
    updated = services.fragment_update(fragment_id=fragment.id, user=coding.eva1, tag="high learning rate", note="n")
    assert updated.tag == "high learning rate" and updated.history[0]["tag"] == "suboptimal learning rate"
    services.fragment_delete(fragment_id=fragment.id, user=coding.eva1)
    assert not Fragment.objects.exists()


def test_moderator_and_others_cannot_tag(coding):
    start, end = span(coding.interview, "learning rate")
    for user in (coding.moderator, coding.eva3, coding.lead):
        with pytest.raises(NotAllowed):
            services.fragment_create(interview_id=coding.interview.id, user=user, start=start, end=end, tag="x")


# --- blindness ------------------------------------------------------------------------------------------


def _visible(interview, user):
    return {f.tag for f in selectors.visible_fragments(interview=interview, user=user)}


def test_neither_evaluator_sees_the_others_fragments_until_both_are_done(coding):
    interview = coding.interview
    tag(interview, coding.eva1, "learning rate", "suboptimal learning rate")
    tag(interview, coding.eva2, "not have enough training data", "small training set")
    assert _visible(interview, coding.eva1) == {"suboptimal learning rate"}
    assert _visible(interview, coding.eva2) == {"small training set"}
    assert _visible(interview, coding.moderator) == set()
    services.coding_done(interview_id=interview.id, user=coding.eva1)
    assert _visible(interview, coding.eva1) == {"suboptimal learning rate"}  # the other is not done yet
    assert _visible(interview, coding.moderator) == set()
    services.coding_done(interview_id=interview.id, user=coding.eva2)
    assert (
        _visible(interview, coding.eva1)
        == _visible(interview, coding.moderator)
        == {
            "suboptimal learning rate",
            "small training set",
        }
    )


def test_suggestions_never_offer_the_other_evaluators_tags(coding):
    tag(coding.interview, coding.eva2, "not have enough training data", "small training set")
    tag(coding.interview, coding.eva1, "learning rate", "suboptimal learning rate")
    names = {s["name"] for s in selectors.tag_suggestions(project=coding.project, user=coding.eva1, query="s")}
    assert "suboptimal learning rate" in names and "small training set" not in names
    services.coding_done(interview_id=coding.interview.id, user=coding.eva1)
    services.coding_done(interview_id=coding.interview.id, user=coding.eva2)
    piece = Piece.objects.get(evaluator2_tag="small training set")
    services.piece_keep(piece_id=piece.id, user=coding.moderator, moderator_tag="not enough training data")
    names = {s["name"] for s in selectors.tag_suggestions(project=coding.project, user=coding.eva3, query="training")}
    assert names == {"not enough training data"}  # a kept final tag is decided: offered to everyone


def test_done_freezes_fragments_and_reopen_works_only_before_the_other_is_done(coding):
    interview = coding.interview
    fragment = tag(interview, coding.eva1, "learning rate", "suboptimal learning rate")
    services.coding_done(interview_id=interview.id, user=coding.eva1)
    with pytest.raises(Conflict):
        services.fragment_update(fragment_id=fragment.id, user=coding.eva1, tag="x")
    services.coding_reopen(interview_id=interview.id, user=coding.eva1)
    services.fragment_update(fragment_id=fragment.id, user=coding.eva1, tag="high learning rate")
    services.coding_done(interview_id=interview.id, user=coding.eva1)
    services.coding_done(interview_id=interview.id, user=coding.eva2)
    with pytest.raises(Conflict):
        services.coding_reopen(interview_id=interview.id, user=coding.eva1)
    with pytest.raises(Conflict):
        services.coding_done(interview_id=interview.id, user=coding.eva2)


# --- alignment ---------------------------------------------------------------------------------------------


def F(start, end, tag):
    return SimpleNamespace(start=start, end=end, normalised=tag)


def test_align_agreement_conflict_and_one_sided():
    a1, a2, a3 = F(0, 10, "x"), F(20, 30, "y"), F(50, 60, "z")
    b1, b2, b3 = F(5, 12, "x"), F(25, 35, "w"), F(70, 80, "v")
    groups = alignment.align([a1, a2, a3], [b1, b2, b3])
    assert [(g.kind, g.first, g.second) for g in groups] == [
        ("agreement", [a1], [b1]),
        ("conflict", [a2], [b2]),
        ("one_sided", [a3], []),
        ("one_sided", [], [b3]),
    ]


def test_align_touching_spans_do_not_overlap_and_every_fragment_lands_once():
    a = [F(0, 10, "x"), F(0, 10, "q"), F(40, 100, "x")]
    b = [F(10, 20, "x"), F(5, 8, "x"), F(50, 60, "r"), F(90, 95, "x")]
    groups = alignment.align(a, b)
    placed = [id(f) for g in groups for f in g.fragments]
    assert sorted(placed) == sorted(id(f) for f in a + b)
    kinds = [(g.kind, len(g.first), len(g.second)) for g in groups]
    # a[0] & b[1] agree on x; a[1] (q) overlaps only b[1], whose x is matched: one-sided.
    # a[2] & b[3] agree on x; b[2] (r) overlaps a[2], whose x is matched: one-sided. b[0] touches a[0]: one-sided.
    assert kinds == [
        ("agreement", 1, 1),
        ("one_sided", 1, 0),
        ("one_sided", 0, 1),
        ("agreement", 1, 1),
        ("one_sided", 0, 1),
    ]


def test_both_done_aligns_fragments_into_pieces(coding):
    interview = coding.interview
    tag(interview, coding.eva1, "learning rate was too high", "suboptimal learning rate")
    tag(interview, coding.eva2, "the learning rate was too high", "Suboptimal learning rate")
    tag(interview, coding.eva1, "not have enough training data", "not enough training data")
    tag(interview, coding.eva2, "enough training data", "small training set")
    tag(interview, coding.eva2, "labels were noisy", "noisy labels")
    services.coding_done(interview_id=interview.id, user=coding.eva1)
    assert not Piece.objects.exists()
    services.coding_done(interview_id=interview.id, user=coding.eva2)
    interview.refresh_from_db()
    assert interview.stage == Interview.Stage.MODERATION
    pieces = list(selectors.moderation_pieces(interview=interview))
    assert [(p.kind, p.evaluator1_tag, p.evaluator2_tag) for p in pieces] == [
        ("agreement", "suboptimal learning rate", "Suboptimal learning rate"),
        ("conflict", "not enough training data", "small training set"),
        ("one_sided", "", "noisy labels"),
    ]
    assert all(len(p.fragments.all()) >= 1 for p in pieces)
    assert not Fragment.objects.filter(piece__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_done_aligns_exactly_once(coding):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent transactions need PostgreSQL")
    interview = coding.interview
    tag(interview, coding.eva1, "learning rate", "suboptimal learning rate")
    tag(interview, coding.eva2, "training data", "small training set")
    in_threads(
        *[lambda u=u: services.coding_done(interview_id=interview.id, user=u) for u in (coding.eva1, coding.eva2)],
        together=True,
    )  # re-raises any thread's error
    assert Piece.objects.filter(interview=interview).count() == 2


# --- moderation and review --------------------------------------------------------------------------------


@pytest.fixture
def moderated(coding):
    interview = coding.interview
    tag(interview, coding.eva1, "learning rate was too high", "suboptimal learning rate")
    tag(interview, coding.eva2, "learning rate was too high", "suboptimal learning rate")
    tag(interview, coding.eva2, "labels were noisy", "noisy labels")
    services.coding_done(interview_id=interview.id, user=coding.eva1)
    services.coding_done(interview_id=interview.id, user=coding.eva2)
    coding.agreement, coding.one_sided = Piece.objects.order_by("position")
    return coding


def test_moderator_keeps_and_discards_and_the_stage_follows(moderated):
    m = moderated
    with pytest.raises(NotAllowed):
        services.piece_keep(piece_id=m.agreement.id, user=m.eva1, moderator_tag="x")
    services.piece_keep(piece_id=m.agreement.id, user=m.moderator, moderator_tag="suboptimal learning rate")
    m.interview.refresh_from_db()
    assert m.interview.stage == Interview.Stage.MODERATION
    services.piece_discard(piece_id=m.one_sided.id, user=m.moderator)
    m.interview.refresh_from_db()
    assert m.interview.stage == Interview.Stage.REVIEW
    final = FinalTag.objects.get()
    assert final.text == "suboptimal learning rate" and final.status == FinalTag.Status.PENDING
    services.final_tag_review(final_tag_id=final.id, user=m.moderator, status="accepted")
    m.interview.refresh_from_db()
    assert m.interview.stage == Interview.Stage.DONE
    with pytest.raises(InvalidInput):
        services.final_tag_review(final_tag_id=final.id, user=m.moderator, status="maybe")
    with pytest.raises(NotAllowed):
        services.final_tag_review(final_tag_id=final.id, user=m.eva1, status="removed")


def test_keeping_a_discarded_piece_again_and_changing_the_moderator_tag(moderated):
    m = moderated
    services.piece_keep(piece_id=m.one_sided.id, user=m.moderator, moderator_tag="noisy labels")
    services.piece_discard(piece_id=m.one_sided.id, user=m.moderator)
    assert not FinalTag.objects.exists()
    piece = Piece.objects.get(id=m.one_sided.id)
    assert piece.history[-1]["final_tag"] == "noisy labels"
    services.piece_keep(piece_id=m.one_sided.id, user=m.moderator, moderator_tag="wrong labels")
    services.piece_keep(piece_id=m.one_sided.id, user=m.moderator, moderator_tag="wrong labels in training data")
    assert FinalTag.objects.get().text == "wrong labels in training data"  # the final tag followed


def test_moderator_edits_any_final_tag_with_history(moderated):
    m = moderated
    services.piece_keep(piece_id=m.agreement.id, user=m.moderator, moderator_tag="suboptimal learning rate")
    final = FinalTag.objects.get()
    services.final_tag_edit(final_tag_id=final.id, user=m.moderator, text="suboptimal learning rate (high)")
    final.refresh_from_db()
    assert final.text == "suboptimal learning rate (high)" and final.history[0]["text"] == "suboptimal learning rate"
    with pytest.raises(NotAllowed):
        services.final_tag_edit(final_tag_id=final.id, user=m.eva2, text="x")
    with pytest.raises(InvalidInput):
        services.final_tag_edit(final_tag_id=final.id, user=m.moderator, text="  ")
    # Editing the moderator tag no longer changes a final tag that was edited on its own.
    services.piece_keep(piece_id=m.agreement.id, user=m.moderator, moderator_tag="high learning rate")
    final.refresh_from_db()
    assert final.text == "suboptimal learning rate (high)"
