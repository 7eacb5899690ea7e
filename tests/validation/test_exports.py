"""Table 2 files (CSV, XLSX, LaTeX, Markdown, JSON, text) and the survey_results command."""

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from reports.selectors import survey_table2, survey_table2_xlsx
from reports.table2 import render

from .factories import SurveyCategoryFactory, respond, survey_with_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey():
    """Two respondents; a tricky category name; a sub-category; one category nobody answered."""
    s, (a, b) = survey_with_categories(n=2, title="DL faults & 100% real_data")
    a.name, a.path = "Tensors | Inputs & 50% {shape}_x", ["Tensors | Inputs & 50% {shape}_x"]
    a.save()
    sub = SurveyCategoryFactory(
        survey=s, position=3, code="1.1", name="Wrong shape", path=[a.name, "Wrong shape"], level=2
    )
    b.position, b.code = 4, "2"
    b.save()
    respond(s, {a: (True, 4, 3), sub: (True, 2, 2, "often"), b: (False, None, None)}, missing="Leaky | data")
    respond(s, {a: (False, None, None), sub: (True, 5, 4), b: (False, None, None)}, role="student", frameworks=["JAX"])
    return s


def table(survey, fmt):
    built = survey_table2_xlsx(survey) if fmt == "xlsx" else survey_table2(survey)
    return render(built, fmt)


def test_csv(survey):
    content, content_type, ext = table(survey, "csv")
    assert (content_type, ext) == ("text/csv; charset=utf-8", "csv")
    rows = list(csv.reader(io.StringIO(content.decode())))
    levels = ["1 (%)", "2 (%)", "3 (%)", "4 (%)", "5 (%)"]  # the fixture's survey rates 1–5
    assert rows[0] == [
        "Code",
        "Category",
        "Yes (%)",
        "No (%)",
        "n (encountered)",
        *levels,
        "n (severity)",
        *levels,
        "n (effort)",
    ]
    assert rows[1] == [
        "1",
        "Tensors | Inputs & 50% {shape}_x",
        "50",
        "50",
        "2",
        "0",
        "0",
        "0",
        "100",
        "0",
        "1",
        "0",
        "0",
        "100",
        "0",
        "0",
        "1",
    ]
    assert rows[2] == [
        "1.1",
        "Wrong shape",
        "100",
        "0",
        "2",
        "0",
        "50",
        "0",
        "0",
        "50",
        "2",
        "0",
        "50",
        "0",
        "50",
        "0",
        "2",
    ]
    assert rows[3][:5] == ["2", survey.categories.get(code="2").name, "0", "100", "2"]
    assert rows[3][5:] == ["", "", "", "", "", "0", "", "", "", "", "", "0"]  # no base, no percentages


def test_columns_follow_the_questions_asked(survey):
    survey.ask_effort = False
    built = survey_table2(survey)
    assert [c[0] for c in built.columns()][-1] == "Severity"
    assert all(len(built.values(r)) == len(built.columns()) for r in built.rows)


def test_xlsx(survey):
    content, content_type, ext = table(survey, "xlsx")
    assert ext == "xlsx" and content_type.startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Table 2", "Counts", "Missing faults", "Comments", "Respondents"]
    rows = [list(r) for r in book["Table 2"].iter_rows(values_only=True)]
    assert rows[1][:5] == ["Code", "Category", "Yes", "No", "n"]
    assert rows[2][:5] == ["1", "Tensors | Inputs & 50% {shape}_x", 50, 50, 2]
    counts = [list(r) for r in book["Counts"].iter_rows(values_only=True)]
    assert counts[2][:4] == ["1.1", "Wrong shape", 2, 0]
    missing = list(book["Missing faults"].iter_rows(values_only=True))
    assert missing[1][2] == "Leaky | data"
    comments = list(book["Comments"].iter_rows(values_only=True))
    assert comments[1] == ("1.1", "Wrong shape", "yes", "often")
    people = {r[0]: r[1] for r in book["Respondents"].iter_rows(values_only=True) if r and r[0]}
    assert people["Respondents (submitted)"] == 2
    assert people["Student"] == 1 and people["JAX"] == 1


