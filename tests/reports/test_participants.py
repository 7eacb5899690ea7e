"""Participant spreadsheets (tolerant headers) and the participants summary table."""

import csv
import io
import json

import openpyxl
import pytest

from reports.participants import framework_counts, participants_summary, render_csv, render_json, render_markdown
from validation.participants import Participant, read_participants, role_of
from validation.qualtrics import ExportError


def workbook(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_reads_both_study_sheets_with_their_own_headers():
    data = workbook(
        {
            "Interviewees": [
                ["Participants of the interviews"],  # a title row above the header
                [],
                ["Interviewee", "Role ", "Overall Experience (years)", "Experience in DL", "Frameworks used"],
                ["P1", "PhD student", 6, "2", "Keras, TensorFlow"],
                ["P2", "Software engineer in industry", "10+", "3-5", "pytorch; tf"],
                ["P3", "Researcher", None, "-", "None"],
            ],
            "Survey respondents": [
                ["Response ID", "Position", "years of experience", "DL years", "Libraries"],
                ["R_1", "Developer", "4 years", "6 months", "Keras"],
                [None, None, None, None, None],
                ["R_2", "Professor and consultant", 20, 8, "TensorFlow and Keras"],
            ],
        }
    )
    people = read_participants(data, "participants.xlsx")
    assert [(p.id, p.kind, p.role) for p in people] == [
        ("P1", "interviewee", "researcher"),
        ("P2", "interviewee", "practitioner"),
        ("P3", "interviewee", "researcher"),
        ("R_1", "respondent", "practitioner"),
        ("R_2", "respondent", ""),  # both named: not guessed
    ]
    p1, p2, p3, r1, r2 = people
    assert (p1.experience_years, p1.dl_experience_years, p1.frameworks) == (6.0, 2.0, ["Keras", "TensorFlow"])
    assert (p2.experience_years, p2.dl_experience_years, p2.frameworks) == (10.0, 4.0, ["PyTorch", "TensorFlow"])
    assert (p3.experience_years, p3.dl_experience_years, p3.frameworks) == (None, None, [])
    assert (r1.experience_years, r1.dl_experience_years) == (4.0, 0.5)
    assert r2.role_text == "Professor and consultant" and r2.frameworks == ["TensorFlow", "Keras"]
    assert (p1.sheet, p1.row) == ("Interviewees", 4)


def test_csv_with_a_kind_column_and_a_default():
    text = "ID,Type,Role,Experience\n1,interview,Researcher,3\n2,,Practitioner,5\n"
    people = read_participants(text.encode(), "p.csv", default_kind="respondent")
    assert [(p.id, p.kind) for p in people] == [("1", "interviewee"), ("2", "respondent")]


def test_no_recognisable_header_is_refused():
    with pytest.raises(ExportError, match="No participants found"):
        read_participants(b"foo,bar\n1,2\n", "p.csv")


@pytest.mark.parametrize(
    "text, role",
    [
        ("Researcher", "researcher"),
        ("Academia", "researcher"),
        ("ML engineer", "practitioner"),
        ("", ""),
        ("Other", ""),
    ],
)
def test_roles(text, role):
    assert role_of(text) == role


def people():
    p = Participant
    return [
        p("i1", "interviewee", "researcher", experience_years=3, dl_experience_years=1, frameworks=["Keras"]),
        p(
            "i2",
            "interviewee",
            "researcher",
            experience_years=9,
            dl_experience_years=2,
            frameworks=["Keras", "PyTorch"],
        ),
        p("i3", "interviewee", "practitioner", experience_years=5, dl_experience_years=None, frameworks=["PyTorch"]),
        p("i4", "interviewee", "practitioner", experience_years=4, dl_experience_years=3),
        p("r1", "respondent", "practitioner", experience_years=None, dl_experience_years=None),
        p("r2", "respondent", "", experience_years=12, dl_experience_years=4, frameworks=["Keras"]),
    ]


def test_summary_counts_per_role_and_spread_of_experience():
    rows = {(r.kind, r.role): r for r in participants_summary(people())}
    assert list(rows) == [
        ("interviewee", "researcher"),
        ("interviewee", "practitioner"),
        ("interviewee", None),
        ("respondent", "practitioner"),
        ("respondent", ""),
        ("respondent", None),
    ]
    assert rows["interviewee", "researcher"].n == 2
    assert rows["interviewee", "researcher"].experience == (3, 6, 9)
    assert rows["interviewee", None].experience == (3, 4.5, 9)
    assert rows["interviewee", None].dl_experience == (1, 2, 3)
    assert rows["respondent", "practitioner"].experience == (None, None, None)
    assert framework_counts(people()) == [("Keras", 3), ("PyTorch", 2)]


def test_summary_renderings():
    rows = participants_summary(people())
    table = list(csv.reader(io.StringIO(render_csv(rows))))
    assert table[0][:3] == ["Participants", "Role", "n"]
    assert table[3] == ["Interviewees", "All", "4", "3", "4.5", "9", "1", "2", "3"]
    assert table[4] == ["Survey respondents", "Practitioners", "1", "", "", "", "", "", ""]
    assert "| Interviewees | Researchers | 2 | 3 | 6 | 9 | 1 | 1.5 | 2 |" in render_markdown(rows)
    data = json.loads(render_json(rows, framework_counts(people())))
    assert data["rows"][2] == {
        "kind": "interviewee",
        "role": "all",
        "n": 4,
        "experience": {"min": 3, "median": 4.5, "max": 9},
        "dl_experience": {"min": 1, "median": 2, "max": 3},
    }
    assert data["frameworks"][0] == {"name": "Keras", "n": 3}
