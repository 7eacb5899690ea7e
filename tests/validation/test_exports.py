"""Table 2 files (CSV, XLSX, LaTeX, Markdown, JSON, text) and the survey_results command."""

import csv
import io
import json

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from validation import exports
from validation.selectors import survey_results

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


def test_csv(survey):
    content, content_type, ext = exports.render(survey_results(survey), "csv")
    assert (content_type, ext) == ("text/csv; charset=utf-8", "csv")
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["Code", "Category", "Level", "Respondents", "Yes", "Yes (%)", "Mean severity", "Mean effort"]
    assert rows[1] == ["1", "Tensors | Inputs & 50% {shape}_x", "1", "2", "1", "50.0", "4.0", "3.0"]
    assert rows[2] == ["1.1", "Wrong shape", "2", "2", "2", "100.0", "3.5", "3.0"]
    assert rows[3] == ["2", survey.categories.get(code="2").name, "1", "2", "0", "0.0", "", ""]


def test_columns_follow_the_questions_asked(survey):
    survey.ask_effort = False
    headings, rows = exports.cells(survey_results(survey))
    assert headings[-1] == "Mean severity"
    assert all(len(r) == len(headings) for r in rows)


def test_xlsx(survey):
    content, content_type, ext = exports.render(survey_results(survey), "xlsx")
    assert ext == "xlsx" and content_type.startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["Table 2", "Missing faults", "Comments", "Respondents"]
    table = [list(r) for r in book["Table 2"].iter_rows(values_only=True)]
    assert table[0][:6] == ["Code", "Category", "Level", "Respondents", "Yes", "Yes (%)"]
    assert table[1] == ["1", "Tensors | Inputs & 50% {shape}_x", 1, 2, 1, 50, 4, 3]
    assert table[3][-2:] == [None, None]
    missing = list(book["Missing faults"].iter_rows(values_only=True))
    assert missing[1][3] == "Leaky | data"
    comments = list(book["Comments"].iter_rows(values_only=True))
    assert comments[1] == ("1.1", "Wrong shape", "yes", "often")
    people = {r[0]: r[1] for r in book["Respondents"].iter_rows(values_only=True) if r and r[0]}
    assert people["Respondents (submitted)"] == 2
    assert people["Student"] == 1 and people["JAX"] == 1


def test_latex_booktabs(survey):
    text = exports.render(survey_results(survey), "latex")[0].decode()
    assert text.startswith("\\begin{table}")
    for rule in ("\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}{llrrrrr}"):
        assert rule in text
    assert "DL faults \\& 100\\% real\\_data (2 respondents)" in text
    assert "Code & Category & Respondents & Yes & Yes (\\%) & Mean severity & Mean effort \\\\" in text
    assert "1 & Tensors | Inputs \\& 50\\% \\{shape\\}\\_x & 2 & 1 & 50.0 & 4.0 & 3.0 \\\\" in text
    assert "1.1 & \\quad Wrong shape & 2 & 2 & 100.0 & 3.5 & 3.0 \\\\" in text
    assert " & 0 & 0.0 & -- & -- \\\\" in text
    body = text.split("\\midrule", 1)[1]
    assert "\\midrule" in body  # a rule before the second top-level category


def test_markdown(survey):
    text = exports.render(survey_results(survey), "markdown")[0].decode()
    lines = text.splitlines()
    assert lines[0] == "**DL faults & 100% real_data** (2 respondents)"
    assert lines[2] == "| Code | Category | Level | Respondents | Yes | Yes (%) | Mean severity | Mean effort |"
    assert lines[3] == "|:---|:---|---:|---:|---:|---:|---:|---:|"
    assert lines[4] == "| 1 | Tensors \\| Inputs & 50% {shape}_x | 1 | 2 | 1 | 50.0 | 4.0 | 3.0 |"
    assert lines[6].endswith("| 0 | 0.0 | – | – |")
    assert "- Leaky \\| data" in lines


def test_json_and_text(survey):
    data = json.loads(exports.render(survey_results(survey), "json")[0])
    assert data["respondents"] == 2
    assert [r["yes_percent"] for r in data["rows"]] == [50.0, 100.0, 0.0]
    text = exports.render(survey_results(survey), "table")[0].decode()
    assert "Yes (%)" in text.splitlines()[2]
    assert "100.0" in text


def test_command(survey, capsys, tmp_path):
    slug = survey.project.slug
    call_command("survey_results", slug, "--format", "csv")
    out = capsys.readouterr().out
    assert out.splitlines()[2].startswith("1.1,Wrong shape,2,2,2,100.0")
    call_command("survey_results", slug, "--format", "json", "--survey", str(survey.id))
    assert json.loads(capsys.readouterr().out)["survey"]["id"] == survey.id
    call_command("survey_results", slug, "--format", "latex")
    assert "\\toprule" in capsys.readouterr().out
    call_command("survey_results", slug, "--format", "markdown")
    assert capsys.readouterr().out.startswith("**DL faults")
    call_command("survey_results", slug)
    assert "Respondents" in capsys.readouterr().out
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
    book = openpyxl.load_workbook(io.BytesIO(exports.render(survey_results(s), "xlsx")[0]))
    assert book["Table 2"]["B2"].value == "=SUM(A1:A2)" and book["Table 2"]["B2"].data_type == "s"
    assert book["Missing faults"]["D2"].value == "=1+1" and book["Missing faults"]["D2"].data_type == "s"
    assert book["Comments"]["D2"].data_type == "s"
