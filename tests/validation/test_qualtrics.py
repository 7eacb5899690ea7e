"""Reading survey exports: Qualtrics (question text + ImportId rows, three header rows, legacy),
plain CSV, as CSV and XLSX; shortened group names; empty and "None" cells are no answer."""

from datetime import datetime

import pytest

from validation import qualtrics
from validation.qualtrics import ExportError, GroupAnswer, read_export

from .qualtrics_files import SurveyRows, as_csv, as_xlsx

LAYOUTS = ["text+importid", "three-row", "legacy", "plain"]
# names as exports shorten and decorate them
GROUPS = ["Hyperparameters", "OptimiserProblems", "Validation/Testing", "Model Type", "Loss Function"]


@pytest.mark.parametrize("writer", [as_csv, as_xlsx], ids=["csv", "xlsx"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_reads_back_what_was_answered(layout, writer):
    source = SurveyRows.random(GROUPS, n=21, seed=len(layout))
    export = read_export(writer(source.rows(layout)), "export.xlsx" if writer is as_xlsx else "export.csv")

    expected_layout = {"text+importid": "qualtrics", "three-row": "qualtrics"}.get(layout, layout)
    assert export.layout == ("qualtrics-legacy" if layout == "legacy" else expected_layout)
    assert export.groups == GROUPS
    assert [r.id for r in export.respondents] == [r.id for r in source.respondents]
    for got, want in zip(export.respondents, source.respondents, strict=True):
        assert got.date == datetime.fromisoformat(want.date)
        assert got.finished is True
        assert got.answers == {g: GroupAnswer(*want.answers[g]) for g in GROUPS}
        assert got.experience_years == float(want.experience)
        assert got.frameworks == [f.strip() for f in want.frameworks.replace(";", ",").split(",")]
    skipped = sum(v is None for r in source.respondents for a in r.answers.values() for v in a)
    assert skipped > 10  # the generated file has both empty and "None" cells to read as no answer


def test_header_rows_found_per_layout():
    source = SurveyRows.random(["Layers"], n=2, seed=1)
    assert qualtrics.header_layout(source.rows("text+importid")) == ("qualtrics", 2)
    assert qualtrics.header_layout(source.rows("three-row")) == ("qualtrics", 3)
    assert qualtrics.header_layout(source.rows("legacy")) == ("qualtrics-legacy", 2)
    assert qualtrics.header_layout(source.rows("plain")) == ("plain", 1)


def test_columns_know_their_group_and_question():
    source = SurveyRows.random(["Hyperparameters", "GPU Usage"], n=3, seed=2)
    export = read_export(as_csv(source.rows("three-row")))
    hyper = export.group_columns("Hyperparameters")
    assert {facet: c.key for facet, c in hyper.items()} == {
        "encountered": "Q10_1",
        "severity": "Q10_2",
        "effort": "Q10_3",
    }
    assert hyper["severity"].import_id == "QID10_2"
    assert export.background_questions == [
        "How many years of experience do you have in software development?",
        "Which deep learning frameworks have you used?",
    ]
    first = export.respondents[0]
    assert set(first.background) == set(export.background_questions)


def test_plain_csv_three_columns_per_category_named_once():
    """A hand-made CSV: the category named over its first column, the other two left blank."""
    rows = [
        ["Respondent", "Role", "Hyperparameters", "", "", "Training Data Quality", "", ""],
        ["p1", "Researcher", "Yes", "Major", "High", "No", "", ""],
        ["p2", "Developer", "yes", "None", "low", "", "", ""],
        ["p3", "", "No", "", "", "Yes", "Critical", "Medium"],
    ]
    export = read_export(as_csv(rows))
    assert export.layout == "plain"
    assert export.groups == ["Hyperparameters", "Training Data Quality"]
    p1, p2, p3 = export.respondents
    assert p1.answers["Hyperparameters"] == GroupAnswer("Yes", "Major", "High")
    assert p2.answers["Hyperparameters"] == GroupAnswer("yes", None, "low")
    assert p2.answers["Training Data Quality"].is_empty
    assert p3.answers["Training Data Quality"] == GroupAnswer("Yes", "Critical", "Medium")
    assert p1.role == "Researcher" and p3.role == ""
    assert [r.date for r in export.respondents] == [None, None, None]


def test_plain_csv_with_question_headers_and_semicolons():
    text = (
        "ID;Layers - encountered;Layers - severity;Layers - effort;Missing faults\n"
        "7;No;;;none\n"
        "8;Yes;Minor;Low;Silent NaN\n"
    )
    export = read_export(text.encode("cp1252"))
    assert export.groups == ["Layers"]
    assert [r.id for r in export.respondents] == ["7", "8"]
    assert export.respondents[0].background == {}
    assert export.respondents[1].background == {"Missing faults": "Silent NaN"}


def test_facet_from_values_when_the_header_does_not_say():
    rows = [
        ["ResponseId", "Layers_1", "Layers_2", "Layers_3", "API_1", "API_2", "API_3"],
        ["a", "Yes", "Critical", "High", "No", None, None],
        ["b", "No", None, None, "Yes", "Minor", "Low"],
    ]
    export = read_export(as_xlsx(rows), "x.xlsx")
    assert export.groups == ["Layers", "API"]
    assert export.respondents[1].answers["API"] == GroupAnswer("Yes", "Minor", "Low")


def test_duplicate_respondent_rows_are_reported_and_skipped():
    rows = [["ResponseId", "Layers_1", "Layers_2", "Layers_3"], ["a", "Yes", "Minor", "Low"], ["a", "No", "", ""]]
    export = read_export(as_csv(rows))
    assert [r.id for r in export.respondents] == ["a"]
    assert export.respondents[0].answers["Layers"].encountered == "Yes"
    assert "appears twice" in export.warnings[0]


def test_rows_without_an_id_are_numbered_by_their_row():
    rows = [["Layers_1", "Layers_2", "Layers_3"], ["Yes", "Minor", "Low"], [None, None, None], ["No", "", ""]]
    export = read_export(as_xlsx(rows), "x.xlsx")
    assert [r.id for r in export.respondents] == ["row-2", "row-4"]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"a,b\n1,2\n", "No category questions"),
        (b"PK\x03\x04garbage", "Not a readable XLSX"),
        (b"a\x00b", "not text"),
    ],
)
def test_unreadable_files_say_why(data, message):
    with pytest.raises(ExportError, match=message):
        read_export(data)


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("", None),
        ("None", None),
        (" none ", None),
        ("-", None),
        ("N/A", None),
        (" Yes ", "Yes"),
        (3.0, "3"),
    ],
)
def test_answer_values(value, expected):
    assert qualtrics.answer_value(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [("major", "Major"), ("Major (hard to find)", "Major"), ("MINOR", "Minor"), ("Big", None), (None, None)],
)
def test_match_choice(value, expected):
    assert qualtrics.match_choice(value, ["Minor", "Major", "Critical"]) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("5", 5.0),
        ("5 years", 5.0),
        ("2,5", 2.5),
        ("3-5", 4.0),
        ("10+", 10.0),
        ("<1", 0.5),
        ("6 months", 0.5),
        ("", None),
        ("many", None),
    ],
)
def test_years(text, expected):
    assert qualtrics.years(text) == expected


def test_dates_in_the_formats_exports_use():
    assert qualtrics.parse_date("2019-03-04 10:11:12") == datetime(2019, 3, 4, 10, 11, 12)
    assert qualtrics.parse_date("3/4/2019 10:11") == datetime(2019, 3, 4, 10, 11)
    assert qualtrics.parse_date(datetime(2019, 3, 4)) == datetime(2019, 3, 4)
    assert qualtrics.parse_date("yesterday") is None
