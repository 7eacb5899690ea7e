"""Coding-sheet import: the study's real sheet, generated variants, bad input, the command."""

import io
import json

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from core.errors import InvalidInput
from core.models import Project
from interviews import selectors, services
from interviews.models import FinalTag, Interview, Piece
from interviews.sheets import header_key, match_header
from tests.interviews.factories import tag

pytestmark = pytest.mark.django_db

SHEET = "interviews/interview_open_coding_1-3.xlsx"


def xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def raw_expectations(path):
    """What the sheet says, read naively with openpyxl (independent of the importer)."""
    rows = [r for r in openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True)][1:]
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    status = [str(r[5]).strip() for r in rows]
    per = {}
    for r, s in zip(rows, status, strict=True):
        per.setdefault(int(r[0]), 0)
        per[int(r[0])] += s in ("A", "R")
    return {
        "pieces": len(rows),
        "accepted": status.count("A"),
        "removed": status.count("R"),
        "not_kept": status.count("-"),
        "per_interview": per,
    }


def test_the_studys_sheet(team, replication_dir):
    path = replication_dir / SHEET
    expected = raw_expectations(path)
    report = services.coding_sheet_import(
        project=team.project, user=team.lead, filename=path.name, data=path.read_bytes()
    )
    assert report["skipped"] == []
    assert report["columns"]["tag"] == " Tag"  # the leading space, as in the study's sheet
    assert report["tagged_pieces"] == expected["pieces"] == Piece.objects.count()
    assert report["accepted"] == expected["accepted"] and report["removed"] == expected["removed"]
    assert report["not_kept"] == expected["not_kept"]
    interviews = Interview.objects.filter(project=team.project).order_by("number")
    assert [i.number for i in interviews] == sorted(expected["per_interview"])
    assert all(not i.has_transcript and i.is_imported for i in interviews)
    row = selectors.interview_stats_row(team.project)
    assert row["analysed"] == expected["pieces"]
    assert row["final"] == expected["accepted"] + expected["removed"]
    assert row["relevant"] == expected["accepted"] and row["removed"] == expected["removed"]
    assert row["conflicts"] is None and row["disagreements"] is None  # not recorded by a sheet
    per = expected["per_interview"].values()
    assert row["final_per_interview"]["min"] == min(per) and row["final_per_interview"]["max"] == max(per)
    assert row["final_per_interview"]["mean"] == round(sum(per) / len(per), 2)
    # "a -> b" keeps b as the final tag and a in its history.
    changed = [f for f in FinalTag.objects.all() if f.history]
    assert [(f.history[0]["text"], f.text) for f in changed] == [
        ("wrong data conversion (wrong data representation)", "wrong data preprocessing")
    ]


def test_reimport_changes_nothing(team, replication_dir):
    data = (replication_dir / SHEET).read_bytes()
    services.coding_sheet_import(project=team.project, user=team.lead, filename="s.xlsx", data=data)
    before = list(Piece.objects.values_list("id", "decision", "moderator_tag", "updated_at").order_by("id"))
    finals = list(FinalTag.objects.values_list("id", "text", "status", "updated_at").order_by("id"))
    report = services.coding_sheet_import(project=team.project, user=team.lead, filename="s.xlsx", data=data)
    assert (report["pieces_created"], report["pieces_updated"], report["pieces_deleted"]) == (0, 0, 0)
    assert report["pieces_unchanged"] == len(before)
    assert list(Piece.objects.values_list("id", "decision", "moderator_tag", "updated_at").order_by("id")) == before
    assert list(FinalTag.objects.values_list("id", "text", "status", "updated_at").order_by("id")) == finals


def test_attaches_to_uploaded_transcripts_in_either_order(team, replication_dir):
    docx = replication_dir / "interviews" / "interview1.docx"
    services.interview_create(project=team.project, user=team.lead, filename=docx.name, data=docx.read_bytes())
    report = services.coding_sheet_import(
        project=team.project, user=team.lead, filename="s.xlsx", data=(replication_dir / SHEET).read_bytes()
    )
    assert report["attached_to_transcripts"] == [1]
    first = Interview.objects.get(project=team.project, number=1)
    assert first.has_transcript and first.pieces.exists()
    # A transcript uploaded after the import attaches to the record of the same number.
    docx2 = replication_dir / "interviews" / "interview2.docx"
    second = services.interview_create(
        project=team.project, user=team.lead, filename=docx2.name, data=docx2.read_bytes()
    )
    assert second.number == 2 and second.has_transcript and second.pieces.exists()
    assert Interview.objects.filter(project=team.project).count() == 3