def test_latex_booktabs(survey):
    text = table(survey, "latex")[0].decode()
    assert text.startswith("\\begin{table}")
    for rule in ("\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}{llrrrrrrrrrrrrrrr}"):
        assert rule in text
    assert "DL faults \\& 100\\% real\\_data (2 respondents)" in text
    assert "1 & Tensors | Inputs \\& 50\\% \\{shape\\}\\_x & 50\\% & 50\\% & 2 & " in text
    assert "\\cmidrule(lr){3-5}\\cmidrule(lr){6-11}\\cmidrule(lr){12-17}" in text
    assert " & 0\\% & 100\\% & 2 & -- & -- & -- & -- & -- & 0 & " in text


def test_markdown(survey):
    text = table(survey, "markdown")[0].decode()
    lines = text.splitlines()
    assert lines[0] == "**DL faults & 100% real\\_data** (2 respondents)"
    assert lines[2].startswith("| Code | Category | Yes | No | n (encountered) | 1 | 2 |")
    assert lines[4].startswith("| 1 | Tensors \\| Inputs & 50% {shape}\\_x | 50% | 50% | 2 | 0% |")
    assert "| 0 |" in lines[6] and "| – |" in lines[6]


def test_json_and_text(survey):
    data = json.loads(table(survey, "json")[0])
    assert list(data) == ["rows"]
    assert [(r["code"], r["yes"], r["n_encountered"], r["n_severity"]) for r in data["rows"]] == [
        ("1", 50, 2, 1),
        ("1.1", 100, 2, 2),
        ("2", 0, 2, 0),
    ]
    assert data["rows"][1]["counts"]["severity_5"] == 1 and data["rows"][1]["severity_5"] == 50
    text = table(survey, "table")[0].decode()
    assert text.splitlines()[0] == "DL faults & 100% real_data: 2 respondents"
    assert "100%" in text


def test_command(survey, capsys, tmp_path):
    slug = survey.project.slug
    call_command("survey_results", slug, "--format", "csv")
    out = capsys.readouterr().out
    # the paper's layout: Yes %, No %, n, then each level's % and n (the fixture's survey rates 1–5)
    assert out.splitlines()[0].startswith("Code,Category,Yes (%),No (%),n (encountered),1 (%),")
    assert out.splitlines()[2].startswith("1.1,Wrong shape,100,0,2,")
    call_command("survey_results", slug, "--format", "json", "--survey", str(survey.id))
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert {r["code"]: r["n_encountered"] for r in rows}["1.1"] == 2
    call_command("survey_results", slug, "--format", "latex")
    assert "\\toprule" in capsys.readouterr().out
    call_command("survey_results", slug, "--format", "markdown")
    assert capsys.readouterr().out.startswith("**DL faults")
    call_command("survey_results", slug)
    assert "respondents" in capsys.readouterr().out
    target = tmp_path / "t2.xlsx"
    call_command("survey_results", slug, "--format", "xlsx", "--output", str(target))
    assert openpyxl.load_workbook(target).sheetnames[0] == "Table 2"


def test_command_errors(survey):
    with pytest.raises(CommandError, match="No project"):
        call_command("survey_results", "nope")
    with pytest.raises(CommandError, match="needs --output"):
        call_command("survey_results", survey.project.slug, "--format", "xlsx")
    with pytest.raises(CommandError, match="No survey"):
        call_command("survey_results", survey.project.slug, "--survey", "999999")
    from tests.factories import ProjectFactory

    with pytest.raises(CommandError, match="no survey yet"):
        call_command("survey_results", ProjectFactory().slug)


def test_xlsx_keeps_respondents_text_as_text(db):
    s, (a,) = survey_with_categories(n=1)
    a.name = "=SUM(A1:A2)"
    a.save()
    respond(s, {a: (True, 1, 1, '=HYPERLINK("http://example.org","x")')}, missing="=1+1")
    book = openpyxl.load_workbook(io.BytesIO(table(s, "xlsx")[0]))
    assert book["Table 2"]["B3"].value == "=SUM(A1:A2)" and book["Table 2"]["B3"].data_type == "s"
    assert book["Missing faults"]["C2"].value == "=1+1" and book["Missing faults"]["C2"].data_type == "s"
    assert book["Comments"]["D2"].data_type == "s"
