"""Exports: the coding sheet round trip, transcripts (pseudonymised), the export command."""

import io
import json

import openpyxl
import pytest
from django.core.management import call_command

from interviews import exports, selectors, services
from interviews.sheets import HEADERS
from tests.factories import ProjectFactory, member
from tests.interviews.factories import tag, upload

pytestmark = pytest.mark.django_db

SHEET = "interviews/interview_open_coding_1-3.xlsx"
COMPARED = ("analysed", "final", "removed", "relevant", "final_per_interview", "not_kept", "pending_review")


def fresh_project():
    project = ProjectFactory()
    return project, member(project, lead=True)


def test_round_trip_of_the_studys_sheet(replication_dir):
    first, lead = fresh_project()
    services.coding_sheet_import(
        project=first, user=lead, filename="s.xlsx", data=(replication_dir / SHEET).read_bytes()
    )
    exported = exports.coding_sheet(project=first, fmt="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(exported)).worksheets[0]
    assert [c.value for c in sheet[1]] == list(HEADERS)
    second, lead2 = fresh_project()
    services.coding_sheet_import(project=second, user=lead2, filename="e.xlsx", data=exported)
    one, two = selectors.interview_stats_row(first), selectors.interview_stats_row(second)
    assert {k: one[k] for k in COMPARED} == {k: two[k] for k in COMPARED}
    assert exports.coding_sheet_rows(project=first) == exports.coding_sheet_rows(project=second)
    # CSV too.
    third, lead3 = fresh_project()
    services.coding_sheet_import(
        project=third, user=lead3, filename="e.csv", data=exports.coding_sheet(project=first, fmt="csv")
    )
    assert exports.coding_sheet_rows(project=third) == exports.coding_sheet_rows(project=first)


def test_round_trip_of_coding_done_in_concord(coding):
    i = coding.interview
    tag(i, coding.eva1, "learning rate was too high", "suboptimal learning rate")
    tag(i, coding.eva2, "learning rate was too high", "suboptimal learning rate")
    tag(i, coding.eva1, "not have enough training data", "not enough training data")
    tag(i, coding.eva2, "enough training data", "small training set")
    tag(i, coding.eva2, "labels were noisy", "noisy labels")
    services.coding_done(interview_id=i.id, user=coding.eva1)
    services.coding_done(interview_id=i.id, user=coding.eva2)
    agreement, conflict, one_sided = i.pieces.order_by("position")
    services.piece_keep(piece_id=agreement.id, user=coding.moderator, moderator_tag="suboptimal learning rate")
    services.piece_keep(piece_id=conflict.id, user=coding.moderator, moderator_tag="not enough training data")
    services.piece_discard(piece_id=one_sided.id, user=coding.moderator)
    finals = list(i.final_tags.order_by("piece__position"))
    services.final_tag_edit(final_tag_id=finals[1].id, user=coding.moderator, text="small training set")
    services.final_tag_review(final_tag_id=finals[0].id, user=coding.moderator, status="accepted")
    services.final_tag_review(final_tag_id=finals[1].id, user=coding.moderator, status="removed")
    rows = exports.coding_sheet_rows(project=coding.project)
    slr, nee = "suboptimal learning rate", "not enough training data"
    assert rows == [
        [1, slr, slr, slr, slr, "A"],
        [1, nee, "small training set", nee, f"{nee} -> small training set", "R"],
        [1, "-", "noisy labels", "-", "-", "-"],
    ]
    other, lead = fresh_project()
    services.coding_sheet_import(
        project=other, user=lead, filename="e.xlsx", data=exports.coding_sheet(project=coding.project)
    )
    one, two = selectors.interview_stats_row(coding.project), selectors.interview_stats_row(other)
    assert {k: one[k] for k in COMPARED} == {k: two[k] for k in COMPARED}
    assert one["conflicts"] == 1 and two["conflicts"] is None  # the sheet does not record it
    assert exports.coding_sheet_rows(project=other) == rows


def test_transcript_exports_and_pseudonymised_speakers(team):
    paragraphs = [
        ("Alice Smith", "Hello Bob, thanks for joining. Alice here again."),
        ("Bob Jones", "Hi Alice. We trained with Keras."),
        ("Interviewer2", "Any bugs, Bob?"),
    ]
    interview = upload(team.project, team.lead, number=3, paragraphs=paragraphs, interviewers="Alice Smith")
    plain, _ = exports.transcript_export(interview=interview, fmt="txt")
    assert plain.decode().startswith("Alice Smith: Hello Bob")
    doc = json.loads(exports.transcript_export(interview=interview, fmt="json", pseudonymise=True)[0])
    assert doc["speakers"] == ["Participant 1", "Participant 2", "Interviewer2"]
    text = " ".join(p["text"] for p in doc["paragraphs"])
    assert "Alice" not in text and "Bob" not in text and "Keras" in text
    assert doc["interviewers"] == "[withheld]"
    assert doc["paragraphs"][0]["text"] == "Hello Participant 2, thanks for joining. Participant 1 here again."


def test_markdown_export_reads_back_as_the_same_transcript(team):
    interview = upload(team.project, team.lead, number=1, interviewee_profile="ML engineer", duration="50 min")
    content, _ = exports.transcript_export(interview=interview, fmt="md")
    other, lead = fresh_project()
    again = services.interview_create(project=other, user=lead, filename="interview1.md", data=content)
    assert again.text == interview.text
    assert [p["speaker"] for p in selectors.paragraphs(interview=again)] == [
        p["speaker"] for p in selectors.paragraphs(interview=interview)
    ]
    assert again.interviewee_profile == "ML engineer" and again.duration == interview.duration


def test_export_command_writes_the_sheet_and_pseudonymised_transcripts(coding, tmp_path, replication_dir):
    services.coding_sheet_import(
        project=coding.project, user=coding.lead, filename="s.xlsx", data=(replication_dir / SHEET).read_bytes()
    )
    out = tmp_path / "coding.csv"
    err = io.StringIO()
    call_command(
        "export_interview_coding",
        coding.project.slug,
        "--output",
        str(out),
        "--transcripts",
        str(tmp_path / "t"),
        "--pseudonymise",
        stderr=err,
    )
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == ",".join(HEADERS)
    assert len(lines) - 1 == selectors.interview_stats_row(coding.project)["analysed"]
    assert (tmp_path / "t" / "interview1.txt").read_text().startswith("Interviewer1: ")


def test_xlsx_keeps_a_tag_typed_as_a_formula_as_text():
    first, lead = fresh_project()
    rows = [list(HEADERS), [1, "=1+1", "-", "=SUM(A1)", "=SUM(A1)", "A"]]
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    for cell in ("B2", "D2", "E2"):
        workbook.active[cell].data_type = "s"  # the input sheet holds them as text
    out = io.BytesIO()
    workbook.save(out)
    services.coding_sheet_import(project=first, user=lead, filename="s.xlsx", data=out.getvalue())
    exported = exports.coding_sheet(project=first, fmt="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(exported)).worksheets[0]
    cells = [(c.value, c.data_type) for c in sheet[2]]
    assert cells[1] == ("=1+1", "s") and cells[3] == cells[4] == ("=SUM(A1)", "s")
    second, lead2 = fresh_project()
    services.coding_sheet_import(project=second, user=lead2, filename="e.xlsx", data=exported)
    assert exports.coding_sheet_rows(project=second) == exports.coding_sheet_rows(project=first)