HEADER_VARIANTS = [
    ["Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", " Tag", "Status"],
    ["interview number", "EVALUATOR1", "evaluator_2", "Moderator tags", "Final Tag", "status"],
    ["Interview", "Eval 1", "Eval 2", "Moderator", "Final label", "Decision"],
    ["Interview No.", "Evalutor 1", "Evaluater 2", "Moderator Lable", "Lable", "States"],
    ["  INTERVIEW  NUM ", "Evaluators 1", "Evaluators 2", "Moderator  Tag", "Tags", "Statuses"],
]


@pytest.mark.parametrize("headers", HEADER_VARIANTS, ids=lambda h: "|".join(h))
def test_header_variants(team, headers):
    rows = [
        headers,
        [1, "a", "b", "m", "final", "A"],
        [1, "-", "-", "m2", "final2", "R"],
        [2, "c", None, "-", "-", "-"],
    ]
    report = services.coding_sheet_import(project=team.project, user=team.lead, filename="v.xlsx", data=xlsx(rows))
    assert set(report["columns"]) == {"interview", "evaluator1", "evaluator2", "moderator_tag", "tag", "status"}
    assert (report["tagged_pieces"], report["accepted"], report["removed"], report["not_kept"]) == (3, 1, 1, 1)


def test_header_matching_rules():
    assert header_key(" Tag") == "tag" and header_key("Evaluator1") == "evaluator 1"
    assert match_header("Evaluator 2") == "evaluator2" and match_header("Evalutor 2") == "evaluator2"
    assert match_header("Status") == "status" and match_header("Notes") is None
    assert match_header("Taxonomy category") is None


def test_reordered_missing_and_extra_columns_blank_rows_and_carried_numbers(team):
    rows = [
        ["Notes", "Status", "Tag", "Interview Num", "Evaluator 2", "Evaluator 1"],  # no Moderator Tag column
        ["x", "A", "too many layers", 4, "excessive layers", "too many layers"],
        [None, None, None, None, None, None],
        ["", "R", "layers dimension mismatch", None, "-", "shape problem"],  # number carried from above
        ["", "", "", 5, "", ""],  # an interview with no tagged piece
        ["", "", "", 6, "", "only evaluator 1 tagged this"],  # no status: awaiting moderation
    ]
    report = services.coding_sheet_import(project=team.project, user=team.lead, filename="r.xlsx", data=xlsx(rows))
    assert report["tagged_pieces"] == 3 and report["interviews"] == 3
    assert any("Moderator Tag" in n for n in report["notes"])
    four = Interview.objects.get(number=4)
    assert list(four.final_tags.order_by("piece__position").values_list("text", "status")) == [
        ("too many layers", "accepted"),
        ("layers dimension mismatch", "removed"),
    ]
    assert Interview.objects.get(number=5).pieces.count() == 0
    six = Interview.objects.get(number=6)
    assert six.pieces.get().decision == "pending" and six.stage == Interview.Stage.MODERATION


def test_every_non_empty_row_is_a_piece_even_without_evaluator_tags_and_long_multiline_tags(team):
    long_tag = "missing preprocessing step\n(" + "very long explanation " * 20 + ")"
    rows = [
        ["Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", "Tag", "Status"],
        [1, "-", "-", "moderator only", "moderator only", "A"],
        [1, "", "", "", long_tag, "R"],
    ]
    report = services.coding_sheet_import(project=team.project, user=team.lead, filename="l.xlsx", data=xlsx(rows))
    assert report["tagged_pieces"] == 2 and report["final_tags"] == 2 and report["skipped"] == []
    assert FinalTag.objects.get(status="removed").text == long_tag.strip()


def test_bad_rows_are_skipped_with_their_row_numbers(team):
    rows = [
        ["Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", "Tag", "Status"],
        ["", "orphan", "", "", "", ""],  # no number and none above
        [1, "a", "b", "m", "t", "maybe"],  # unknown status
        [1, "a", "b", "", "", "A"],  # accepted without any tag
        ["one", "a", "b", "m", "t", "A"],  # not a number
        [2, "a", "b", "m", "t", "A"],
    ]
    report = services.coding_sheet_import(project=team.project, user=team.lead, filename="b.xlsx", data=xlsx(rows))
    assert [s["row"] for s in report["skipped"]] == [2, 3, 4, 5]
    assert "maybe" in report["skipped"][1]["reason"]
    assert report["tagged_pieces"] == 1 and Piece.objects.count() == 1


@pytest.mark.parametrize(
    "data,message",
    [(b"", "empty"), (b"PK\x03\x04 not really a zip", "not a readable"), (b"\n\n,,\n", "no data")],
)
def test_unreadable_or_empty_file_changes_nothing(team, data, message):
    name = "sheet.xlsx" if data.startswith(b"PK") else "sheet.csv"
    with pytest.raises(InvalidInput) as error:
        services.coding_sheet_import(project=team.project, user=team.lead, filename=name, data=data)
    assert message in error.value.message and error.value.field == "file"
    assert not Interview.objects.exists()


def test_a_sheet_without_an_interview_column_changes_nothing(team):
    data = xlsx([["Evaluator 1", "Evaluator 2", "Tag"], ["a", "b", "c"]])
    with pytest.raises(InvalidInput) as error:
        services.coding_sheet_import(project=team.project, user=team.lead, filename="n.xlsx", data=data)
    assert "Interview Num" in error.value.message
    assert not Interview.objects.exists()


def test_csv_with_bom_and_legacy_bytes(team):
    text = "Interview Num;Evaluator 1;Evaluator 2;Moderator Tag;Tag;Status\r\n1;caf\xe9 tag;-;m;final;A\r\n"
    report = services.coding_sheet_import(
        project=team.project, user=team.lead, filename="c.csv", data=b"\xef\xbb\xbf" + text.encode("utf-8")
    )
    assert report["accepted"] == 1 and Piece.objects.get().evaluator1_tag == "café tag"
    Piece.objects.all().delete()
    report = services.coding_sheet_import(
        project=team.project, user=team.lead, filename="c.csv", data=text.encode("cp1252")
    )
    assert report["accepted"] == 1 and Piece.objects.get().evaluator1_tag == "café tag"


def test_an_interview_coded_in_concord_is_not_overwritten(coding):
    tag(coding.interview, coding.eva1, "learning rate", "suboptimal learning rate")
    rows = [
        ["Interview Num", "Evaluator 1", "Evaluator 2", "Moderator Tag", "Tag", "Status"],
        [1, "a", "b", "m", "t", "A"],
    ]
    report = services.coding_sheet_import(project=coding.project, user=coding.lead, filename="c.xlsx", data=xlsx(rows))
    assert report["skipped"] == [{"row": 2, "reason": "interview 1 is being coded in Concord"}]
    assert not Piece.objects.exists()


def test_only_leads_import(team):
    rows = [["Interview Num", "Tag", "Status"], [1, "t", "A"]]
    from core.errors import NotAllowed

    with pytest.raises(NotAllowed):
        services.coding_sheet_import(project=team.project, user=team.moderator, filename="x.xlsx", data=xlsx(rows))


# --- the command ---------------------------------------------------------------------------------


def test_command_creates_the_project_and_prints_only_json(replication_dir, db, capsys):
    path = str(replication_dir / SHEET)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_interview_coding", "study-interviews", path, "--lead", "alice", stdout=out, stderr=err)
    report = json.loads(out.getvalue())
    project = Project.objects.get(slug="study-interviews")
    assert project.memberships.get().user.username == "alice"
    assert report["tagged_pieces"] == Piece.objects.filter(interview__project=project).count()
    assert "Created project" in err.getvalue()
    out = io.StringIO()
    call_command("import_interview_coding", "study-interviews", path, stdout=out, stderr=io.StringIO())
    again = json.loads(out.getvalue())
    assert again["pieces_unchanged"] == report["tagged_pieces"] and again["pieces_created"] == 0


def test_command_fails_cleanly_on_a_bad_file(tmp_path, db):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"")
    with pytest.raises(CommandError, match="empty"):
        call_command(
            "import_interview_coding", "p", str(bad), "--lead", "bob", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert not Project.objects.filter(slug="p").exists()  # nothing written, not even the project
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_interview_coding", "p", str(tmp_path / "missing.xlsx"), stdout=io.StringIO())


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["Tag", "Num", "Status"], "Evaluator 1, Evaluator 2"),  # a tag summary: its count is no interview number
        (["Tag", "NN+MM", "Status", "Notes"], "Interview Num, Evaluator 1, Evaluator 2"),
        (["Interview Num", "Evaluator 1", "Tag", "Status"], "required column Evaluator 2 missing"),
    ],
)
def test_a_sheet_without_the_required_columns_is_refused_naming_them(team, header, missing):
    rows = [header, ["wrong layer size", 12, "A"] + [""] * (len(header) - 3), ["slow training", 3, "R"]]
    with pytest.raises(InvalidInput, match="not an interview coding sheet") as error:
        services.coding_sheet_import(project=team.project, user=team.lead, filename="summary.xlsx", data=xlsx(rows))
    assert missing in error.value.message
    assert not Interview.objects.exists()
